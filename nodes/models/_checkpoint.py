"""Loading checkpoints (diffusers folders and single files) and merging LoRAs, all offline.

A diffusers folder is read component by component from its `model_index.json`. A single
`.safetensors` file has no configs in it; diffusers would guess the architecture and fetch that
repository's configs from the hub, so we tell which SD it is (`core.family_detection.sd_architecture`,
the rule the library files it by) and hand it the configs we ship in `resources/configs/<folder>/`.
The tokenizer's vocabulary is looked for next to the checkpoint, in the user's models folder and in
the Hugging Face cache before the shipped one (`_tokenizers`).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from nodeflow.core import NodeError
from nodes._lazy import lazy
from nodes.models._precision import settle, vae_dtype
from nodes.models._sd_configs import SD_CONFIGS, sd_config
from nodes.values import Clip, Model, Vae

torch = lazy("torch")

#: What diffusers' `infer_diffusers_model_type` calls the SD UNets of `SD_CONFIGS` (its answer for
#: any UNet it does not know otherwise, a lone SDXL one included, is "v1"); anything else it names
#: (an SDXL refiner, Playground, an upscaler, InstructPix2Pix...) shares SD's key names but not its
#: configs, and is refused by that name.
SD_KINDS = ("v1", "v2", "inpainting", "inpainting_v2", "xl_base", "xl_inpaint")

PICKLE_SUFFIXES = {".ckpt", ".pt", ".pth", ".bin"}


def configs_dir() -> Path:
    from nodeflow.core.paths import RESOURCES

    return RESOURCES / "configs"


def load_checkpoint(path: Path, device: str, dtype: Any, place: str | None = None) -> tuple[Model, Clip, Vae]:
    """Load a diffusers folder or a single-file checkpoint; raise NodeError when it can't be.

    The weights go to `place` (default: `device`, where they run); a memory manager that moves
    components itself loads them to "cpu" and brings each to the device when a node needs it.
    """
    if path.is_dir():
        if not (path / "model_index.json").is_file():
            raise NodeError(f"{path} is a folder but not a diffusers model (no model_index.json)", "checkpoint")
        return _load_folder(path, device, dtype, place or device)
    if not path.is_file():
        raise NodeError(f"checkpoint not found: {path}", "checkpoint")
    return _load_single_file(path, device, dtype, place or device)


def _load_folder(path: Path, device: str, dtype: Any, place: str) -> tuple[Model, Clip, Vae]:
    from diffusers import AutoencoderKL, UNet2DConditionModel
    from transformers import CLIPTextModel, CLIPTextModelWithProjection, CLIPTokenizer

    from nodes.models._family_loader import folder_family, load_pipeline_folder

    family = folder_family(path)
    if family is not None:
        return load_pipeline_folder(family, path, device, dtype, place)
    index = json.loads((path / "model_index.json").read_text(encoding="utf-8"))
    for part in ("unet", "vae", "text_encoder", "tokenizer", "scheduler"):
        if part not in index or not (path / part).is_dir():
            raise NodeError(f"{path} has no '{part}' component; only Stable Diffusion style models "
                            "(UNet + VAE + CLIP) are supported", "checkpoint")
    try:
        unet = UNet2DConditionModel.from_pretrained(path, subfolder="unet", torch_dtype=dtype,
                                                    local_files_only=True)
        vae = AutoencoderKL.from_pretrained(path, subfolder="vae", torch_dtype=dtype, local_files_only=True)
        text_encoder = CLIPTextModel.from_pretrained(path, subfolder="text_encoder", dtype=dtype,
                                                     local_files_only=True)
        tokenizer = CLIPTokenizer.from_pretrained(path, subfolder="tokenizer", local_files_only=True)
        text_encoder_2 = tokenizer_2 = None
        if "text_encoder_2" in index:
            text_encoder_2 = CLIPTextModelWithProjection.from_pretrained(
                path, subfolder="text_encoder_2", dtype=dtype, local_files_only=True)
            tokenizer_2 = CLIPTokenizer.from_pretrained(path, subfolder="tokenizer_2", local_files_only=True)
        scheduler_config = json.loads((path / "scheduler" / "scheduler_config.json").read_text("utf-8"))
    except (OSError, ValueError) as exc:
        raise NodeError(f"cannot load the model in {path}: {exc}", "checkpoint") from None
    return _bundle(path.name, unet, vae, text_encoder, tokenizer, text_encoder_2, tokenizer_2,
                   scheduler_config, device, dtype, place)


def _bundle(name, unet, vae, text_encoder, tokenizer, text_encoder_2, tokenizer_2, scheduler_config,
            device, dtype, place) -> tuple[Model, Clip, Vae]:
    for module in (unet, text_encoder, text_encoder_2):
        if module is not None:
            settle(module, place)
    family = "sdxl" if text_encoder_2 is not None else "sd"
    settle(vae, place, vae_dtype(family, vae, dtype))
    vae_bundle = Vae(vae, device, vae_dtype(family, vae, dtype))
    scheduler_config = _pipeline_fixes(scheduler_config)
    for tok, encoder in ((tokenizer, text_encoder), (tokenizer_2, text_encoder_2)):
        if tok is not None and encoder is not None:
            _fit_window(tok, encoder)
    clip = Clip(tokenizer, text_encoder, device, dtype, tokenizer_2, text_encoder_2)
    model = Model(
        unet=unet,
        scheduler_config={k: v for k, v in scheduler_config.items() if not k.startswith("_")},
        vae_scale_factor=vae_bundle.scale_factor,
        latent_channels=vae_bundle.latent_channels,
        device=device,
        dtype=dtype,
        name=name,
        family=family,
        vae=vae_bundle,
        clip=clip,
    )
    return model, clip, vae_bundle


def _fit_window(tokenizer: Any, encoder: Any) -> None:
    """A tokenizer folder with only vocab.json + merges.txt says nothing of its window, and
    transformers then reports a huge model_max_length (padding to it overflows); CLIP's window is
    its text encoder's position count (77 for Stable Diffusion)."""
    window = int(getattr(encoder.config, "max_position_embeddings", 77))
    if not 0 < tokenizer.model_max_length <= window:
        tokenizer.model_max_length = window


