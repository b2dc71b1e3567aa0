"""One .safetensors holding a whole model of a declared family (ComfyUI's and Stability's checkpoint
layout), loaded as the split parts are (`nodes.models._family_loader`): the denoiser under
model.diffusion_model., each text encoder under text_encoders.<clip_l|clip_g|t5xxl>., the VAE under
first_stage_model. (or vae.); configs are the shipped ones with the sizes read off the tensors."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from nodeflow.core import NodeError
from nodes.families import Family
from nodes.models._family_loader import (
    CONFIGS,
    _shipped,
    _spec_kind,
    _tokenizer,
    converter_state,
    encoder_from_state,
    make_model,
    ready,
    user_tokenizers,
)
from nodes.values import Clip, Model, Vae

#: Where an all-in-one file (ComfyUI's / Stability's checkpoints) keeps each part.
DENOISER_PREFIX = "model.diffusion_model."
ENCODER_PREFIX = "text_encoders.{}."
VAE_PREFIXES = ("first_stage_model.", "vae.")


def _part(state: dict[str, Any], prefix: str) -> dict[str, Any]:
    return {k[len(prefix):]: v for k, v in state.items() if k.startswith(prefix)}


def _levels(state: dict[str, Any], prefix: str, block: str) -> list[Any]:
    """The first-conv weights of each encoder level, in order ([] if the naming is another)."""
    found = []
    while f"{prefix}{len(found)}.{block}.0.conv1.weight" in state:
        found.append(state[f"{prefix}{len(found)}.{block}.0.conv1.weight"])
    return found


def _vae_from_state(family: Family, state: dict[str, Any], dtype: Any) -> Any:
    """A VAE from its weights in the original (LDM) or diffusers key names: the family's config with
    its levels' widths, blocks per level and latent channels read off the tensors."""
    from diffusers import AutoencoderKL
    from diffusers.loaders.single_file_utils import convert_ldm_vae_checkpoint

    config = dict(AutoencoderKL.load_config(CONFIGS / family.config, subfolder="vae"))
    diffusers_names = "encoder.down_blocks.0.resnets.0.conv1.weight" in state
    prefix, block = ("encoder.down_blocks.", "resnets") if diffusers_names else ("encoder.down.", "block")
    levels = _levels(state, prefix, block)
    if levels:
        config["block_out_channels"] = [int(w.shape[0]) for w in levels]
        config["layers_per_block"] = sum(1 for k in state if k.startswith(f"{prefix}0.{block}.") and
                                         k.endswith(".conv1.weight"))
        count = len(levels)
        config["down_block_types"] = ["DownEncoderBlock2D"] * count
        config["up_block_types"] = ["UpDecoderBlock2D"] * count
        config["latent_channels"] = int(state["decoder.conv_in.weight"].shape[1])
    if not diffusers_names:
        state = convert_ldm_vae_checkpoint(state, config)
    vae = AutoencoderKL.from_config(config)
    vae.load_state_dict(state)
    return vae.to(dtype=dtype)


def _language_encoder(family: Family, spec: Any, path: Path, weights: dict[str, Any], dtype: Any) -> tuple[Any, Any]:
    """(tokenizer, model) of a language-model text encoder kept in an all-in-one file (Neta Lumina's
    Gemma 2 under text_encoders.gemma2_2b.transformer.), its tokenizer beside the file or the user's."""
    from nodes.models._language_encoders import language_model_from_state, language_tokenizer

    weights = {k.removeprefix("transformer."): v for k, v in weights.items()}
    shapes = {k: list(v.shape) for k, v in weights.items()}
    encoder = language_model_from_state(spec.model, weights, shapes, CONFIGS / family.config / spec.part, dtype,
                                        "checkpoint")
    return language_tokenizer(path, spec.tokenizer, user_tokenizers(family, spec), "checkpoint"), encoder


def load_checkpoint_file(family: Family, path: Path, device: str, dtype: Any, place: str) -> tuple[Model, Clip, Vae]:
    """One .safetensors holding a whole model of `family`: the denoiser under model.diffusion_model.,
    each text encoder under text_encoders.<clip_l|clip_g|t5xxl>., the VAE under first_stage_model.
    (or vae.); configs from the shipped ones with the sizes read off the tensors."""
    from nodes.families import bare_shapes
    from nodes.models._quantized import load_diffusers_model, read_state_dict

    own = getattr(family.module(), "load_checkpoint_file", None)  # a layout of the family's own (LTX-2's)
    if own is not None:
        return own(path, device, dtype, place)
    state = read_state_dict(path, "checkpoint")
    denoiser_state = _part(state, DENOISER_PREFIX)
    vae_state = next((v for v in (_part(state, p) for p in VAE_PREFIXES) if v), {})
    missing = [e.comfy_name for e in family.encoders if not _part(state, ENCODER_PREFIX.format(e.comfy_name))]
    if missing or not vae_state:
        parts = missing + ([] if vae_state else ["vae"])
        raise NodeError(f"{path.name} is a {family.title} checkpoint without its {', '.join(parts)}; load the "
                        "missing parts with the CLIP / VAE loaders and the model with Load Diffusion Model",
                        "checkpoint")
    try:
        shapes = bare_shapes({k: tuple(v.shape) for k, v in denoiser_state.items()})
        config = family.module().denoiser_config(shapes, _shipped(family, "transformer"))
        denoiser_state = converter_state(family, denoiser_state, config)
        denoiser = ready(load_diffusers_model(family.denoiser, config, denoiser_state, dtype, "checkpoint"), place)
        parts: dict[str, Any] = {}
        for spec in family.encoders:
            kind = _spec_kind(spec)
            weights = _part(state, ENCODER_PREFIX.format(spec.comfy_name))
            if kind.startswith("lm:"):
                tokenizer, encoder = _language_encoder(family, spec, path, weights, dtype)
            else:
                tokenizer = _tokenizer(family, spec, path, kind)
                encoder = encoder_from_state(family, spec, kind, weights, tokenizer, dtype, "checkpoint")
            parts[spec.part], parts[spec.part.replace("text_encoder", "tokenizer")] = ready(encoder, place), tokenizer
        vae = Vae(ready(_vae_from_state(family, vae_state, dtype), place), device, dtype)
    except (OSError, ValueError, KeyError, RuntimeError) as exc:
        raise NodeError(f"cannot load {path.name} as a {family.title} checkpoint: {exc}", "checkpoint") from None
    first = family.encoders[0].part
    first_tok = first.replace("text_encoder", "tokenizer")
    rest = {k: v for k, v in parts.items() if k not in (first, first_tok)}
    clip = Clip(parts[first_tok], parts[first], device, dtype, family=family.name, **rest)
    scheduler = family.module().scheduler_config(denoiser, _shipped(family, "scheduler", "scheduler_config.json"))
    model = make_model(family, denoiser, scheduler, dict(vae.vae.config), device, dtype, path.stem, vae, clip)
    return model, clip, vae
