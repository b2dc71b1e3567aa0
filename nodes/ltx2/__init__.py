"""LTX-2 (Lightricks' video + audio model): its latents, conditioning and audio nodes."""
