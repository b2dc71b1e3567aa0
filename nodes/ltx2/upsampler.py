"""LTX-2's latent upscaler, in ComfyUI's vocabulary: LatentUpscaleModelLoader and LTXVLatentUpsampler.

The upscaler (diffusers' LTX2LatentUpsamplerModel, the file ComfyUI keeps in latent_upscale_models/)
doubles a video latent's width and height between a first, small sampling pass and a second one. It
works on the VAE's own latents: the LATENT's per-channel normalisation is undone before it and made
again after it, as ComfyUI's node does and as LTX2LatentUpsamplePipeline runs it on normalised latents.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from nodeflow.core import Input, Node, NodeError, Output, RunContext
from nodeflow.core.spec import Weights
from nodeflow.core.types import LATENT, STRING, VAE
from nodes.models._single_file import file_weights, load_file

#: Link type of a loaded latent upscaler (ComfyUI's name).
LATENT_UPSCALE_MODEL = "LATENT_UPSCALE_MODEL"
#: The rational resampler's numerator (its conv makes numerator^2 x the channels) -> its scale, for files
#: whose metadata does not say (diffusers' RATIONAL_RESAMPLER_SCALE_MAPPING: 2 -> 2x, 3 -> 1.5x, 4 -> 4x).
_SCALES = {2: 2.0, 3: 1.5, 4: 4.0}


def upsampler_config(shapes: Mapping[str, tuple[int, ...]], metadata: Mapping[str, str]) -> dict[str, Any]:
    """LTX2LatentUpsamplerModel's config for weights of these shapes: channels, width, blocks and
    dimensions off the tensors; the kind of upsampling off the upsampler's layers (and the file's
    `config` metadata for a rational scale, where it records one)."""
    if "initial_conv.weight" not in shapes or "final_conv.weight" not in shapes:
        raise NodeError("this file is not an LTX latent upscaler (no initial_conv / final_conv weights)", "model_name")
    first = shapes["initial_conv.weight"]
    mid = first[0]
    config: dict[str, Any] = {"in_channels": first[1], "mid_channels": mid, "dims": len(first) - 2,
                              "num_blocks_per_stage": len({k.split(".")[1] for k in shapes
                                                           if k.startswith("res_blocks.")})}
    stated = json.loads(metadata.get("config", "{}") or "{}") if isinstance(metadata, Mapping) else {}
    if "upsampler.conv.weight" in shapes:  # the rational resampler: spatial only
        numerator = math.isqrt(shapes["upsampler.conv.weight"][0] // mid)
        scale = stated.get("rational_spatial_scale", stated.get("spatial_scale", _SCALES.get(numerator)))
        if scale is None:
            raise NodeError(f"an LTX latent upscaler with a x{numerator} resampler is not one NodeFlow knows",
                            "model_name")
        config |= {"spatial_upsample": True, "temporal_upsample": False, "use_rational_resampler": True,
                   "rational_spatial_scale": float(scale)}
    elif "upsampler.0.weight" in shapes:
        factor = shapes["upsampler.0.weight"][0] // mid  # 4: 2x2 in space, 2: 2x in time, 8: both
        kinds = {4: (True, False), 2: (False, True), 8: (True, True)}
        if factor not in kinds:
            raise NodeError(f"an LTX latent upscaler whose upsampler widens {factor}x is not one NodeFlow knows",
                            "model_name")
        config |= {"spatial_upsample": kinds[factor][0], "temporal_upsample": kinds[factor][1],
                   "use_rational_resampler": False}
    else:
        raise NodeError("this LTX latent upscaler has no upsampler weights", "model_name")
    return config


def load_upsampler(path: Path, device: str, dtype: Any, place: str) -> Any:
    """The upscaler of a .safetensors file (original and diffusers' key names are the same)."""
    from diffusers.pipelines.ltx2.latent_upsampler import LTX2LatentUpsamplerModel
    from safetensors import safe_open

    from nodes.models._family_loader import ready
    from nodes.models._quantized import read_state_dict

    with safe_open(str(path), framework="pt") as handle:
        metadata = handle.metadata() or {}
    state = read_state_dict(path, "model_name")
    model = LTX2LatentUpsamplerModel(**upsampler_config({k: tuple(v.shape) for k, v in state.items()}, metadata))
    kernel = "upsampler.blur_down.kernel"
    if kernel not in state and kernel in model.state_dict():  # a fixed blur the original files need not keep
        state[kernel] = model.state_dict()[kernel]
    try:
        model.load_state_dict(state)
    except RuntimeError as exc:
        raise NodeError(f"cannot load {path.name} as an LTX latent upscaler: {str(exc).splitlines()[0]}",
                        "model_name") from None
    return ready(model.to(dtype=dtype).eval(), place)


class LoadLatentUpscaleModel(Node):
    type_id = "ltx2.load_latent_upscale_model"
    title = "Load Latent Upscale Model"
    category = "models"
    description = ("Loads LTX-2's latent upscaler (ltx-2-spatial-upscaler-x2-*.safetensors, from the upscale "
                   "models / latent_upscale_models folders): it enlarges a video latent between two sampling passes.")
    inputs = (Input("model_name", STRING, default="", file="file", model="upscale_models"),)
    outputs = (Output("latent_upscale_model", LATENT_UPSCALE_MODEL),)

    @classmethod
    def weights(cls, params: Mapping[str, Any], resolve: Callable[[str], Path]) -> list[Weights]:
        return file_weights(params, resolve, "model_name", "upscaler", "latent_upscale_model")

    def run(self, ctx: RunContext, model_name: str) -> tuple[Any]:
        return (load_file(ctx, type(self), "model_name", model_name, "latent upscale model",
                           lambda path, dtype, place: load_upsampler(path, ctx.device, dtype, place)),)


class LatentUpsampler(Node):
    type_id = "ltx2.latent_upsampler"
    title = "LTXV Latent Upsampler"
    category = "latent/ltx2"
    description = ("Enlarges a video latent with LTX-2's latent upscaler (2x in width and height for the x2 "
                   "models), through the VAE's own latents. The noise mask is dropped (the frames it kept are "
                   "enlarged too); a soundtrack beside the video passes unchanged.")
    inputs = (Input("samples", LATENT), Input("upscale_model", LATENT_UPSCALE_MODEL),
              Input("vae", VAE, help="The video VAE whose latents these are (its per-channel statistics)."))
    outputs = (Output("latent", LATENT),)

    def run(self, ctx: RunContext, samples: dict, upscale_model: Any, vae: Any) -> tuple[dict]:
        import torch

        from nodes.values import Vae, stored_latents

        latents = samples["samples"]
        if not isinstance(vae, Vae):
            raise NodeError("this needs LTX-2's video VAE (the checkpoint's VAE), not the audio VAE", "vae")
        if latents.ndim != 5 or latents.shape[1] != int(upscale_model.config.in_channels):
            raise NodeError(f"this upscaler takes video latents [batch, {upscale_model.config.in_channels}, frames, "
                            f"height, width]; this one is {tuple(latents.shape)}", "samples")
        if latents.shape[1] != vae.latent_channels:
            raise NodeError(f"the latent has {latents.shape[1]} channels, this VAE makes {vae.latent_channels}", "vae")
        parameter = next(upscale_model.parameters())
        with torch.no_grad():
            raw = vae.raw(latents.to(device=parameter.device, dtype=torch.float32))
            larger = upscale_model(raw.to(parameter.dtype)).float()
        out = {k: v for k, v in samples.items() if k != "noise_mask"}
        out["samples"] = stored_latents(larger, vae.numbers()).to(latents.dtype).cpu()
        return (out,)
