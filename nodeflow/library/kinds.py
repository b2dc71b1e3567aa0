"""What kinds of model the library knows, and what counts as one model on disk.

The kinds and their folder names follow ComfyUI's `models/` layout, because that is how the
users we want already keep their files; ComfyUI's newer folder names are accepted as aliases.
"""

from __future__ import annotations

from pathlib import Path

#: Model kinds, in the order `nodeflow models` lists them. Each is also its folder name.
KINDS = ("checkpoints", "loras", "vae", "embeddings", "upscale_models", "controlnet", "clip", "unet", "clip_vision",
         "style_models", "model_patches")

#: Other folder names that hold a kind (ComfyUI renamed clip and unet; t2i adapters load as controlnets;
#: its latent upscalers, LTX-2's, are listed with the picture upscalers).
FOLDER_ALIASES = {
    "text_encoders": "clip",
    "diffusion_models": "unet",
    "t2i_adapter": "controlnet",
    "latent_upscale_models": "upscale_models",
}

#: File types that are model weights (ComfyUI's `supported_pt_extensions` plus GGUF).
MODEL_SUFFIXES = (".safetensors", ".sft", ".ckpt", ".pt", ".pt2", ".pth", ".bin", ".pkl", ".gguf")

#: The model NodeFlow ships and loads by default, listed under this name in the checkpoints kind.
BUILTIN_NAME = "tiny-shapes"
#: Every model NodeFlow ships (resources/models/<name>): tiny-shapes (SD-shaped UNet) and
#: tiny-shapes-flow (Flux-shaped flow-matching transformer), in the order they are listed.
BUILTIN_NAMES = (BUILTIN_NAME, "tiny-shapes-flow")


def kind_of_folder(name: str) -> str | None:
    """The kind a folder called `name` holds (its own name or an alias), or None."""
    return name if name in KINDS else FOLDER_ALIASES.get(name)


def is_model_folder(path: Path) -> bool:
    """A diffusers folder counts as one model: a pipeline (model_index.json) or a component (config.json)."""
    return (path / "model_index.json").is_file() or (path / "config.json").is_file()


def is_model_file(path: Path) -> bool:
    return path.suffix.lower() in MODEL_SUFFIXES


def check_kind(kind: str) -> str:
    """`kind` itself, or ValueError naming the known kinds."""
    if kind not in KINDS:
        raise ValueError(f"unknown model kind '{kind}' (known: {', '.join(KINDS)})")
    return kind
