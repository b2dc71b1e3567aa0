"""Prompts -> one guided velocity per step for a flow-matching transformer.

Each active positive prompt (its time range holds at this step) runs the family's denoiser; several
are averaged by strength, as for the UNets (`nodes.sampling._cond_call`). Classifier-free guidance follows the
family's pipeline: "batched" (SD3: negative and positive in one call, split after) or "separate"
(Flux's and Chroma's true CFG: a second call), mixed as uncond + cfg * (cond - uncond), cfg one scale
or, over a video with its soundtrack, each stream's own (`nodes.latent._streams.guidance_scale`). With Skip
Layer Guidance on the model (`values.SkipLayers`), `skipped` gives the positive prompts' output with
the named transformer blocks skipped; each convention's loop decides at which steps it applies.
A family's denoiser call that declares `takes_schedule` (a step-distilled flow map, told where each
step lands) is given the run's `schedule`: its timesteps (0..1000) in order; one that declares
`takes_streams` is given the layout of a latent with a soundtrack (`nodes.latent._streams`), and one
that declares `takes_mask` the noise mask of a family that keeps the unmasked part clean (`keep_mask`).
"""

from __future__ import annotations

import functools
from typing import Any

from nodeflow.core import NodeError
from nodes._lazy import lazy
from nodes.latent._streams import guidance_scale
from nodes.sampling._cond_call import _area_fade, _bounds, is_active

torch = lazy("torch")


