"""Model families as declared data: `FAMILIES`, `by_name` and `detect` (from a file's keys).

See `_spec` for what a family declares and `_declared` for the families themselves; how a file is
recognised as one is `nodeflow.core.family_detection`, shared with the model library. Nothing here
imports torch: the GUI, the memory plan and the importer can ask about families for free.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from nodeflow.core import NodeError
from nodeflow.core.family_detection import bare_shapes, denoiser_family
from nodes.families._declared import FAMILIES
from nodes.families._spec import LONG_PROMPT_HELP, LONG_PROMPTS, Family, LatentFormat, TextEncoder

__all__ = ["FAMILIES", "LONG_PROMPTS", "LONG_PROMPT_HELP", "Family", "LatentFormat", "TextEncoder", "bare_shapes",
           "by_comfy_clip_type", "by_name", "detect", "require_rope_width", "require_text_positions"]

_BY_NAME = {f.name: f for f in FAMILIES}


def by_name(name: str) -> Family | None:
    """The family called `name` (None for the SD UNet families, which predate this table)."""
    return _BY_NAME.get(name)


def by_comfy_clip_type(kind: str) -> tuple[Family, ...]:
    """Families whose text encoders ComfyUI's CLIP loaders name with `type` = kind."""
    return tuple(f for f in FAMILIES if kind in f.comfy_clip_types)


def detect(shapes: Mapping[str, Any], architecture: str = "") -> Family | None:
    """The declared family of a denoiser from its weights' {key: shape} (a file header is enough)
    and its `modelspec.architecture` metadata, or None (an SD UNet or something unknown): the
    model library's table (`core.family_detection`), so a file runs as the family it is listed as."""
    name = denoiser_family(shapes, architecture)
    return by_name(name) if name else None


def require_rope_width(head_dim: int, axes: Sequence[int], family: str) -> None:
    """A lone transformer file is sized from its tensors but keeps its family's shipped rotary axes,
    which must add up to the head width: heads of another width would need axes no file records, so
    the file is refused before a weight is read (a diffusers folder, whose config says, loads)."""
    if head_dim != sum(axes):
        raise NodeError(f"a {family} transformer with {head_dim}-wide attention heads is not one NodeFlow has a "
                        f"config for ({family}'s are {sum(axes)} wide); load it as a diffusers folder", "unet")


def require_text_positions(tokens: int, most: int, family: str, table: str) -> None:
    """One line, before the first step, when a prompt has more tokens than the transformer has text
    positions for (`table` says which of its config's rotary tables bounds them): a prompt read whole
    (Text Encode's long_prompt 'chunk') can be longer than any its pipeline gives it."""
    if tokens > most:
        raise NodeError(f"a prompt of {tokens} tokens is longer than this {family} transformer places ({most}, "
                        f"from its {table}); shorten it, or let Text Encode cut it at the pipeline's window "
                        "(long_prompt 'cut')", "positive")
