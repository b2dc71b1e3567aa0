"""Latents: empty ones, resizing, noise masks, batches and composites."""
