"""A tiny Qwen-Image Layered (QwenImageLayeredPipeline folder): the layer rope and RGBA timestep
embedding switched on, its 4-channel (RGBA) video VAE, the tiny Qwen2.5-VL of `tiny_flow`; no
processor, which only captions a picture given without a prompt."""

from __future__ import annotations

from pathlib import Path


def build_qwen_image_layered(folder: Path, *, seed: int = 0, real_heads: bool = False) -> Path:
    """Write the pipeline folder: a 1-block transformer of two 16-wide heads (or one of the real 128 width and
    rope axes, with the real-width Qwen2.5-VL heads, so lone files of them load with the shipped configs), an
    8x RGBA VAE (Empty Qwen Image Layered Latent makes 8x latents, as ComfyUI's)."""
    import torch
    from diffusers import (
        AutoencoderKLQwenImage,
        FlowMatchEulerDiscreteScheduler,
        QwenImageLayeredPipeline,
        QwenImageTransformer2DModel,
    )
    from tiny_flow import QWEN_IMAGE_SCHEDULER, _randomize_zero_inits, qwen25_vl_encoder, qwen_tokenizer

    torch.manual_seed(seed)
    tokenizer = qwen_tokenizer(folder / "tokenizer", vision=True)
    heads = dict(attention_head_dim=128, num_attention_heads=1, axes_dims_rope=(16, 56, 56)) if real_heads else \
        dict(attention_head_dim=16, num_attention_heads=2, axes_dims_rope=(4, 6, 6))
    width = 128 if real_heads else 32
    transformer = QwenImageTransformer2DModel(patch_size=2, in_channels=64, out_channels=16, num_layers=1,
                                              joint_attention_dim=width, use_additional_t_cond=True,
                                              use_layer3d_rope=True, **heads)
    _randomize_zero_inits(transformer)
    vae = AutoencoderKLQwenImage(base_dim=16, z_dim=16, input_channels=4)  # the real 8x levels, a sixth as wide
    pipe = QwenImageLayeredPipeline(scheduler=FlowMatchEulerDiscreteScheduler(**QWEN_IMAGE_SCHEDULER), vae=vae,
                                    text_encoder=qwen25_vl_encoder(tokenizer, width, real_heads), tokenizer=tokenizer,
                                    processor=None, transformer=transformer)  # it captions no picture here
    pipe.save_pretrained(folder)
    return folder
