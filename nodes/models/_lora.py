"""LoRA files: read them (safetensors only), name their layers the diffusers way, merge into copies.

Key styles are translated by diffusers' own converters, the ones its pipelines use, so what
loads in diffusers loads here the same way:
  kohya / sd-scripts  lora_unet_<module>, lora_te_ / lora_te1_ (first text encoder), lora_te2_
                      (SDXL's second), with diffusers or LDM block names (input_blocks_4_1_...)
  diffusers / PEFT    unet.<module>.lora_A.weight, text_encoder(_2).<module>.lora_A.weight, and
                      the older .lora.down.weight / to_q_lora / lora_linear_layer spellings
The change to a layer is strength * alpha / rank * up @ down (alpha defaults to rank). Keys that
land on no layer of the model are counted in one warning, never silently dropped.

The checkpoint's modules are shared by every node that loaded it, so they are never edited: the
patched model is a copy of the module tree that shares every parameter tensor except the patched
ones, which costs only the memory of the layers the LoRA touches.
"""

from __future__ import annotations

import copy
import dataclasses
import re
from pathlib import Path
from typing import Any

from nodeflow.core import NodeError, RunContext
from nodes._lazy import lazy

torch = lazy("torch")

#: The diffusers prefixes a LoRA key may carry (each the attribute of MODEL or CLIP it patches; a
#: declared family's transformer is MODEL's denoiser).
_TARGETS = {"unet": "UNet", "transformer": "transformer", "text_encoder": "text encoder",
            "text_encoder_2": "second text encoder"}
_KOHYA_PREFIXES = ("lora_unet_", "lora_te_", "lora_te1_", "lora_te2_")
_KOHYA_SUFFIXES = (".lora_down.weight", ".lora_up.weight", ".alpha")
_PARTS = {".lora_A.weight": "down", ".lora_B.weight": "up", ".lora.down.weight": "down",
          ".lora.up.weight": "up", ".alpha": "alpha"}


#: Key pairs of one layer's change, by style: (down suffix, up suffix).
_PAIRS = ((".lora_down.weight", ".lora_up.weight"), (".lora_A.weight", ".lora_B.weight"),
          (".lora.down.weight", ".lora.up.weight"), ("_lora.down.weight", "_lora.up.weight"))
#: Key prefixes -> the model part a LoRA layer patches ("te2" before "te", so the longer wins).
_PART_OF = (("lora_unet_", "unet"), ("unet.", "unet"), ("transformer.", "unet"), ("lora_te2_", "text_encoder_2"),
            ("text_encoder_2.", "text_encoder_2"), ("lora_te1_", "text_encoder"), ("lora_te_", "text_encoder"),
            ("text_encoder.", "text_encoder"))


def patched_counts(path: Path) -> dict[str, int]:
    """{model part: weights of the layers the LoRA patches}, read from the file header (no torch):
    what the patched copies cost (up rows x down columns per layer), for the memory plan."""
    from nodes.models._weights import safetensors_header

    header = safetensors_header(path)
    counts: dict[str, int] = {}
    for key, entry in header.items():
        pair = next(((down, up) for down, up in _PAIRS if key.endswith(down)), None)
        part = next((p for prefix, p in _PART_OF if key.startswith(prefix)), None)
        up = header.get(key[: -len(pair[0])] + pair[1]) if pair else None
        if pair is None or part is None or up is None:
            continue
        down_shape, up_shape = entry.get("shape", []), up.get("shape", [])
        if len(down_shape) < 2 or not up_shape:
            continue
        columns = 1
        for dim in down_shape[1:]:
            columns *= int(dim)
        counts[part] = counts.get(part, 0) + int(up_shape[0]) * columns
    return counts


def read_lora(path: Path) -> dict[str, Any]:
    if path.suffix.lower() != ".safetensors":
        raise NodeError("LoRAs are read from .safetensors files only (pickle files could run code)", "lora")
    from safetensors.torch import load_file

    try:
        return load_file(str(path))
    except Exception as exc:
        raise NodeError(f"{path.name} is not a readable .safetensors file: {exc}", "lora") from None