class FlowCall:
    """Prepared prompts for one run; `velocity(latents, t)` gives the guided model output."""

    def __init__(self, model: Any, positive: Any, negative: Any, cfg: float, batch: int,
                 size: tuple[int, int], cfg_on: bool | None = None, schedule: Any = None,
                 streams: Any = None, stream_cfg: tuple[float, ...] = ()) -> None:
        if not positive.entries:
            raise NodeError("the positive conditioning is empty", "positive")
        spec = model.spec
        self.cfg_on = cfg > 1.0 if cfg_on is None else cfg_on
        if self.cfg_on and (negative is None or not negative.entries):
            raise NodeError("cfg above 1 needs a negative conditioning (an empty prompt is fine)", "negative")
        self.cfg, self.batched = float(cfg), spec.cfg == "batched" and self.cfg_on
        for entry in list(positive.entries) + (list(negative.entries) if negative is not None else []):
            method = entry.reference_method
            if entry.references and method is not None and method not in spec.reference_methods:
                known = ", ".join(spec.reference_methods) or "none: it takes no reference pictures"
                raise NodeError(f"{spec.title} does not place reference pictures by '{method}' (Edit Model "
                                f"Reference Method; it knows {known})", "positive")
        self.skip = model.skip_layers
        make = spec.module().Denoise
        #: The family's own guidance mix where its pipeline rescales it (Qwen-Image's norm), with the
        #: model's settings for it where a node set some (Lumina 2 Guidance); a family whose pipelines
        #: mix differently by mode picks it from the positive prompts (`mix_for`: LongCat's edit).
        module = spec.module()
        chooser = getattr(module, "mix_for", None)
        self.mix = chooser(positive.entries) if chooser is not None else getattr(module, "mix", None)
        if self.mix is not None and model.guidance_options is not None:
            self.mix = functools.partial(self.mix, options=model.guidance_options)
        if self.mix is not None and stream_cfg:
            raise NodeError(f"{spec.title} mixes its guidance its own way: one cfg for all, not one per stream",
                            "guider")
        #: The plain mix's scale: cfg, or each stream's own over its numbers (`_streams.guidance_scale`).
        self.scale = guidance_scale(self.cfg, stream_cfg, streams, model.device)
        entries = list(positive.entries) + (list(negative.entries) if self.cfg_on else [])
        self.regions: tuple[list[_Region], list[_Region]] | None = None
        if any(e.area is not None or e.mask is not None for e in entries) or (
                self.cfg_on and len(negative.entries) > 1):
            self.batched = False  # each prompt on its own region: no pipeline to match
            negatives = [e.with_(guidance=positive.entries[0].guidance) if e.guidance is None else e
                         for e in (negative.entries if self.cfg_on else [])]
            self.regions = ([_Region(model, e, batch, size, make) for e in positive.entries],
                            [_Region(model, e, batch, size, make) for e in negatives])
            if self.skip is not None:
                raise NodeError("Skip Layer Guidance runs on prompts over the whole picture, not on ones restricted "
                                "to an area or a mask", "positive")
            if streams is not None:
                raise NodeError(f"{spec.title} runs each prompt over the whole video and its soundtrack: one "
                                "negative prompt, none restricted to an area or a mask", "positive")
            self.calls = [r.denoise for r in self.regions[0] + self.regions[1]]
            _give_schedule(self.calls, schedule)
            return
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
        self.calls = [d for _, d in self.positive] + [self.negative] + list(self.pair or ())
        _give_schedule(self.calls, schedule, streams)

    def keep_mask(self, mask: Any) -> None:
        """Tell the denoiser calls that take it (`takes_mask`) the run's noise mask over a plain latent
        (1 = generate) when the family keeps the rest clean (`Family.mask_keeps_clean`): Wan 2.2 5B's
        transformer reads it as each token's timestep."""
        for denoise in self.calls:
            if getattr(denoise, "takes_mask", False):
                denoise.mask = mask

    def velocity(self, latents: Any, t: Any, skip: bool = False, guide: bool = True) -> Any:
        """The guided model output for latents at scheduler timestep t (0..1000); `skip`: push it away
        from the output with the Skip Layer Guidance blocks skipped (the caller decides the steps);
        `guide` False: the positive output alone, one call (a pipeline that stops guiding early)."""
        cond, uncond = self.outputs(latents, t, guide)
        if not self.cfg_on or not guide:
            guided = cond
        elif self.mix is not None:
            guided = self.mix(cond, uncond, self.cfg)
        else:
            guided = uncond + self.scale * (cond - uncond)
        if skip:
            guided = guided + (cond - self.skipped(latents, t)) * self.skip.scale
        return guided

    def outputs(self, latents: Any, t: Any, guide: bool = True) -> tuple[Any, Any]:
        """(positive output, negative output or None: without guidance or `guide`) at timestep t (a
        tensor, 0..1000)."""
        step = float(t.flatten()[0]) if t.ndim else float(t)
        if self.regions is not None:
            positive, negative = self.regions
            return _combine(positive, latents, t, step), _combine(negative, latents, t, step) if self.cfg_on else None
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
        cond = _average(outputs, weights, latents)
        if not self.cfg_on or not guide:
            return cond, None
        if uncond is None:
            uncond = self.negative(latents, t) if self.negative is not None else self.pair[0](latents, t)[0]
        return cond, uncond


    def skipped(self, latents: Any, t: Any) -> Any:
        """The positive prompts' output with the Skip Layer Guidance blocks skipped."""
        step = float(t.flatten()[0]) if t.ndim else float(t)
        active = [(e, d) for e, d in self.positive if is_active(e.time_range, step, 1000)]
        outputs = [d(latents, t, skip=self.skip.layers) for _, d in active]
        return _average(outputs, [float(e.strength) for e, _ in active], latents)


def _give_schedule(denoisers: list[Any], schedule: Any, streams: Any = None) -> None:
    """Tell the denoiser calls that take it the run's schedule (see the module docstring), and the layout
    of a latent with a soundtrack (`nodes.latent._streams.Joint`) to those that take one; a call that
    does not is refused such a latent."""
    for denoise in denoisers:
        if denoise is None:
            continue
        if getattr(denoise, "takes_schedule", False):
            denoise.schedule = schedule
        if getattr(denoise, "takes_streams", False):
            denoise.streams = streams
        elif streams is not None:
            raise NodeError("this model does not denoise a soundtrack beside its latent here: give it the video "
                            "latent alone (LTXV Separate AV Latent)", "latent_image")


