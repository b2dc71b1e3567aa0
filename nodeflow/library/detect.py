"""What a model file is (its family and kind), told from its header: keys, shapes, metadata.

The tables below (with `core.family_detection`'s) are read top to bottom, first match wins; a new
kind of file is a few new rows here, a new denoiser family a few rows there. The evidence:

1. metadata the trainer wrote: `modelspec.architecture` ("stable-diffusion-xl-v1-base/lora") and
   kohya's `ss_base_model_version` / `ss_network_module` (LoRAs), GGUF's `general.architecture`
   (a declared family's denoiser is told by its keys first, as the loaders tell it);
2. tensor names (a key *containing* the pattern, so a checkpoint's `model.diffusion_model.` prefix
   and a bare UNet file both match) and, where names are shared, one tensor's size along one axis;
   which Stable Diffusion a checkpoint, UNet or ControlNet is comes from its UNet's own tensors
   (`core.family_detection.sd_architecture`, as the loaders read it).

This reads headers only (`header.read_header`), never tensors, and imports no torch. Which family
a denoiser is (Flux, SD3, Chroma, Qwen-Image, ...) and what a `modelspec.architecture` names are
told by `core.family_detection`, the table the loaders ask too, so a file is listed and placed as
the family it runs as; this adds the kinds of file (checkpoint, LoRA, VAE, text encoder...).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from nodeflow.core.family_detection import architecture_family, denoiser_family, sd_architecture
from nodeflow.library.header import Header, read_header


@dataclass(frozen=True)
class Rule:
    """Tensor-name evidence: every pattern occurs in some key, and (when given) a key containing
    `shape[0]` has size `shape[2]` along axis `shape[1]`. A Stable Diffusion file's family (None
    here) is the generation its UNet's weights show (`core.family_detection.sd_architecture`, the
    rule the loaders pick their configs by)."""

    family: str | None
    kind: str
    patterns: tuple[str, ...]
    shape: tuple[str, int, int] | None = None


#: Patterns that make a file a LoRA (or LyCORIS) whatever it adapts.
LORA_PATTERNS = (".lora_down.", ".lora_up.", ".lora_A.", ".lora_B.", "lora_unet_", "lora_te", ".hada_w1_a",
                 ".lokr_w1", ".oft_blocks")
#: LoRA key patterns that tell the base family (after the metadata).
LORA_RULES = (
    Rule("flux", "loras", ("double_blocks",)),
    Rule("sd3", "loras", ("joint_blocks",)),
    Rule("sdxl", "loras", ("lora_te2_",)),
    Rule("sdxl", "loras", ("input_blocks_4_1_transformer_blocks_1",)),
)

#: The first cross-attention's key projection of an SD UNet (SDXL's first blocks have none).
_ATTN2 = "input_blocks.1.1.transformer_blocks.0.attn2.to_k.weight"
_TOKENS = "text_model.embeddings.token_embedding.weight"

#: Key prefixes of a VAE bundled with a denoiser: the file is then a whole checkpoint, not a lone UNet.
BUNDLED_VAE = ("vae.", "first_stage_model.")

#: Whole-file rules for what is not a declared family's denoiser (`core.family_detection`), most
#: specific first.
RULES = (
    Rule(None, "checkpoints", ("model.diffusion_model.", "conditioner.embedders.")),
    Rule(None, "checkpoints", ("model.diffusion_model.", "cond_stage_model.")),
    Rule(None, "controlnet", ("input_hint_block.0.weight",)),
    Rule(None, "controlnet", ("controlnet_cond_embedding.conv_in.weight",)),
    Rule(None, "unet", ("label_emb.0.0.weight",)),
    Rule(None, "unet", (_ATTN2,)),
    Rule(None, "unet", ("add_embedding.linear_1.weight",)),
    Rule(None, "unet", ("down_blocks.0.attentions.0.transformer_blocks.0.attn2.to_k.weight",)),
    Rule("flux/sd3", "vae", ("decoder.conv_in.weight", "encoder.conv_in.weight"), ("decoder.conv_in.weight", 1, 16)),
    Rule("sd", "vae", ("decoder.conv_in.weight", "encoder.conv_in.weight"), ("decoder.conv_in.weight", 1, 4)),
    Rule("clip-l", "clip", ("text_model.encoder.layers.0.",), (_TOKENS, 1, 768)),
    Rule("clip-g", "clip", ("text_model.encoder.layers.0.",), (_TOKENS, 1, 1280)),
    Rule("t5", "clip", ("encoder.block.0.layer.0.SelfAttention.q.weight",)),
    Rule("esrgan", "upscale_models", ("conv_first.weight",)),
    Rule("esrgan", "upscale_models", ("model.0.weight", "model.1.sub.")),
    Rule("sd1", "embeddings", ("emb_params",)),
    Rule("sdxl", "embeddings", ("clip_g",)),
)

#: `modelspec.architecture` suffixes -> kind ("<arch>/lora").
ARCHITECTURE_KINDS = {"lora": "loras", "textual-inversion": "embeddings", "controlnet": "controlnet"}
#: kohya `ss_base_model_version` prefixes -> family.
KOHYA_BASES = (("sdxl", "sdxl"), ("sd_v1", "sd1"), ("sd_v2", "sd2"), ("sd_2", "sd2"), ("flux", "flux"),
               ("sd3", "sd3"))
#: diffusers pipeline classes (a folder's model_index.json) -> family.
PIPELINES = {"StableDiffusionPipeline": "sd1", "StableDiffusionXLPipeline": "sdxl", "FluxPipeline": "flux",
             "FluxFillPipeline": "flux-fill", "ChromaPipeline": "chroma",
             "StableDiffusion3Pipeline": "sd3"}


@dataclass(frozen=True)
class Identity:
    """A model's family ("sd1", "sdxl", "flux", ...) and kind (a library kind), None when unknown."""

    family: str | None
    kind: str | None


