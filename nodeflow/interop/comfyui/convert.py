"""Value converters for classes whose values mean something different in NodeFlow.

Each importer converter takes the node's values already renamed to NodeFlow input names and a
`Notes` (to say what it changed and to read the NodeFlow node's choices) and returns NodeFlow
params; it raises `Unmappable` when the value cannot be carried over faithfully, which keeps the
node as a placeholder. Each exporter converter goes the other way on NodeFlow params.
"""

from __future__ import annotations

import math
import struct
from dataclasses import dataclass, field
from typing import Any

from nodeflow.core import comfy_samplers

#: How imported sampler nodes sample: "comfyui" (ComfyUI's schedules, samplers and denoise, as
#: NodeFlow's comfyui convention implements them) or "diffusers" (NodeFlow's own, with `denoise`
#: and sampler names converted to their nearest diffusers meaning).
CONVENTIONS = ("comfyui", "diffusers")


#: How a sampler node's note says ComfyUI's pixels are expected; the import takes it back when
#: another node of the graph has not been shown to give ComfyUI's pixels (`Notes.unproven`).
PIXELS_EXPECTED = "ComfyUI's pixels are expected"

#: ComfyUI classes that bring a model family other than the one compared with ComfyUI's own pixels:
#: the comparison (18 sampler/scheduler pairs, img2img, inpainting) ran on a Stable Diffusion 1.5
#: checkpoint through CheckpointLoaderSimple. A graph that loads a model part on its own (a diffusion
#: model, text encoders, an LTX-2 Gemma) or conditions a flow model (guidance, flow shifts, flow
#: latents) is Flux, SD3, Wan, LTX-2, MiniMax H3 or a kin: the sampler's maths is ComfyUI's, its pixels
#: are not yet shown to be.
UNCOMPARED_FAMILY_CLASSES = frozenset({
    "UNETLoader", "UnetLoaderGGUF", "CLIPLoader", "CLIPLoaderGGUF", "DualCLIPLoader", "DualCLIPLoaderGGUF",
    "TripleCLIPLoader", "QuadrupleCLIPLoader", "LTXAVTextEncoderLoader", "ImageOnlyCheckpointLoader",
    "FluxGuidance", "ModelSamplingFlux", "ModelSamplingSD3", "ModelSamplingAuraFlow", "EmptySD3LatentImage",
    "EmptyFlux2LatentImage", "EmptyHunyuanLatentVideo", "EmptyLTXVLatentVideo",
})


class Unmappable(Exception):
    """This node's values have no faithful NodeFlow equivalent; the message says why."""


@dataclass
class Notes:
    """What a converter may ask (the target node's choices) and tell (one line per change)."""

    choices_of: dict[str, tuple[str, ...] | None] = field(default_factory=dict)
    messages: list[str] = field(default_factory=list)
    convention: str = "comfyui"
    #: Why this node keeps the graph from ComfyUI's pixels (not yet compared with ComfyUI), if it does.
    unproven: str = ""

    def note(self, message: str) -> None:
        self.messages.append(message)


#: ComfyUI scheduler -> the nearest diffusers scheduler, for the "diffusers" convention.
SCHEDULER_NEAREST = {"simple": "normal", "ddim_uniform": "normal", "linear_quadratic": "normal",
                     "kl_optimal": "normal"}
#: LatentUpscale(By) methods NodeFlow lacks -> nearest.
LATENT_METHOD_NEAREST = {"bislerp": "bilinear"}


def nearest_choice(params: dict[str, Any], name: str, table: dict[str, str], notes: Notes,
                   allowed: tuple[str, ...] | None = None) -> None:
    """Keep `params[name]` if it is allowed (default: one of the node's choices) and not in `table`;
    else swap in the nearest from `table`, saying so."""
    if name not in params:
        return
    value, choices = params[name], notes.choices_of.get(name)
    allowed = allowed if allowed is not None else choices
    if (allowed is None or value in allowed) and value not in table:
        return
    nearest = table.get(value)
    if nearest is None or (choices is not None and nearest not in choices):
        raise Unmappable(f"{name} '{value}' has no NodeFlow equivalent")
    notes.note(f"{name} '{value}' is not in NodeFlow's {notes.convention} convention; using the nearest, "
               f"'{nearest}'")
    params[name] = nearest


def sampler_names(params: dict[str, Any], notes: Notes) -> dict[str, Any]:
    params = dict(params)
    if notes.convention == "comfyui":
        nearest_choice(params, "sampler_name", comfy_samplers.nearest_table(comfy_samplers.SAMPLERS), notes,
                       tuple(comfy_samplers.SAMPLERS))
        nearest_choice(params, "scheduler", {}, notes, comfy_samplers.SCHEDULERS)
        if "convention" in notes.choices_of:
            params["convention"] = "comfyui"
    else:
        nearest_choice(params, "sampler_name", comfy_samplers.nearest_table(comfy_samplers.DIFFUSERS_SAMPLERS),
                       notes)
        nearest_choice(params, "scheduler", SCHEDULER_NEAREST, notes)
    return params


