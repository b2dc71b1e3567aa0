"""Pictures: load, save (with the workflow embedded), preview, scale, crop, pad, batch, and upscale
models."""
