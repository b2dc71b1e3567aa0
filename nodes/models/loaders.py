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
from nodes.families import FAMILIES as DECLARED
from nodes.families import by_comfy_clip_type
from nodes.models._model_path import model_path

#: SD's families, then the declared ones by their ComfyUI CLIP loader `type` (flux, sd3, chroma...).
FAMILIES = ("sd", "sd2", "sdxl") + tuple(dict.fromkeys(t for f in DECLARED for t in f.comfy_clip_types))
#: Load CLIP's file fields, one per text encoder of a family (HiDream's four at most).
_CLIP_FIELDS = ("clip_name", "clip_name_2", "clip_name_3", "clip_name_4")
#: ComfyUI's UNETLoader weight_dtype choices (see nodes.models._quantized.WEIGHT_DTYPES).
WEIGHT_DTYPES = ("default", "fp8_e4m3fn", "fp8_e4m3fn_fast", "fp8_e5m2")
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
        """The VAE on `vae`, sized from its file headers (in float32 where its family's runs so)."""
        from dataclasses import replace

        from nodes.models._precision import vae_runs_in_full_precision

        full = vae_runs_in_full_precision(str(params.get("family", "sd")))
        return [replace(w, full_precision=full) for w in _one_part(params.get("vae"), resolve, "vae", "vae")]

    def run(self, ctx: RunContext, vae: str, family: str) -> tuple[Any]:
        from nodes.models._precision import compute_dtype
        from nodes.models._split_loaders import load_vae
        from nodes.models._store import load_once

        path = _path(ctx, vae, "vae")
        dtype = compute_dtype(ctx.device)
        key = ("vae", str(path.resolve()), family, str(dtype), ctx.device)
        return (load_once(ctx, type(self), {"vae": path, "family": family}, key,
                          lambda place: load_vae(path, family, ctx.device, dtype, place)),)