UNKNOWN = Identity(None, None)


def identify(path: Path) -> Identity:
    """Family and kind of a model file or diffusers folder, from its header or configs."""
    path = Path(path)
    if path.is_dir():
        return _folder(path)
    header = read_header(path) if path.is_file() else None
    return identify_header(header) if header is not None else UNKNOWN


def identify_header(header: Header) -> Identity:
    meta = header.metadata
    keys = header.shapes
    lora = "ss_network_module" in meta or any(p in k for k in keys for p in LORA_PATTERNS)
    family, kind = _from_metadata(meta)
    if lora:
        kind = "loras"
        family = family or next((r.family for r in LORA_RULES if _matches(r, keys)), None)
        return Identity(family, kind)
    denoiser = denoiser_family(keys)
    if denoiser is not None:
        bundled = any(k.startswith(BUNDLED_VAE) for k in keys)
        return Identity(denoiser, kind or ("checkpoints" if bundled else "unet"))
    for rule in RULES:
        if _matches(rule, keys):
            found = sd_architecture(keys).generation if rule.family is None else rule.family
            return Identity(family or found, kind or rule.kind)
    return Identity(family, kind)


def _from_metadata(meta: dict[str, str]) -> tuple[str | None, str | None]:
    architecture = (meta.get("modelspec.architecture") or meta.get("general.architecture") or "").lower()
    suffix = architecture.partition("/")[2]
    family = architecture_family(architecture)
    kohya = meta.get("ss_base_model_version", "").lower()
    family = family or next((f for prefix, f in KOHYA_BASES if kohya.startswith(prefix)), None)
    return family, ARCHITECTURE_KINDS.get(suffix)


def _matches(rule: Rule, shapes: dict[str, tuple[int, ...]]) -> bool:
    if not all(any(p in k for k in shapes) for p in rule.patterns):
        return False
    if rule.shape is None:
        return True
    pattern, axis, size = rule.shape
    return any(pattern in k and len(s) > axis and s[axis] == size for k, s in shapes.items())


def _folder(path: Path) -> Identity:
    """A diffusers folder: a pipeline (model_index.json) is a checkpoint; its class names the family."""
    index = path / "model_index.json"
    if not index.is_file():
        return UNKNOWN
    try:
        data = json.loads(index.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return Identity(None, "checkpoints")
    name = data.get("_class_name") if isinstance(data, dict) else None
    return Identity(PIPELINES.get(name) if isinstance(name, str) else None, "checkpoints")
