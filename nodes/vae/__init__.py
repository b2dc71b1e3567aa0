"""VAE nodes: latents to pixels and back, tiled, and the masked encode inpainting needs."""
