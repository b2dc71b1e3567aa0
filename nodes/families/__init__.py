"""Model families as declared data: `FAMILIES`, `by_name` and `detect` (from a file's keys).

See `_spec` for what a family declares and `_declared` for the families themselves. Nothing here
imports torch: the GUI, the memory plan and the importer can ask about families for free.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from nodes.families._declared import FAMILIES
from nodes.families._spec import Detection, Family, LatentFormat, TextEncoder

__all__ = ["FAMILIES", "Detection", "Family", "LatentFormat", "TextEncoder", "bare_shapes", "by_comfy_clip_type",
           "by_name", "detect"]

_BY_NAME = {f.name: f for f in FAMILIES}


def by_name(name: str) -> Family | None:
    """The family called `name` (None for the SD UNet families, which predate this table)."""
    return _BY_NAME.get(name)


def by_comfy_clip_type(kind: str) -> tuple[Family, ...]:
    """Families whose text encoders ComfyUI's CLIP loaders name with `type` = kind."""
    return tuple(f for f in FAMILIES if kind in f.comfy_clip_types)


def _suffix_index(keys: Iterable[str]) -> dict[str, str]:
    """{key without any of the wrappers files put around a denoiser: full key}."""
    index: dict[str, str] = {}
    for key in keys:
        bare = key
        for prefix in ("model.diffusion_model.", "diffusion_model.", "transformer.", "model."):
            if bare.startswith(prefix):
                bare = bare[len(prefix):]
                break
        index.setdefault(bare, key)
    return index


def bare_shapes(shapes: Mapping[str, Any]) -> dict[str, tuple[int, ...]]:
    """{key without its wrapper prefix: shape}, for reading a denoiser's sizes off its header."""
    return {bare: tuple(int(d) for d in shapes[key]) for bare, key in _suffix_index(shapes).items()}


def _matches(rule: Detection, index: Mapping[str, str], shapes: Mapping[str, Any], arch: str) -> bool:
    if rule.architectures:
        return any(arch.startswith(a) for a in rule.architectures)
    if not rule.keys or any(k not in index for k in rule.keys) or any(k in index for k in rule.without):
        return False
    for key, axis, size in rule.shapes:
        shape = shapes.get(index.get(key, ""))
        if shape is None or len(shape) <= axis or int(shape[axis]) != size:
            return False
    return True


def detect(shapes: Mapping[str, Any], architecture: str = "") -> Family | None:
    """The family of a denoiser from its weights' {key: shape} (a file header is enough) and its
    `modelspec.architecture` metadata, or None (an SD UNet or something unknown)."""
    arch = architecture.strip().lower()
    index = _suffix_index(shapes)
    for family in FAMILIES:
        if arch and any(_matches(r, index, shapes, arch) for r in family.detection if r.architectures):
            return family
    for family in FAMILIES:
        if any(_matches(r, index, shapes, arch) for r in family.detection if not r.architectures):
            return family
    return None
