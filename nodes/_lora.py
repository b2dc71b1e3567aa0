"""LoRA files: read them (safetensors only), find the layers they patch, merge them into copies.

Understood key styles, for the UNet and the CLIP text encoder:
  diffusers / PEFT   unet.<module>.lora_A.weight / lora_B.weight   (text_encoder.<module>...)
  older diffusers    unet.<module>.lora.down.weight / lora.up.weight
  kohya (sd-scripts) lora_unet_<module_with_underscores>.lora_down.weight / lora_up.weight / alpha
                     lora_te_<module_with_underscores>...
The change to a layer is strength * alpha / rank * up @ down (alpha defaults to rank).

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

_SUFFIXES = {
    ".lora_A.weight": "down", ".lora_B.weight": "up",
    ".lora.down.weight": "down", ".lora.up.weight": "up",
    ".lora_down.weight": "down", ".lora_up.weight": "up",
    ".alpha": "alpha",
}
_TARGETS = {"unet.": "unet", "lora_unet_": "unet", "text_encoder.": "clip", "lora_te_": "clip",
            "lora_te1_": "clip"}


def read_lora(path: Path) -> dict[str, Any]:
    if path.suffix.lower() != ".safetensors":
        raise NodeError("LoRAs are read from .safetensors files only (pickle files could run code)", "lora")
    from safetensors.torch import load_file

    try:
        return load_file(str(path))
    except Exception as exc:
        raise NodeError(f"{path.name} is not a readable .safetensors file: {exc}", "lora") from None


def group_lora(weights: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    """{(target, module name as written): {"up", "down", "alpha"}} from a LoRA state dict."""
    groups: dict[tuple[str, str], dict[str, Any]] = {}
    for key, value in weights.items():
        suffix = next((s for s in _SUFFIXES if key.endswith(s)), None)
        prefix = next((p for p in _TARGETS if key.startswith(p)), None)
        if suffix is None or prefix is None:
            continue
        module = key[len(prefix): -len(suffix)]
        groups.setdefault((_TARGETS[prefix], module), {})[_SUFFIXES[suffix]] = value
    return groups


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
    """A copy of `root` sharing all parameters except the patched layers' weights."""
    memo = {id(t): t for t in list(root.parameters()) + list(root.buffers())}
    clone = copy.deepcopy(root, memo)
    modules = dict(clone.named_modules())
    with torch.no_grad():
        for name, parts in patches.items():
            layer = modules[name]
            weight = layer.weight
            new = (weight.float() + strength * _delta(parts, weight).to(weight.device)).to(weight.dtype)
            layer.weight = torch.nn.Parameter(new, requires_grad=False)
    return clone


def apply_lora(ctx: RunContext, model: Any, clip: Any, weights: dict[str, Any], strength_model: float,
               strength_clip: float) -> tuple[Any, Any]:
    groups = group_lora(weights)
    if not groups:
        raise NodeError("this file holds no LoRA weights in a known key style", "lora")
    roots = {"unet": model.unet, "clip": clip.text_encoder}
    found: dict[str, dict[str, Any]] = {"unet": {}, "clip": {}}
    missing = []
    for (target, module), parts in groups.items():
        if "up" not in parts or "down" not in parts:
            continue
        index = _index(roots[target])
        # transformers 5's CLIPTextModel has no "text_model." level; LoRA files written for 4.x do.
        name = index.get(module) or index.get(re.sub(r"^text_model[._]", "", module))
        if name is None:
            missing.append(module)
            continue
        weight = roots[target].get_submodule(name).weight
        if parts["up"].shape[0] != weight.shape[0] or parts["down"].flatten(1).shape[1] != weight[0].numel():
            raise NodeError(f"LoRA layer {module} has the wrong shape for this model "
                            f"({tuple(parts['up'].shape)} x {tuple(parts['down'].shape)} vs "
                            f"{tuple(weight.shape)}); is it made for another architecture?", "lora")
        found[target][name] = parts
    if not found["unet"] and not found["clip"]:
        raise NodeError("no layer of this model matches the LoRA; is it made for another architecture?", "lora")
    if missing:
        ctx.warn(f"{len(missing)} LoRA layers match nothing in this model and were skipped "
                 f"(e.g. {missing[0]})")
    if found["unet"] and strength_model != 0:
        model = dataclasses.replace(model, unet=_patched_copy(model.unet, found["unet"], strength_model))
    if found["clip"] and strength_clip != 0:
        clip = dataclasses.replace(clip, text_encoder=_patched_copy(clip.text_encoder, found["clip"],
                                                                     strength_clip))
        model = dataclasses.replace(model, clip=clip)  # its empty negative prompt uses the LoRA too
    ctx.report(f"LoRA patched {len(found['unet'])} UNet and {len(found['clip'])} text encoder layers")
    return model, clip