def to_diffusers(weights: dict[str, Any], unet_config: Any) -> tuple[dict[str, dict[str, dict[str, Any]]], list[str]]:
    """{target: {module: {"up", "down"(, "alpha")}}} in diffusers module names, and the keys left over.

    kohya keys go through `StableDiffusionXLLoraLoaderMixin.lora_state_dict` (with the UNet's config,
    which maps LDM block names), after folding each alpha into its up weight so no alpha has to be
    matched to a converted name; every text-encoder key then through diffusers' old-to-PEFT names.
    """
    from diffusers.loaders import StableDiffusionXLLoraLoaderMixin
    from diffusers.utils import convert_unet_state_dict_to_peft
    from diffusers.utils.state_dict_utils import StateDictType, convert_state_dict_to_peft

    kohya, named, leftover = _fold_kohya_alphas(weights)
    if kohya:
        try:
            converted, _alphas = StableDiffusionXLLoraLoaderMixin.lora_state_dict(kohya, unet_config=unet_config)
        except (ValueError, KeyError, IndexError) as exc:
            raise NodeError(f"the LoRA's kohya keys cannot be converted: {' '.join(str(exc).split())[:200]}",
                            "lora") from None
        named.update(converted)
    grouped: dict[str, dict[str, dict[str, Any]]] = {}
    for target in _TARGETS:
        part = {k[len(target) + 1:]: v for k, v in named.items() if k.split(".", 1)[0] == target}
        if target == "unet":
            part = convert_unet_state_dict_to_peft(part)
        else:
            part = convert_state_dict_to_peft(part, original_type=StateDictType.DIFFUSERS_OLD)
        for key, value in part.items():
            suffix = next((s for s in _PARTS if key.endswith(s)), None)
            if suffix is None:
                leftover.append(f"{target}.{key}")
                continue
            grouped.setdefault(target, {}).setdefault(key[: -len(suffix)], {})[_PARTS[suffix]] = value
    leftover += [k for k in named if k.split(".", 1)[0] not in _TARGETS]
    return grouped, leftover


def family_to_diffusers(weights: dict[str, Any], loader: str) -> tuple[dict[str, dict[str, dict[str, Any]]],
                                                                       list[str]]:
    """The same grouping for a declared family's LoRA, converted by its diffusers loader mixin
    (`Family.lora_loader`: kohya, BFL, xlabs and diffusers files; alphas kept where it keeps them, or
    folded into the weights by a mixin that returns the state alone, Wan's)."""
    import diffusers.loaders

    try:
        found = getattr(diffusers.loaders, loader).lora_state_dict(dict(weights), return_alphas=True)
        state, alphas = found if isinstance(found, tuple) else (found, None)
    except (ValueError, KeyError, IndexError, AttributeError) as exc:
        raise NodeError(f"the LoRA's keys cannot be converted: {' '.join(str(exc).split())[:200]}", "lora") from None
    grouped: dict[str, dict[str, dict[str, Any]]] = {}
    leftover: list[str] = []
    for key, value in list(state.items()) + [(k, v) for k, v in (alphas or {}).items()]:
        target, _, rest = key.partition(".")
        suffix = next((s for s in _PARTS if rest.endswith(s)), None)
        if target not in _TARGETS or suffix is None:
            leftover.append(key)
            continue
        grouped.setdefault(target, {}).setdefault(rest[: -len(suffix)], {})[_PARTS[suffix]] = value
    return grouped, leftover


def _fold_kohya_alphas(weights: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any], list[str]]:
    """(complete kohya down/up pairs with alpha / rank folded into up, other keys, unusable keys)."""
    kohya: dict[str, Any] = {}
    named: dict[str, Any] = {}
    leftover: list[str] = []
    layers: dict[str, dict[str, Any]] = {}
    for key, value in weights.items():
        suffix = next((s for s in _KOHYA_SUFFIXES if key.endswith(s)), None)
        if key.startswith(_KOHYA_PREFIXES) and suffix is not None:
            layers.setdefault(key[: -len(suffix)], {})[suffix] = value
        elif key.startswith(_KOHYA_PREFIXES):
            leftover.append(key)  # DoRA scales, norms and other parts no converter places
        else:
            named[key] = value
    for name, parts in layers.items():
        down, up = parts.get(".lora_down.weight"), parts.get(".lora_up.weight")
        if down is None or up is None:
            leftover += [name + s for s in parts]
            continue
        rank = down.shape[0]
        scale = float(parts[".alpha"]) / rank if ".alpha" in parts else 1.0
        kohya[name + ".lora_down.weight"] = down
        kohya[name + ".lora_up.weight"] = up * scale if scale != 1.0 else up
    return kohya, named, leftover


def _index(root: Any) -> dict[str, str]:
    """Module name lookup by dotted name and by kohya's underscored name."""
    names: dict[str, str] = {}
    for name, module in root.named_modules():
        if hasattr(module, "weight") and module.weight is not None:
            names[name] = name
            names[name.replace(".", "_")] = name
    return names


