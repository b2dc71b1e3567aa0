"""Conditioning control nodes: where (area, mask), when (timestep range) and how much a prompt applies.

How these are used while sampling is decided in one place, `nodes.sampling._cond_call` (ComfyUI's rule):
every active prompt runs on its region and the outputs are averaged per latent cell, weighted by
strength x mask.
"""

from __future__ import annotations

from typing import Any

from nodeflow.core import Input, Node, NodeError, Output, RunContext
from nodeflow.core.types import CONDITIONING, FLOAT, INT, MASK, STRING


def _edit(conditioning: Any, **changes: Any) -> Any:
    from nodes.values import Conditioning

    return Conditioning([entry.with_(**changes) for entry in conditioning.entries])


class ConditioningZeroOut(Node):
    type_id = "conditioning.zero_out"
    title = "Conditioning Zero Out"
    category = "conditioning"
    description = (
        "Sets the prompt's text embeddings (and SDXL's pooled embedding) to zeros, keeping their "
        "shape: a 'no text at all' negative, which some models (SDXL refiners, turbo models) "
        "prefer to an empty prompt's embeddings."
    )
    inputs = (Input("conditioning", CONDITIONING),)
    outputs = (Output("conditioning", CONDITIONING),)

    def run(self, ctx: RunContext, conditioning: Any) -> tuple[Any]:
        import torch

        from nodes.values import Conditioning

        return (Conditioning([
            e.with_(embeds=torch.zeros_like(e.embeds), pooled=None if e.pooled is None else torch.zeros_like(e.pooled))
            for e in conditioning.entries]),)


class ConditioningAverage(Node):
    type_id = "conditioning.average"
    title = "Conditioning Average"
    category = "conditioning"
    description = (
        "Blends two prompts' embeddings into one: to_strength x 'to' + (1 - to_strength) x 'from' "
        "(and the same for SDXL's pooled embedding). Unlike Conditioning Combine this costs no "
        "extra model call. 'from' is cut or zero-padded to the length of 'to'; areas, masks and "
        "time ranges of 'to' are kept."
    )
    inputs = (
        Input("conditioning_to", CONDITIONING),
        Input("conditioning_from", CONDITIONING),
        Input("to_strength", FLOAT, default=1.0, min=0.0, max=1.0, step=0.01,
              help="1 = only 'to', 0 = only 'from'."),
    )
    outputs = (Output("conditioning", CONDITIONING),)

    def run(self, ctx: RunContext, conditioning_to: Any, conditioning_from: Any, to_strength: float) -> tuple[Any]:
        import torch

        from nodes.values import Conditioning

        if len(conditioning_from.entries) != 1:
            raise NodeError("conditioning_from must be a single prompt (only its first would be used)",
                            "conditioning_from")
        source = conditioning_from.entries[0]
        s = float(to_strength)
        entries = []
        for entry in conditioning_to.entries:
            if entry.embeds.shape[-1] != source.embeds.shape[-1]:
                raise NodeError("the two conditionings come from different text encoders", "conditioning_from")
            other = source.embeds[:, :entry.embeds.shape[1]]
            if other.shape[1] < entry.embeds.shape[1]:
                pad = torch.zeros((other.shape[0], entry.embeds.shape[1] - other.shape[1], other.shape[2]),
                                  dtype=other.dtype, device=other.device)
                other = torch.cat([other, pad], dim=1)
            pooled = entry.pooled
            if pooled is not None and source.pooled is not None:
                pooled = pooled * s + source.pooled * (1.0 - s)
            entries.append(entry.with_(embeds=entry.embeds * s + other * (1.0 - s), pooled=pooled))
        return (Conditioning(entries),)


class ConditioningSetArea(Node):
    type_id = "conditioning.set_area"
    title = "Conditioning Set Area"
    category = "conditioning/area"
    description = (
        "Makes the prompt apply only to a rectangle of the picture (pixels; rounded down to latent "
        "cells). Combine it with a prompt for the whole picture: where several prompts overlap "
        "their predictions are averaged weighted by strength, and the rectangle's edges inside the "
        "picture fade in over up to 8 latent cells. Cells no prompt covers get no guidance."
    )
    inputs = (
        Input("conditioning", CONDITIONING),
        Input("width", INT, default=64, min=8, max=16384, step=8),
        Input("height", INT, default=64, min=8, max=16384, step=8),
        Input("x", INT, default=0, min=0, max=16384, step=8),
        Input("y", INT, default=0, min=0, max=16384, step=8),
        Input("strength", FLOAT, default=1.0, min=0.0, max=10.0, step=0.01),
    )
    outputs = (Output("conditioning", CONDITIONING),)

    def run(self, ctx: RunContext, conditioning: Any, width: int, height: int, x: int, y: int,
            strength: float) -> tuple[Any]:
        return (_edit(conditioning, area=(int(height), int(width), int(y), int(x)), strength=float(strength),
                      mask_bounds=False),)


class ConditioningSetMask(Node):
    type_id = "conditioning.set_mask"
    title = "Conditioning Set Mask"
    category = "conditioning/area"
    description = (
        "Makes the prompt apply where the mask is (weighted by mask x strength; the mask is resized "
        "to the latent). area 'mask bounds' runs the model only on the mask's bounding box (as if "
        "the prompt had that area): faster, and the prompt is drawn at the box's scale."
    )
    inputs = (
        Input("conditioning", CONDITIONING),
        Input("mask", MASK),
        Input("strength", FLOAT, default=1.0, min=0.0, max=10.0, step=0.01),
        Input("area", STRING, default="default", choices=("default", "mask bounds")),
    )
    outputs = (Output("conditioning", CONDITIONING),)

    def run(self, ctx: RunContext, conditioning: Any, mask: Any, strength: float, area: str) -> tuple[Any]:
        return (_edit(conditioning, mask=mask, mask_strength=float(strength), mask_bounds=area == "mask bounds"),)


class ConditioningSetTimestepRange(Node):
    type_id = "conditioning.set_timestep_range"
    title = "Conditioning Set Timestep Range"
    category = "conditioning"
    description = (
        "Uses the prompt only during part of sampling: start and end are fractions of the noise "
        "schedule (0 = pure noise, 1 = clean), as in ComfyUI: the prompt is used while the model's "
        "timestep t lies in [(1 - end) x 999, (1 - start) x 999]. Combine two prompts with "
        "ranges 0-0.5 and 0.5-1 to set the layout with one and the details with the other."
    )
    inputs = (
        Input("conditioning", CONDITIONING),
        Input("start", FLOAT, default=0.0, min=0.0, max=1.0, step=0.001),
        Input("end", FLOAT, default=1.0, min=0.0, max=1.0, step=0.001),
    )
    outputs = (Output("conditioning", CONDITIONING),)

    def run(self, ctx: RunContext, conditioning: Any, start: float, end: float) -> tuple[Any]:
        if start > end:
            raise NodeError(f"start {start:g} is after end {end:g}", "start")
        return (_edit(conditioning, time_range=(float(start), float(end))),)