def _pipeline_fixes(config: dict[str, Any]) -> dict[str, Any]:
    """The corrections diffusers' SD pipelines make to old scheduler configs when they load them.

    (`StableDiffusionPipeline.__init__`: steps_offset must be 1 and clip_sample False.) Applying
    them here keeps our schedules equal to the pipelines' for the same checkpoint.
    """
    config = dict(config)
    if "steps_offset" in config and config["steps_offset"] != 1:
        config["steps_offset"] = 1
    if config.get("clip_sample") is True:
        config["clip_sample"] = False
    return config


# ------------------------------------------------------------------------------- single files


def read_state_dict(path: Path) -> dict[str, Any]:
    """Weights of a single-file checkpoint: safetensors, or a pickle only if it is weights-only."""
    if path.suffix.lower() == ".safetensors":
        from safetensors.torch import load_file

        try:
            return load_file(str(path))
        except Exception as exc:
            raise NodeError(f"{path.name} is not a readable .safetensors file: {exc}", "checkpoint") from None
    if path.suffix.lower() not in PICKLE_SUFFIXES:
        raise NodeError(f"{path.name}: unknown checkpoint type (expected .safetensors or a diffusers folder)",
                        "checkpoint")
    if not _looks_like_torch_file(path):
        raise NodeError(f"{path.name} is not a checkpoint (neither a PyTorch zip nor a pickle file)",
                        "checkpoint")
    try:
        data = torch.load(str(path), map_location="cpu", weights_only=True)
    except Exception as exc:
        if "allowed global" not in str(exc) and not _pickle_names_code(path):
            raise NodeError(f"{path.name} is damaged or not a checkpoint ({type(exc).__name__})",
                            "checkpoint") from None
        raise NodeError(
            f"refused to load {path.name}: it is a pickle checkpoint that names Python code to run "
            "when loaded. Convert it to .safetensors with a tool you trust, or use a .safetensors "
            "version", "checkpoint") from None
    while isinstance(data, dict) and "state_dict" in data:
        data = data["state_dict"]
    if not isinstance(data, dict):
        raise NodeError(f"{path.name} does not hold a state dict", "checkpoint")
    return data