class LoadUNet(Node):
    type_id = "models.load_unet"
    title = "Load Diffusion Model"
    category = "models"
    description = (
        "Loads a denoising UNet kept apart from its text encoders and VAE (ComfyUI's "
        "diffusion_models / unet folders): a diffusers folder or a single file with original or "
        "diffusers key names. Its architecture (SD 1.x, 2.x, SDXL, or a transformer family: Flux.1, "
        "SD3, Chroma) is read from the weights; the sampling settings are that architecture's defaults "
        "(use Model Sampling to change them). weight_dtype fp8 keeps the linear layers' weights in 8 "
        "bits (half the memory of fp16), computed in the usual precision."
    )
    inputs = (
        Input("unet", STRING, default="", file="file-or-folder", model="unet"),
        Input("weight_dtype", STRING, default="default", choices=WEIGHT_DTYPES,
              help="How the weights are kept in memory: as stored in the file (default), or the linear "
                   "layers in fp8 (ComfyUI's choices; e4m3fn_fast computes as e4m3fn here)."),
    )
    outputs = (Output("model", MODEL),)

    @classmethod
    def weights(cls, params: Mapping[str, Any], resolve: Callable[[str], Path]) -> list[Weights]:
        """The UNet on `model`, sized from its file headers (fp8 storage: linear weights at 1 byte)."""
        found = _one_part(params.get("unet"), resolve, "unet", "model")
        if params.get("weight_dtype", "default") == "default" or not found or found[0].stored:
            return found
        from nodes.models._weights import matrix_count

        matrices = matrix_count(resolve(params["unet"]))
        return [Weights("unet", "model", found[0].count - matrices, stored=matrices)]

    @classmethod
    def device_problems(cls, params: Mapping[str, Any], resolve: Callable[[str], Path], device: str
                        ) -> list[tuple[str, str]]:
        """A quantized file this machine cannot run (a GGUF block type, fp8 on MPS)."""
        from nodes.models._quantized_headers import part_problems

        return part_problems(params, ("unet",), resolve, device)

    def run(self, ctx: RunContext, unet: str, weight_dtype: str = "default") -> tuple[Any]:
        from nodes.models._precision import compute_dtype
        from nodes.models._split_loaders import load_unet
        from nodes.models._store import load_once

        path = _path(ctx, unet, "unet")
        dtype = compute_dtype(ctx.device)
        key = ("unet", str(path.resolve()), str(dtype), ctx.device, weight_dtype)
        return (load_once(ctx, type(self), {"unet": path, "weight_dtype": weight_dtype}, key,
                          lambda place: load_unet(path, ctx.device, dtype, weight_dtype, place)),)


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
        Input("clip_name_2", STRING, default="", file="file-or-folder", model="clip", optional=True,
              help="SDXL: the second (OpenCLIP bigG) text encoder; Flux: the other of CLIP-L and T5-XXL; "
                   "SD3: the second of CLIP-L, CLIP-G and T5-XXL (any order)."),
        Input("clip_name_3", STRING, default="", file="file-or-folder", model="clip", optional=True,
              help="SD3 and HiDream: the third of their text encoders (CLIP-L, CLIP-G, T5-XXL, any order)."),
        Input("clip_name_4", STRING, default="", file="file-or-folder", model="clip", optional=True,
              help="HiDream only: the fourth of its text encoders (CLIP-L, CLIP-G, T5-XXL, Llama 3.1, any order)."),
    )
    outputs = (Output("clip", CLIP),)

    @classmethod
    def weights(cls, params: Mapping[str, Any], resolve: Callable[[str], Path]) -> list[Weights]:
        """The text encoder(s) on `clip`, as many as the run loads for the family."""
        family = params.get("family")
        declared = by_comfy_clip_type(family) if isinstance(family, str) else ()
        count = len(declared[0].encoders) if declared else 2 if family == "sdxl" else 1
        names = _CLIP_FIELDS[:count]
        parts = ("text_encoder", "text_encoder_2", "text_encoder_3", "text_encoder_4")
        return [w for name, part in zip(names, parts) for w in _one_part(params.get(name), resolve, part, "clip")]

    @classmethod
    def device_problems(cls, params: Mapping[str, Any], resolve: Callable[[str], Path], device: str
                        ) -> list[tuple[str, str]]:
        """A quantized file this machine cannot run (a GGUF block type, fp8 on MPS)."""
        from nodes.models._quantized_headers import part_problems

        return part_problems(params, _CLIP_FIELDS, resolve, device)

    def run(self, ctx: RunContext, clip_name: str, family: str, clip_name_2: str = "",
            clip_name_3: str = "", clip_name_4: str = "") -> tuple[Any]:
        from nodes.models._precision import compute_dtype
        from nodes.models._split_loaders import load_clip
        from nodes.models._store import load_once

        declared = by_comfy_clip_type(family)
        if declared:
            return (self._declared(ctx, family, declared, (clip_name, clip_name_2, clip_name_3, clip_name_4)),)
        path = _path(ctx, clip_name, "clip_name")
        path_2 = _path(ctx, clip_name_2, "clip_name_2") if family == "sdxl" else None
        dtype = compute_dtype(ctx.device)
        key = ("clip", str(path.resolve()), str(path_2), family, str(dtype), ctx.device)
        paths = {"clip_name": path, "clip_name_2": path_2 or "", "family": family}
        return (load_once(ctx, type(self), paths, key,
                          lambda place: load_clip(path, path_2, family, ctx.device, dtype, place)),)

    @classmethod
    def _declared(cls, ctx: RunContext, family: str, families: tuple[Any, ...], names: tuple[str, ...]) -> Any:
        """A declared family's encoders, one file or folder per encoder, in any order; of the
        families ComfyUI names by this type, the one whose encoders the files are."""
        from nodes.models import _family_loader
        from nodes.models._precision import compute_dtype
        from nodes.models._store import load_once

        def paths_of(spec: Any) -> list[Path]:
            fields = _CLIP_FIELDS[:len(spec.encoders)]
            return [_path(ctx, name, field) for name, field in zip(names, fields)]

        spec = next((f for f in families if _family_loader.fits(f, paths_of(f))), families[0])
        paths = paths_of(spec)
        dtype = compute_dtype(ctx.device)
        key = ("clip", spec.name, *(str(p.resolve()) for p in paths), str(dtype), ctx.device)
        fields = dict(zip(_CLIP_FIELDS, paths)) | {"family": family}
        return load_once(ctx, cls, fields, key,
                         lambda place: _family_loader.load_clip(spec, paths, ctx.device, dtype, place))