def ksampler_values(params: dict[str, Any], notes: Notes) -> dict[str, Any]:
    """Sampler names and the meaning of denoise, for the chosen convention.

    comfyui: the values stay as they are (the convention runs ComfyUI's schedule and denoise), and
    the report says whether ComfyUI's pixels are expected. diffusers: ComfyUI builds a schedule of
    int(steps / denoise) steps and runs its last `steps`, NodeFlow runs the last
    int(steps * denoise) of `steps`; so NodeFlow gets steps = int(steps / denoise) and the denoise
    that makes int(steps * denoise) exactly ComfyUI's step count.
    """
    params = sampler_names(params, notes)
    if notes.convention == "comfyui":
        if "sampler_name" in params and "scheduler" in params:
            expected, why = comfy_samplers.pixels_expected(params["sampler_name"], params["scheduler"])
            notes.note(f"{PIXELS_EXPECTED}: {why}" if expected else f"ComfyUI's pixels are not expected: {why}")
        return params
    if "steps" not in params or "denoise" not in params:
        return params
    steps, denoise = int(params["steps"]), float(params["denoise"])
    if denoise >= 1.0 or steps <= 0:
        return params
    if denoise <= 0.0:
        raise Unmappable("denoise 0 runs no step in ComfyUI (the latent passes through unchanged)")
    total = int(steps / denoise)
    strength = steps / total
    while int(total * strength) < steps:
        strength = math.nextafter(strength, 2.0)
    params["steps"], params["denoise"] = total, min(strength, 1.0)
    notes.note(f"denoise {denoise:g} over {steps} steps is ComfyUI's last {steps} steps of a {total}-step "
               f"schedule; NodeFlow runs the same: steps {total}, denoise {params['denoise']:.6g}")
    return params


def inpaint_encode_values(params: dict[str, Any], notes: Notes) -> dict[str, Any]:
    """VAE Encode (for Inpainting): in the comfyui convention it greys the masked pixels and grows
    the mask as ComfyUI does; that has not been compared with ComfyUI's own pixels, so the graph
    gets no pixel promise."""
    params = dict(params)
    if notes.convention == "comfyui" and "convention" in notes.choices_of:
        params["convention"] = "comfyui"
        notes.unproven = ("VAE Encode (for Inpainting) follows ComfyUI's grey fill and grow_mask_by, not yet "
                          "compared with ComfyUI's own pixels")
    return params


def ksampler_export(params: dict[str, Any]) -> dict[str, Any]:
    """The inverse of `ksampler_values`: the steps NodeFlow runs, and the denoise ComfyUI needs."""
    params = dict(params)
    if params.get("convention") == "comfyui":
        return params
    if "steps" not in params or "denoise" not in params or float(params["denoise"]) >= 1.0:
        return params
    total = int(params["steps"])
    steps = min(int(total * float(params["denoise"])), total)
    if steps <= 0:
        return params
    denoise = steps / total
    while int(steps / denoise) < total:
        denoise = math.nextafter(denoise, 0.0)
    params["steps"], params["denoise"] = steps, denoise
    return params


def latent_upscale_method(params: dict[str, Any], notes: Notes) -> dict[str, Any]:
    params = dict(params)
    nearest_choice(params, "method", LATENT_METHOD_NEAREST, notes)
    return params


def threshold_export(params: dict[str, Any]) -> dict[str, Any]:
    """Mask Threshold as ThresholdMask, which keeps only values above its cutoff: an inclusive threshold
    t (masks are float32) is the same cut as "above the float32 just below t"; 0 stays 0 (nothing lies
    below it in a mask)."""
    params = dict(params)
    value = params.get("threshold")
    if params.pop("inclusive", True) and isinstance(value, (int, float)) and value > 0:
        bits = struct.unpack("<I", struct.pack("<f", float(value)))[0]
        params["threshold"] = struct.unpack("<f", struct.pack("<I", bits - 1))[0]
    return params


def image_to_mask_channel(params: dict[str, Any], notes: Notes) -> dict[str, Any]:
    if params.get("channel") == "alpha":
        raise Unmappable("channel 'alpha': NodeFlow's Mask from Image reads red, green, blue or luminance")
    return params


def advanced_sampler_values(params: dict[str, Any], notes: Notes) -> dict[str, Any]:
    """KSamplerAdvanced's "enable"/"disable" combos are NodeFlow booleans; names as for KSampler."""
    params = dict(params)
    for name in ("add_noise", "return_with_leftover_noise"):
        if name in params and params[name] in ("enable", "disable"):
            params[name] = params[name] == "enable"
    return ksampler_values(params, notes)