def _average(outputs: list[Any], weights: list[float], latents: Any) -> Any:
    """Several prompts' outputs averaged by strength (zeros when none is active)."""
    if not outputs:
        return torch.zeros_like(latents)
    if len(outputs) == 1:
        return outputs[0]
    total = sum(weights) or 1.0
    return sum(w / total * c for w, c in zip(weights, outputs, strict=True))


class _Region:
    """A prompt restricted to an area and/or a mask (ComfyUI's rule, `nodes.sampling._cond_call`): the
    model runs on its box of latent cells (snapped to the family's patch size) and its output is
    weighted there by strength x mask, area edges inside the picture fading in."""

    def __init__(self, model: Any, entry: Any, batch: int, size: tuple[int, int], make: Any) -> None:
        h, w = size
        factor = model.vae_scale_factor
        own = getattr(model.unet.config, "patch_size", 1) or 1  # a video transformer's is (frames, h, w)
        patch = max(model.spec.latent.patch, int(own[-1] if isinstance(own, (list, tuple)) else own))
        self.entry, self.box, self.weight = entry, None, None
        if entry.area is not None:
            ah, aw, ay, ax = entry.area
            top, left = min(ay // factor, h - 1), min(ax // factor, w - 1)
            self.box = (top, min(h, top + max(1, ah // factor)), left, min(w, left + max(1, aw // factor)))
        if entry.mask is not None:
            mask = entry.mask[None] if entry.mask.ndim == 2 else entry.mask
            mask = torch.nn.functional.interpolate(mask[:, None].float(), size=(h, w), mode="bilinear")
            self.weight = (mask * float(entry.mask_strength)).to(device=model.device)
            if entry.mask_bounds and self.box is None:
                self.box = _bounds(self.weight)
        if self.box is not None:
            self.box = _snap(self.box, patch, h, w)
            top, bottom, left, right = self.box
            full = torch.ones((1, 1, h, w), device=model.device) if self.weight is None else self.weight
            self.weight = full[..., top:bottom, left:right] * _area_fade(self.box, h, w, model.device)
        if self.weight is not None:
            self.weight = self.weight * float(entry.strength)
        box_size = size if self.box is None else (self.box[1] - self.box[0], self.box[3] - self.box[2])
        self.denoise = make(model, entry, batch, box_size)


def _snap(box: tuple[int, int, int, int], patch: int, h: int, w: int) -> tuple[int, int, int, int]:
    """A box grown to whole patches (Flux packs 2x2 cells), kept inside the picture."""
    top, bottom, left, right = box

    def span(start: int, end: int, limit: int) -> tuple[int, int]:
        length = -(-(end - start) // patch) * patch
        start = min(start - start % patch, limit - length)
        return max(0, start), max(0, start) + length

    top, bottom = span(top, bottom, h)
    left, right = span(left, right, w)
    return top, bottom, left, right


def _combine(regions: list[_Region], latents: Any, t: Any, step: float) -> Any:
    """The weighted average of the active prompts' outputs per latent cell (0 where none applies)."""
    out, count = torch.zeros_like(latents), torch.zeros_like(latents)
    for region in regions:
        if not is_active(region.entry.time_range, step, 1000):
            continue
        weight = region.weight if region.weight is not None else float(region.entry.strength)
        if region.box is None:
            out += region.denoise(latents, t) * weight
            count += weight
            continue
        top, bottom, left, right = region.box
        out[..., top:bottom, left:right] += region.denoise(latents[..., top:bottom, left:right], t) * weight
        count[..., top:bottom, left:right] += weight
    return torch.where(count > 0, out / count.clamp_min(1e-37), torch.zeros_like(out))
