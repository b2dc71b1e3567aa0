"""Loading models offline: checkpoints (diffusers folders or single files), split parts (VAE, UNet,
CLIP), LoRAs; and the weight counts the memory plan reads from file headers."""
