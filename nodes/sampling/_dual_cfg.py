"""Dual CFG Guider's maths (the node: `nodes.sampling.dual_cfg`), as ComfyUI's DualCFGGuider guides,
written from its documented behaviour.

Three prompts are predicted at each step: p (the positive, ComfyUI's cond1), m (the guider's `middle` prompt,
cond2) and n (the negative). With cfg1 the guider's `cfg` (cfg_conds), cfg2 its middle's cfg (cfg_cond2_negative)
and guide(cond, uncond, scale) the convention's one classifier-free mix (uncond + (cond - uncond) * scale;
in the comfyui convention Renorm CFG's mix in its place and CFG Norm's rescale after it, as ComfyUI's
cfg function runs its hooks):
- regular: guide(m, n, cfg2) + (p - m) * cfg1. With cfg2 1 the negative is not run and guide sees
  none (m alone, as ComfyUI's cfg-1 shortcut mixes it with a zero negative); with cfg1 1 as well the
  middle is not run either and the result is p.
- nested (the middle's third field): n + (guide(p, m, cfg1) - n) * cfg2; all three always run.
So with m equal to n, regular is CFG Guider's n + (p - n) * cfg1 (n + (m - n) * cfg2 is n; the negative
runs in a call of its own, so up to that call's rounding), and nested is n + (p - n) * cfg1 * cfg2 up to
rounding. HiDream-E1's editing pipeline guides as regular
does: uncond + image_cfg * (image_cond - uncond) + cfg * (full_cond - image_cond).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from nodeflow.core import NodeError
from nodes.values import Guider

#: guide(cond, uncond or None, scale) -> the guided prediction.
Guide = Callable[[Any, Any, float], Any]


def plain(cond: Any, uncond: Any, scale: float) -> Any:
    """The plain classifier-free mix (uncond None: guidance skipped, cond alone)."""
    return cond if uncond is None else uncond + (cond - uncond) * scale


def runs(cfg: float, cfg2: float, nested: bool) -> tuple[bool, bool]:
    """(whether the middle prompt runs, whether the negative runs): regular skips the negative at cfg2 1
    and the middle too when cfg1 is 1 as well; nested runs both always."""
    if nested:
        return True, True
    negative = not math.isclose(cfg2, 1.0)
    return negative or not math.isclose(cfg, 1.0), negative


def mix(guider: Guider, cond: Any, middle: Any, uncond: Any, guide: Guide = plain) -> Any:
    """The guided prediction from the three prompts' predictions (None where `runs` skipped one)."""
    cfg, (_, cfg2, nested) = float(guider.cfg), guider.middle
    if nested:
        return uncond + (guide(cond, middle, cfg) - uncond) * cfg2
    if middle is None:
        return cond
    return guide(middle, uncond, cfg2) + (cond - middle) * cfg


class DualCall:
    """The three prompts' outputs per step from a convention's two-prompt call: `make(positive, negative,
    cfg_on)` builds one (CondCall, FlowCall); the positive and the middle run as one such pair (batched as
    the family's pipeline batches a prompt with its negative), the negative on its own."""

    def __init__(self, make: Callable[[Any, Any, bool], Any], guider: Guider) -> None:
        middle, cfg2, nested = guider.middle
        middle_on, negative_on = runs(float(guider.cfg), float(cfg2), nested)
        if middle_on and not middle.entries:
            raise NodeError("Dual CFG Guider's cond2 is empty", "cond2")
        if negative_on and (guider.negative is None or not guider.negative.entries):
            raise NodeError("Dual CFG Guider's negative is empty (an empty prompt is fine)", "negative")
        self.pair = make(guider.positive, middle, middle_on)
        self.negative = make(guider.negative, None, False) if negative_on else None
        self.cfg_on = True

    @property
    def calls(self) -> list[Any]:
        return [self.pair] + ([self.negative] if self.negative is not None else [])

    def keep_mask(self, mask: Any) -> None:
        """Hand a noise mask to the calls that take one (`FlowCall.keep_mask`)."""
        for call in self.calls:
            keep = getattr(call, "keep_mask", None)
            if keep is not None:
                keep(mask)

    def outputs(self, x: Any, t: Any, *args: Any) -> tuple[Any, Any, Any]:
        """(positive, middle or None, negative or None) outputs of the model for x at t."""
        cond, middle = self.pair.outputs(x, t, *args)
        uncond = self.negative.outputs(x, t, *args)[0] if self.negative is not None else None
        return cond, middle, uncond


class DualVelocity(DualCall):
    """The diffusers convention's flow call for a Dual CFG guider: `velocity` as `FlowCall.velocity` gives
    it, mixed in velocity space (the mix's weights sum to 1, so it is the denoised images' mix)."""

    def __init__(self, make: Callable[[Any, Any, bool], Any], guider: Guider) -> None:
        super().__init__(make, guider)
        self.guider = guider
        if guider.model.skip_layers is not None:
            raise NodeError("Skip Layer Guidance runs with CFG Guider, not Dual CFG Guider", "guider")
        if self.pair.mix is not None:
            raise NodeError(f"{guider.model.spec.title}'s pipeline mixes its guidance its own way; Dual CFG Guider "
                            "runs it in the comfyui convention", "guider")

    def velocity(self, latents: Any, t: Any, skip: bool = False, guide: bool = True) -> Any:
        """The guided velocity at timestep t; `guide` False: the positive prompt's alone (one call). `skip`
        is never asked: a model with Skip Layer Guidance is refused above."""
        if not guide:
            return self.pair.outputs(latents, t, False)[0]
        return mix(self.guider, *self.outputs(latents, t))
