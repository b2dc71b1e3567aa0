"""Loading the parts of a declared family (`nodes.families`): denoiser, text encoders, VAE.

Everything is read from the family's declaration: the denoiser's diffusers class, each text
encoder's part name, transformers classes and tokenizer; the values built here are the same
MODEL / CLIP / VAE that SD checkpoints give, with `family` set so that sampling asks the family.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from nodeflow.core import NodeError
from nodes._lazy import lazy
from nodes.families import Family, detect
from nodes.values import Clip, Model, Vae

torch = lazy("torch")


def _header_shapes(folder: Path) -> dict[str, Any]:
    from nodes.models._weights import safetensors_header

    shapes: dict[str, Any] = {}
    for file in sorted(folder.glob("*.safetensors")):
        shapes |= {k: v.get("shape", []) for k, v in safetensors_header(file).items()}
    return shapes


def folder_family(path: Path) -> Family | None:
    """The family of a diffusers pipeline folder, from its denoiser's weights (None: an SD UNet)."""
    for part in ("transformer", "unet"):
        if (path / part).is_dir():
            return detect(_header_shapes(path / part))
    return None


def ready(module: Any, place: str) -> Any:
    module.to(place)
    module.eval()
    module.requires_grad_(False)
    return module


def load_denoiser(family: Family, path: Path, dtype: Any, place: str, subfolder: str | None = None) -> Any:
    import diffusers

    cls = getattr(diffusers, family.denoiser)
    return ready(cls.from_pretrained(path, subfolder=subfolder, torch_dtype=dtype, local_files_only=True), place)


def load_encoders(family: Family, folders: dict[str, Path], device: str, dtype: Any, place: str) -> Clip:
    """A CLIP value holding the family's text encoders; `folders` maps each part name to a diffusers
    folder holding `<part>/` and `<tokenizer part>/` (a pipeline folder) or the part itself."""
    import transformers

    parts: dict[str, Any] = {}
    for spec in family.encoders:
        folder = folders[spec.part]
        tokenizer_part = spec.part.replace("text_encoder", "tokenizer")
        sub = spec.part if (folder / spec.part).is_dir() else None
        tok_sub = tokenizer_part if (folder / tokenizer_part).is_dir() else None
        if tok_sub is None and not (folder / "tokenizer_config.json").is_file():
            raise NodeError(f"no tokenizer for the {spec.comfy_name or spec.part} text encoder in {folder}",
                            "clip_name")
        encoder = getattr(transformers, spec.model).from_pretrained(folder, subfolder=sub, dtype=dtype,
                                                                    local_files_only=True)
        tokenizer = getattr(transformers, spec.tokenizer).from_pretrained(folder, subfolder=tok_sub,
                                                                          local_files_only=True)
        parts[spec.part] = ready(encoder, place)
        parts[tokenizer_part] = tokenizer
    first = family.encoders[0]
    rest = {k: v for k, v in parts.items() if k not in (first.part, first.part.replace("text_encoder", "tokenizer"))}
    return Clip(parts[first.part.replace("text_encoder", "tokenizer")], parts[first.part], device, dtype,
                family=family.name, **rest)


def load_vae(folder: Path, subfolder: str | None, device: str, dtype: Any, place: str) -> Vae:
    from diffusers import AutoencoderKL

    vae = AutoencoderKL.from_pretrained(folder, subfolder=subfolder, torch_dtype=dtype, local_files_only=True)
    return Vae(ready(vae, place), device, dtype)


def scheduler_config(folder: Path) -> dict[str, Any]:
    config = json.loads((folder / "scheduler_config.json").read_text("utf-8"))
    return {k: v for k, v in config.items() if not k.startswith("_")}


def make_model(family: Family, denoiser: Any, scheduler: dict[str, Any], vae_config: dict[str, Any], device: str,
               dtype: Any, name: str, vae: Vae | None = None, clip: Clip | None = None) -> Model:
    return Model(unet=denoiser, scheduler_config=scheduler,
                 vae_scale_factor=2 ** (len(vae_config["block_out_channels"]) - 1),
                 latent_channels=int(vae_config.get("latent_channels", family.latent.channels)),
                 device=device, dtype=dtype, name=name, family=family.name, vae=vae, clip=clip)


def load_pipeline_folder(family: Family, path: Path, device: str, dtype: Any,
                         place: str) -> tuple[Model, Clip, Vae]:
    """A whole diffusers pipeline folder of a declared family (FluxPipeline.save_pretrained's layout)."""
    try:
        denoiser = load_denoiser(family, path, dtype, place, "transformer")
        clip = load_encoders(family, {e.part: path for e in family.encoders}, device, dtype, place)
        vae = load_vae(path, "vae", device, dtype, place)
        scheduler = scheduler_config(path / "scheduler")
    except (OSError, ValueError) as exc:
        raise NodeError(f"cannot load the {family.title} model in {path}: {exc}", "checkpoint") from None
    model = make_model(family, denoiser, scheduler, dict(vae.vae.config), device, dtype, path.name, vae, clip)
    return model, clip, vae
