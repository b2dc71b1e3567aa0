"""Latents: empty ones, resizing, noise masks, batches and composites.

LATENT, the value these nodes pass on, is a dict, as in ComfyUI:
  "samples"      [B, C, h, w] (a video's [B, C, frames, h, w]: `nodes.latent._frames`), scaled;
  "latent_dist"  optional {"mean", "std", "scaling_factor", "shift_factor"} of the VAE encoder's posterior (latents are
                 (sample - shift) * scaling; the shift is 0 for SD). The sampler draws the image latents from it with
                 the seed's generator, before the noise, exactly as diffusers' img2img and inpaint pipelines do (their
                 pixels then match ours); "samples" holds the posterior mean for everything else;
  "masked_dist"  optional, the same for the image with the masked pixels blanked (VAE Encode for
                 Inpaint): the extra input of a 9-channel inpainting UNet;
  "noise_mask"   optional [B, 1, H, W] in [0, 1], 1 = repaint, any resolution (resized to the
                 latent size when sampling).
"""
