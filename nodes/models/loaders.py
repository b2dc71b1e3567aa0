"""Loaders for the parts of a model kept in separate files: VAE, UNet, CLIP text encoders.

Names come from the model library (vae/, unet/ or diffusion_models/, clip/ or text_encoders/);
each part is loaded once per device and shared, like checkpoints.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from nodeflow.core import Input, Node, Output, RunContext
from nodeflow.core.spec import Weights
from nodeflow.core.types import CLIP, MODEL, STRING, VAE
from nodes.models._model_path import model_path

FAMILIES = ("sd", "sd2", "sdxl")
_FAMILY_HELP = ("Which model the part belongs to (sd = SD 1.x, sd2 = SD 2.x, sdxl); single files do not "
                "say, and the shipped config of that family is used.")


def _path(ctx: RunContext, name: str, field: str) -> Path:
    """A part's file or folder, named in messages by its field ("no clip name chosen")."""
    return model_path(ctx, name, field, field.replace("_", " "))


def _one_part(name: Any, resolve: Callable[[str], Path], component: str, output: str) -> list[Weights]:
    """The weights of a loader of one model file or folder, for the memory plan ([] if unnamed)."""
    from nodes.models._quantized_headers import part_weights

    if not isinstance(name, str) or not name.strip():
        return []
    return part_weights(resolve(name), component, output)


class LoadVAE(Node):
    type_id = "models.load_vae"
    title = "Load VAE"
    category = "models"
    description = (
        "Loads a VAE on its own (a diffusers folder or a .safetensors file, e.g. a fine-tuned "
        "decoder), to use instead of the checkpoint's for encoding and decoding. " + _FAMILY_HELP
    )
    inputs = (
        Input("vae", STRING, default="", file="file-or-folder", model="vae"),
        Input("family", STRING, default="sd", choices=FAMILIES, help=_FAMILY_HELP),
    )
    outputs = (Output("vae", VAE),)

    @classmethod
    def weights(cls, params: Mapping[str, Any], resolve: Callable[[str], Path]) -> list[Weights]:
        """The VAE on `vae`, sized from its file headers."""
        return _one_part(params.get("vae"), resolve, "vae", "vae")

    def run(self, ctx: RunContext, vae: str, family: str) -> tuple[Any]:
        from nodes.models._precision import compute_dtype
        from nodes.models._split_loaders import load_vae

        path = _path(ctx, vae, "vae")
        dtype = compute_dtype(ctx.device)
        key = ("vae", str(path.resolve()), family, str(dtype), ctx.device)
        return (ctx.models.get(key, lambda: load_vae(path, family, ctx.device, dtype)),)


class LoadUNet(Node):
    type_id = "models.load_unet"
    title = "Load Diffusion Model"
    category = "models"
    description = (
        "Loads a denoising UNet kept apart from its text encoders and VAE (ComfyUI's "
        "diffusion_models / unet folders): a diffusers folder or a single file with original or "
        "diffusers key names. Its architecture (SD 1.x, 2.x, SDXL) is read from the weights; the "
        "sampling settings are that architecture's defaults (use Model Sampling to change them)."
    )
    inputs = (Input("unet", STRING, default="", file="file-or-folder", model="unet"),)
    outputs = (Output("model", MODEL),)

    @classmethod
    def weights(cls, params: Mapping[str, Any], resolve: Callable[[str], Path]) -> list[Weights]:
        """The UNet on `model`, sized from its file headers."""
        return _one_part(params.get("unet"), resolve, "unet", "model")

    @classmethod
    def device_problems(cls, params: Mapping[str, Any], resolve: Callable[[str], Path], device: str
                        ) -> list[tuple[str, str]]:
        """A quantized file this machine cannot run (a GGUF block type, fp8 on MPS)."""
        from nodes.models._quantized_headers import part_problems

        return part_problems(params, ("unet",), resolve, device)

    def run(self, ctx: RunContext, unet: str) -> tuple[Any]:
        from nodes.models._precision import compute_dtype
        from nodes.models._split_loaders import load_unet

        path = _path(ctx, unet, "unet")
        dtype = compute_dtype(ctx.device)
        key = ("unet", str(path.resolve()), str(dtype), ctx.device)
        return (ctx.models.get(key, lambda: load_unet(path, ctx.device, dtype)),)


class LoadCLIP(Node):
    type_id = "models.load_clip"
    title = "Load CLIP"
    category = "models"
    description = (
        "Loads text encoders kept in their own files (ComfyUI's clip / text_encoders folders): "
        "CLIP-L for SD 1.x (OpenCLIP-H for SD 2.x); for SDXL also clip_name_2, its OpenCLIP bigG "
        "encoder. Folders with a tokenizer/ inside use it; otherwise the tokenizer is looked for "
        "as for single-file checkpoints. " + _FAMILY_HELP
    )
    inputs = (
        Input("clip_name", STRING, default="", file="file-or-folder", model="clip"),
        Input("family", STRING, default="sd", choices=FAMILIES, help=_FAMILY_HELP),
        Input("clip_name_2", STRING, default="", file="file-or-folder", model="clip",
              help="SDXL only: the second (OpenCLIP bigG) text encoder."),
    )
    outputs = (Output("clip", CLIP),)

    @classmethod
    def weights(cls, params: Mapping[str, Any], resolve: Callable[[str], Path]) -> list[Weights]:
        """The text encoder(s) on `clip` (the second only for SDXL, as the run loads it)."""
        second = params.get("clip_name_2") if params.get("family") == "sdxl" else None
        return (_one_part(params.get("clip_name"), resolve, "text_encoder", "clip")
                + _one_part(second, resolve, "text_encoder_2", "clip"))

    @classmethod
    def device_problems(cls, params: Mapping[str, Any], resolve: Callable[[str], Path], device: str
                        ) -> list[tuple[str, str]]:
        """A quantized file this machine cannot run (a GGUF block type, fp8 on MPS)."""
        from nodes.models._quantized_headers import part_problems

        return part_problems(params, ("clip_name", "clip_name_2"), resolve, device)

    def run(self, ctx: RunContext, clip_name: str, family: str, clip_name_2: str = "") -> tuple[Any]:
        from nodes.models._precision import compute_dtype
        from nodes.models._split_loaders import load_clip

        path = _path(ctx, clip_name, "clip_name")
        path_2 = _path(ctx, clip_name_2, "clip_name_2") if family == "sdxl" else None
        dtype = compute_dtype(ctx.device)
        key = ("clip", str(path.resolve()), str(path_2), family, str(dtype), ctx.device)
        return (ctx.models.get(key, lambda: load_clip(path, path_2, family, ctx.device, dtype)),)
