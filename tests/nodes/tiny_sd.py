"""A tiny random-initialised Stable Diffusion, written as a diffusers folder (no downloads).

UNet (32, 64) channels, one layer per block, 32-dim cross attention; a 2-level VAE (scale 2);
a 2-layer CLIP text encoder with 32-dim states; a character-level CLIP BPE tokenizer whose
vocab.json / merges.txt are written here. Big enough to have every code path of SD, small enough
to run a sampling loop in milliseconds on a CPU.
"""

from __future__ import annotations

import json
import string
from pathlib import Path

TOKENS = 32  # the tokenizer window (SD has 77)
SD_SCHEDULER = dict(beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear", clip_sample=False,
                    set_alpha_to_one=False, steps_offset=1)
VPRED_SCHEDULER = dict(beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear",
                       prediction_type="v_prediction", rescale_betas_zero_snr=True,
                       timestep_spacing="trailing")


def write_tokenizer(folder: Path) -> None:
    """A CLIP tokenizer over single letters (each word is spelt out), plus a few whole words."""
    from transformers import CLIPTokenizer

    letters = list(string.ascii_lowercase) + list(string.digits) + list(",.!?'-")
    merges = [("r", "e"), ("re", "d</w>"), ("b", "l"), ("bl", "u"), ("blu", "e</w>")]
    vocab = ["<|startoftext|>", "<|endoftext|>"] + letters + [c + "</w>" for c in letters]
    vocab += [a + b for a, b in merges]
    ids = {t: i for i, t in enumerate(vocab)}
    folder.mkdir(parents=True, exist_ok=True)
    tokenizer = CLIPTokenizer(vocab=ids, merges=merges, model_max_length=TOKENS)
    tokenizer.save_pretrained(folder)
    # The classic files too, so any CLIPTokenizer implementation can read the folder.
    (folder / "vocab.json").write_text(json.dumps(ids))
    (folder / "merges.txt").write_text("#version: 0.2\n" + "\n".join(f"{a} {b}" for a, b in merges) + "\n")


def build(folder: Path, *, scheduler: dict | None = None, inpaint: bool = False, seed: int = 0) -> Path:
    """Write a tiny SD pipeline (a 9-channel inpainting UNet if `inpaint`) to `folder`."""
    import torch
    from diffusers import (
        AutoencoderKL,
        DDIMScheduler,
        EulerDiscreteScheduler,
        StableDiffusionInpaintPipeline,
        StableDiffusionPipeline,
        UNet2DConditionModel,
    )
    from transformers import CLIPTextConfig, CLIPTextModel, CLIPTokenizer

    write_tokenizer(folder / "tokenizer")
    tokenizer = CLIPTokenizer.from_pretrained(folder / "tokenizer")
    torch.manual_seed(seed)
    unet = UNet2DConditionModel(
        block_out_channels=(32, 64), layers_per_block=1, sample_size=16,
        in_channels=9 if inpaint else 4, out_channels=4,
        down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"),
        up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"),
        cross_attention_dim=32, attention_head_dim=8, norm_num_groups=16,
    )
    vae = AutoencoderKL(
        block_out_channels=(32, 64), in_channels=3, out_channels=3, latent_channels=4,
        down_block_types=("DownEncoderBlock2D",) * 2, up_block_types=("UpDecoderBlock2D",) * 2,
        layers_per_block=1, norm_num_groups=16, sample_size=32,
    )
    text_encoder = CLIPTextModel(CLIPTextConfig(
        hidden_size=32, intermediate_size=37, num_attention_heads=4, num_hidden_layers=2,
        vocab_size=len(tokenizer.get_vocab()), max_position_embeddings=TOKENS,
        bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
    ))
    # Random weights decode to mid-grey noise with little structure; sharpen the VAE's output so
    # a change in the latents shows up in 8-bit pixels.
    with torch.no_grad():
        vae.decoder.conv_out.weight.mul_(4.0)
    if scheduler is None:
        sched = DDIMScheduler(**SD_SCHEDULER)
    else:
        sched = EulerDiscreteScheduler(**scheduler)
    cls = StableDiffusionInpaintPipeline if inpaint else StableDiffusionPipeline
    pipe = cls(vae=vae, text_encoder=text_encoder, tokenizer=tokenizer, unet=unet, scheduler=sched,
               safety_checker=None, feature_extractor=None, requires_safety_checker=False)
    pipe.save_pretrained(folder)
    return folder


def build_xl(folder: Path, seed: int = 0) -> Path:
    """A tiny SDXL: two text encoders (pooled output + size conditioning), EulerDiscrete."""
    import torch
    from diffusers import AutoencoderKL, EulerDiscreteScheduler, StableDiffusionXLPipeline, UNet2DConditionModel
    from transformers import CLIPTextConfig, CLIPTextModel, CLIPTextModelWithProjection, CLIPTokenizer

    write_tokenizer(folder / "tokenizer")
    write_tokenizer(folder / "tokenizer_2")
    tokenizer = CLIPTokenizer.from_pretrained(folder / "tokenizer")
    torch.manual_seed(seed)
    unet = UNet2DConditionModel(
        block_out_channels=(32, 64), layers_per_block=1, sample_size=16, in_channels=4, out_channels=4,
        down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"), up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"),
        attention_head_dim=(2, 4), use_linear_projection=True, addition_embed_type="text_time",
        addition_time_embed_dim=8, transformer_layers_per_block=(1, 2), projection_class_embeddings_input_dim=80,
        cross_attention_dim=64, norm_num_groups=16,
    )
    vae = AutoencoderKL(
        block_out_channels=(32, 64), in_channels=3, out_channels=3, latent_channels=4,
        down_block_types=("DownEncoderBlock2D",) * 2, up_block_types=("UpDecoderBlock2D",) * 2,
        layers_per_block=1, norm_num_groups=16, sample_size=32, scaling_factor=0.13025,
    )
    with torch.no_grad():
        vae.decoder.conv_out.weight.mul_(4.0)
    config = dict(hidden_size=32, intermediate_size=37, num_attention_heads=4, num_hidden_layers=2,
                  vocab_size=len(tokenizer.get_vocab()), max_position_embeddings=TOKENS,
                  bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id,
                  pad_token_id=tokenizer.pad_token_id, hidden_act="gelu", projection_dim=32)
    text_encoder = CLIPTextModel(CLIPTextConfig(**config))
    text_encoder_2 = CLIPTextModelWithProjection(CLIPTextConfig(**config))
    scheduler = EulerDiscreteScheduler(beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear",
                                       steps_offset=1, timestep_spacing="leading")
    tokenizer_2 = CLIPTokenizer.from_pretrained(folder / "tokenizer_2")
    pipe = StableDiffusionXLPipeline(vae=vae, text_encoder=text_encoder, text_encoder_2=text_encoder_2,
                                     tokenizer=tokenizer, tokenizer_2=tokenizer_2, unet=unet, scheduler=scheduler)
    pipe.save_pretrained(folder)
    return folder