def _looks_like_torch_file(path: Path) -> bool:
    """Whether `path` starts like something `torch.save` writes: a zip, or a pickle stream."""
    import zipfile

    with open(path, "rb") as handle:
        head = handle.read(2)
    return zipfile.is_zipfile(path) or (len(head) == 2 and head[0] == 0x80 and head[1] <= 5)


def _pickle_names_code(path: Path) -> bool:
    """Whether a plain pickle file is well-formed and asks for Python objects to be built."""
    import pickletools

    code_ops = {"GLOBAL", "STACK_GLOBAL", "INST", "OBJ", "REDUCE", "NEWOBJ", "NEWOBJ_EX"}
    try:
        with open(path, "rb") as handle:
            return any(op.name in code_ops for op, _arg, _pos in pickletools.genops(handle))
    except Exception:  # not a pickle at all: damaged or some other file
        return False


def architecture(state_dict: dict[str, Any]) -> str:
    """The shipped config folder for a single-file SD checkpoint or UNet (`sd_config`), after
    diffusers' own `infer_diffusers_model_type` has found it is no other model it knows."""
    from diffusers.loaders.single_file_utils import infer_diffusers_model_type

    kind = infer_diffusers_model_type(state_dict)
    if kind not in SD_KINDS:
        raise NodeError(f"unsupported single-file checkpoint architecture '{kind}' "
                        f"(supported: {', '.join(sorted(SD_CONFIGS.values()))})", "checkpoint")
    return sd_config(state_dict)


class _Shape:
    """A tensor seen through the file header: its shape only (all the architecture guess reads)."""

    def __init__(self, shape: list[int]) -> None:
        self.shape = tuple(shape)


def _shapes_only(path: Path) -> dict[str, _Shape]:
    """{key: shape} of a .safetensors file from its header, without reading a weight ({} otherwise).

    diffusers' from_single_file reads the file itself; reading it first to guess the architecture
    cost a second full read and a second copy of every weight in memory.
    """
    from nodes.models._weights import safetensors_header

    if path.suffix.lower() != ".safetensors":
        return {}
    return {key: _Shape(entry.get("shape", [])) for key, entry in safetensors_header(path).items()}


def _load_single_file(path: Path, device: str, dtype: Any, place: str) -> tuple[Model, Clip, Vae]:
    from diffusers import StableDiffusionPipeline, StableDiffusionXLPipeline

    from nodes.models._family_checkpoint import load_checkpoint_file
    from nodes.models._family_loader import path_family
    from nodes.models._tokenizers import clip_tokenizer

    family = path_family(path)
    if family is not None:  # Flux, SD3.5, ... all in one file
        return load_checkpoint_file(family, path, device, dtype, place)
    arch = architecture(_shapes_only(path) or read_state_dict(path))
    config = configs_dir() / arch
    if not (config / "model_index.json").is_file():
        raise NodeError(f"no shipped config for the {arch} architecture in {config}", "checkpoint")
    is_xl = arch.startswith("sdxl")
    extra: dict[str, Any] = {"tokenizer": clip_tokenizer(path, arch, configs=configs_dir())}
    if is_xl:
        extra["tokenizer_2"] = clip_tokenizer(path, arch, "tokenizer_2", configs_dir())
    else:
        extra |= {"safety_checker": None, "feature_extractor": None, "requires_safety_checker": False}
    pipeline_cls = StableDiffusionXLPipeline if is_xl else StableDiffusionPipeline
    try:
        pipe = pipeline_cls.from_single_file(str(path), config=str(config), local_files_only=True,
                                             torch_dtype=dtype, **extra)
    except (OSError, ValueError, KeyError, RuntimeError) as exc:
        raise NodeError(f"cannot load {path.name} as a {arch} checkpoint: {exc}", "checkpoint") from None
    return _bundle(path.stem, pipe.unet, pipe.vae, pipe.text_encoder, pipe.tokenizer,
                   getattr(pipe, "text_encoder_2", None), getattr(pipe, "tokenizer_2", None),
                   dict(pipe.scheduler.config), device, dtype, place)