def advanced_sampler_export(params: dict[str, Any]) -> dict[str, Any]:
    params = dict(params)
    for name in ("add_noise", "return_with_leftover_noise"):
        if isinstance(params.get(name), bool):
            params[name] = "enable" if params[name] else "disable"
    return params


def eight_bit(params: dict[str, Any], notes: Notes) -> dict[str, Any]:
    """Save / Preview Image: in the comfyui convention, 8 bits by truncation as ComfyUI saves them."""
    if notes.convention == "comfyui" and "eight_bit" in notes.choices_of:
        return params | {"eight_bit": "truncate"}
    return params


#: VAELoader names that are not files but ComfyUI built-ins.
BUILTIN_VAES = ("taesd", "taesdxl", "taesd3", "taef1", "pixel_space")
#: CLIPLoader / DualCLIPLoader `type` -> NodeFlow's model family, where the names differ (the
#: families NodeFlow declares, flux, sd3, chroma..., use ComfyUI's `type` names as their choices).
CLIP_FAMILIES = {"stable_diffusion": "sd", "sdxl": "sdxl"}
#: CLIPLoader `type`s of models NodeFlow lacks, as the templates that only write text with them use them
#: (llm_qwen3vl_text_gen: ideogram4 with Qwen3-VL 4B; llm_qwen3_text_gen: ltxv with Qwen3-4B): type ->
#: (the declared type whose loader reads that file, the names ComfyUI publishes those files under). ComfyUI
#: picks a language-model encoder by its file and uses the type only to tell apart the models that share
#: one; such a file loads as Krea 2's Qwen3-VL or Z-Image's Qwen3 (type lumina2), whose language model
#: Generate Text writes with. Other files of ltxv are LTX-2.5's Gemma 4 (the LTX-2 family's own type); of
#: ideogram4 (its Qwen3-VL 8B) they stay unmapped. Import only.
CLIP_STAND_INS = {"ideogram4": ("krea2", ("qwen3vl_4b",)), "ltxv": ("lumina2", ("qwen_3_4b",))}
#: CLIPLoader `type`s a declared family takes for some of the files ComfyUI loads under them only: type -> the
#: names ComfyUI publishes those files under (ltxv: LTX-2.5's Gemma 4; LTXV 0.9's T5 stays unmapped).
CLIP_OWN_FILES = {"ltxv": ("gemma4", "gemma_4")}


def vae_loader_values(params: dict[str, Any], notes: Notes) -> dict[str, Any]:
    if params.get("vae") in BUILTIN_VAES:
        raise Unmappable(f"vae_name '{params['vae']}' is one of ComfyUI's built-in preview VAEs")
    return params


def unet_loader_values(params: dict[str, Any], notes: Notes) -> dict[str, Any]:
    params = dict(params)
    dtype = params.get("weight_dtype", "default")
    if dtype not in (notes.choices_of.get("weight_dtype") or ("default",)):
        params.pop("weight_dtype", None)
        notes.note(f"weight_dtype '{dtype}' is not carried over: NodeFlow picks fp16 on CUDA and fp32 on CPU")
    return params


def clip_loader_values(params: dict[str, Any], notes: Notes) -> dict[str, Any]:
    params = dict(params)
    kind = params.pop("type", "stable_diffusion")
    family = CLIP_FAMILIES.get(kind, kind)
    known = notes.choices_of.get("family") or tuple(CLIP_FAMILIES.values())
    stand_in, files = CLIP_STAND_INS.get(kind, ("", ()))
    name = str(params.get("clip_name", "")).replace("\\", "/").rsplit("/", 1)[-1].lower()
    if stand_in in known and name.startswith(files):
        family = stand_in
        notes.note(f"type '{kind}' loads as type '{family}': NodeFlow has no {kind} model, and its text "
                   f"encoder file is the kind {family}'s loader reads (its language model writes text alike)")
    if family not in known:
        raise Unmappable(f"type '{kind}': NodeFlow loads text encoders of {', '.join(known)} only")
    if family == kind and kind in CLIP_OWN_FILES and not name.startswith(CLIP_OWN_FILES[kind]):
        raise Unmappable(f"type '{kind}' with {name}: NodeFlow reads this type's "
                         f"{' / '.join(CLIP_OWN_FILES[kind])} files only")
    params["family"] = family
    params.pop("device", None)
    return params


def clip_loader_export(params: dict[str, Any]) -> dict[str, Any]:
    params = dict(params)
    family = params.pop("family", "sd")
    params["type"] = next((k for k, v in CLIP_FAMILIES.items() if v == family), family)
    return params