def _delta(parts: dict[str, Any], weight: Any) -> Any:
    up, down = parts["up"].float(), parts["down"].float()
    rank = down.shape[0]
    alpha = float(parts["alpha"]) if "alpha" in parts else float(rank)
    delta = (up.flatten(1) @ down.flatten(1)).reshape(weight.shape)
    return delta * (alpha / rank)


def _patched_copy(root: Any, patches: dict[str, Any], strength: float) -> Any:
    """A copy of `root` sharing all parameters except the patched layers' weights. A layer whose weight
    is stored quantized (`_quantized.StoredLinear`: a UNet loaded with weight_dtype fp8) becomes a plain
    Linear holding its patched weight in the compute dtype (the stored bytes cannot hold the sum)."""
    memo = {id(t): t for t in list(root.parameters()) + list(root.buffers())}
    clone = copy.deepcopy(root, memo)
    modules = dict(clone.named_modules())
    with torch.no_grad():
        for name, parts in patches.items():
            layer = modules[name]
            weight = layer.weight
            new = torch.nn.Parameter((weight.float() + strength * _delta(parts, weight).to(weight.device))
                                     .to(weight.dtype), requires_grad=False)
            if "weight" in layer._parameters:
                layer.weight = new
                continue
            plain = torch.nn.Linear(layer.in_features, layer.out_features, bias=False, device="meta")
            plain.weight, plain.bias = new, layer.bias
            parent, _, child = name.rpartition(".")
            setattr(modules[parent] if parent else clone, child, plain)
    return clone


def apply_lora(ctx: RunContext, model: Any, clip: Any, weights: dict[str, Any], strength_model: float,
               strength_clip: float) -> tuple[Any, Any]:
    spec = model.spec
    if spec is not None and spec.lora_loader:
        grouped, leftover = family_to_diffusers(weights, spec.lora_loader)
    else:
        grouped, leftover = to_diffusers(weights, model.unet.config)
    roots = {"unet": model.unet, "transformer": model.unet, "text_encoder": getattr(clip, "text_encoder", None),
             "text_encoder_2": getattr(clip, "text_encoder_2", None)}
    found: dict[str, dict[str, dict[str, Any]]] = {target: {} for target in _TARGETS}
    for target, modules in grouped.items():
        root = roots[target]
        if clip is None and target not in ("unet", "transformer"):
            continue  # the model only (LoRA Loader Model Only): text-encoder keys are not wanted
        index = _index(root) if root is not None else {}
        for module, parts in modules.items():
            # transformers 5's CLIPTextModel has no "text_model." level; LoRA files written for 4.x do.
            name = index.get(module) or index.get(re.sub(r"^text_model[._]", "", module))
            if name is None or "up" not in parts or "down" not in parts:
                leftover += [f"{target}.{module}.{part}" for part in parts]
                continue
            weight = root.get_submodule(name).weight
            if parts["up"].shape[0] != weight.shape[0] or parts["down"].flatten(1).shape[1] != weight[0].numel():
                raise NodeError(f"LoRA layer {module} has the wrong shape for this model "
                                f"({tuple(parts['up'].shape)} x {tuple(parts['down'].shape)} vs "
                                f"{tuple(weight.shape)}); is it made for another architecture?", "lora")
            found[target][name] = parts
    if not any(found.values()):
        raise NodeError("no layer of this model matches the LoRA; is it made for another architecture?", "lora")
    if leftover:
        ctx.warn(f"{len(leftover)} of {len(weights)} LoRA keys could not be placed in this model and were "
                 f"ignored (e.g. {sorted(leftover)[0]})")
    denoiser = found["unet"] or found["transformer"]
    if denoiser and strength_model != 0:
        model = dataclasses.replace(model, unet=_patched_copy(model.unet, denoiser, strength_model))
    if strength_clip != 0 and clip is not None:
        patched = {target: _patched_copy(roots[target], found[target], strength_clip)
                   for target in ("text_encoder", "text_encoder_2") if found[target]}
        if patched:
            clip = dataclasses.replace(clip, **patched)
            model = dataclasses.replace(model, clip=clip)  # its empty negative prompt uses the LoRA too
    counts = ", ".join(f"{len(found[t])} {_TARGETS[t]}" for t in _TARGETS if found[t])
    ctx.report(f"LoRA patched {counts} layers")
    return model, clip
