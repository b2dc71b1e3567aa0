"""Prompts -> one guided velocity per step for a flow-matching transformer.

Each active positive prompt (its time range holds at this step) runs the family's denoiser; several
are averaged by strength, as for the UNets (`nodes.sampling._cond_call`). Classifier-free guidance follows the
family's pipeline: "batched" (SD3: negative and positive in one call, split after) or "separate"
(Flux's and Chroma's true CFG: a second call), mixed as uncond + cfg * (cond - uncond).
"""

from __future__ import annotations

from typing import Any

from nodeflow.core import NodeError
from nodes._lazy import lazy
from nodes.sampling._cond_call import is_active

torch = lazy("torch")


class FlowCall:
    """Prepared prompts for one run; `velocity(latents, t)` gives the guided model output."""

    def __init__(self, model: Any, positive: Any, negative: Any, cfg: float, batch: int,
                 size: tuple[int, int], cfg_on: bool | None = None) -> None:
        if not positive.entries:
            raise NodeError("the positive conditioning is empty", "positive")
        spec = model.spec
        self.cfg_on = cfg > 1.0 if cfg_on is None else cfg_on
        if self.cfg_on and (negative is None or not negative.entries):
            raise NodeError("cfg above 1 needs a negative conditioning (an empty prompt is fine)", "negative")
        for entry in list(positive.entries) + (list(negative.entries) if self.cfg_on else []):
            if entry.area is not None or entry.mask is not None:
                raise NodeError(f"{spec.title} does not take prompts restricted to an area or a mask yet",
                                "positive")
        if self.cfg_on and len(negative.entries) > 1:
            raise NodeError("give a flow model's negative one prompt (combine them before)", "negative")
        self.cfg, self.batched = float(cfg), spec.cfg == "batched" and self.cfg_on
        make = spec.module().Denoise
        #: The family's own guidance mix where its pipeline rescales it (Qwen-Image's norm).
        self.mix = getattr(spec.module(), "mix", None)
        self.positive = [(e, make(model, e, batch, size)) for e in positive.entries]
        self.negative = None
        self.pair = None
        if self.cfg_on:
            neg = negative.entries[0]
            if neg.guidance is None:  # the pipelines' one guidance value serves both calls
                neg = neg.with_(guidance=positive.entries[0].guidance)
            if self.batched:
                self.pair = [make.batched(model, neg, e, batch, size) for e in positive.entries]
            else:
                self.negative = make(model, neg, batch, size)

    def velocity(self, latents: Any, t: Any) -> Any:
        """The guided model output for latents at scheduler timestep t (0..1000)."""
        cond, uncond = self.outputs(latents, t)
        if not self.cfg_on:
            return cond
        if self.mix is not None:
            return self.mix(cond, uncond, self.cfg)
        return uncond + self.cfg * (cond - uncond)

    def outputs(self, latents: Any, t: Any) -> tuple[Any, Any]:
        """(positive output, negative output or None) at timestep t (a tensor, 0..1000)."""
        step = float(t.flatten()[0]) if t.ndim else float(t)
        outputs, weights, uncond = [], [], None
        for i, (entry, denoise) in enumerate(self.positive):
            if not is_active(entry.time_range, step, 1000):
                continue
            if self.batched:
                un, cond = self.pair[i](latents, t)
                uncond = un if uncond is None else uncond
            else:
                cond = denoise(latents, t)
            outputs.append(cond)
            weights.append(float(entry.strength))
        if not outputs:
            cond = torch.zeros_like(latents)
        elif len(outputs) == 1:
            cond = outputs[0]
        else:
            total = sum(weights) or 1.0
            cond = sum(w / total * c for w, c in zip(weights, outputs, strict=True))
        if not self.cfg_on:
            return cond, None
        if uncond is None:
            uncond = self.negative(latents, t) if self.negative is not None else self.pair[0](latents, t)[0]
        return cond, uncond
