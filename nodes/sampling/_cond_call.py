"""One model call per step for prompts with areas, masks, time ranges and ControlNets.

The rule (ComfyUI's): each prompt that is active at this step runs the model on its region (the
whole latent, its area, or its mask's bounding box); its output is weighted there by strength x
mask (area edges inside the picture fade in), and the positive output is the weighted average of
all active positive prompts per latent cell; the same for the negative. A cell no active prompt
covers gets 0. A prompt is active while the model's timestep t lies in its time range:
(1 - end) * (N - 1) <= t <= (1 - start) * (N - 1) for a model trained on N timesteps (start 0 and
end 1 always hold), i.e. ComfyUI's percent of the noise schedule; ControlNets use the same rule.

Plain prompts (whole picture, no mask) with one plain negative take the pipelines' path: one
batched [negative, positive] UNet (and ControlNet) call per positive prompt, so the pixels stay
equal to diffusers' for the same settings.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from nodeflow.core import NodeError
from nodes._lazy import lazy
from nodes.conditioning._controlnet import residuals
from nodes.values import CondEntry, Conditioning, Model

torch = lazy("torch")

#: Area edges inside the picture fade in over at most this many latent cells (ComfyUI's 8).
AREA_FADE = 8


def is_active(time_range: tuple[float, float], t: float, train_steps: int) -> bool:
    """Whether a (start, end) fraction of the schedule includes model timestep t (see module doc)."""
    start, end = time_range
    last = train_steps - 1
    return (start <= 0 or t <= (1 - start) * last + 1e-4) and (end >= 1 or t >= (1 - end) * last - 1e-4)


def _t(t: Any) -> float:
    """A model timestep as a number (callers pass a 0-d tensor or one per batch row)."""
    return float(t.flatten()[0]) if hasattr(t, "flatten") else float(t)


def _embeds(entry: CondEntry, batch: int, length: int) -> Any:
    embeds = entry.embeds
    _, seq_len, _ = embeds.shape
    embeds = embeds.repeat(1, batch, 1).view(embeds.shape[0] * batch, seq_len, -1)
    return embeds if seq_len == length else embeds.repeat(1, length // seq_len, 1)


@dataclass(eq=False)
class _Prompt:
    entry: CondEntry
    embeds: Any  # [B, T, D]
    pooled: Any  # [B, P] or None
    time_ids: Any  # [B, 6] or None
    box: tuple[int, int, int, int] | None  # top, bottom, left, right in latent cells
    weight: Any  # [1 or B, 1, h, w] over the box, or None for strength everywhere

    @property
    def plain(self) -> bool:
        return self.box is None and self.weight is None


class CondCall:
    """Prepared prompts for one sampling run; `outputs(x_in, t)` gives (positive, negative) outputs."""

    def __init__(self, model: Model, positive: Conditioning, negative: Conditioning | None, cfg_on: bool,
                 batch: int, latent_size: tuple[int, int], train_steps: int = 1000) -> None:
        if not positive.entries:
            raise NodeError("the positive conditioning is empty", "positive")
        if cfg_on and (negative is None or not negative.entries):
            raise NodeError("cfg above 1 needs a negative conditioning (an empty prompt is fine)", "negative")
        self.model, self.batch, self.cfg_on, self.train_steps = model, batch, cfg_on, train_steps
        self.size = latent_size
        entries = list(positive.entries) + (list(negative.entries) if cfg_on else [])
        dims = {e.embeds.shape[-1] for e in entries}
        if len(dims) > 1:
            raise NodeError(f"positive and negative prompts come from different text encoders "
                            f"({' vs '.join(str(d) for d in sorted(dims))} features)", "negative")
        # Prompts of different lengths (chunked or concatenated) are repeated to a common length.
        length = math.lcm(*(e.embeds.shape[1] for e in entries))
        self.positive = [self._prepare(e, length) for e in positive.entries]
        self.negative = [self._prepare(e, length) for e in negative.entries] if cfg_on else []
        self.batched = all(p.plain for p in self.positive) and (
            not cfg_on or (len(self.negative) == 1 and self.negative[0].plain
                           and self.negative[0].entry.time_range == (0.0, 1.0)))

    def _prepare(self, entry: CondEntry, length: int) -> _Prompt:
        model, batch = self.model, self.batch
        h, w = self.size
        factor = model.vae_scale_factor
        pooled = time_ids = None
        if model.family == "sdxl":
            if entry.pooled is None:
                raise NodeError("an SDXL model needs prompts encoded by an SDXL text encoder", "positive")
            size = entry.size or (h * factor, w * factor, 0, 0, h * factor, w * factor)
            time_ids = torch.tensor([list(size)], dtype=model.dtype, device=model.device).repeat(batch, 1)
            pooled = entry.pooled.repeat(batch, 1)
        box = None
        if entry.area is not None:
            ah, aw, ay, ax = entry.area
            top, left = min(ay // factor, h - 1), min(ax // factor, w - 1)
            box = (top, min(h, top + max(1, ah // factor)), left, min(w, left + max(1, aw // factor)))
        weight = None
        if entry.mask is not None:
            mask = entry.mask[None] if entry.mask.ndim == 2 else entry.mask
            mask = torch.nn.functional.interpolate(mask[:, None].float(), size=(h, w), mode="bilinear")
            mask = (mask * float(entry.mask_strength)).to(device=model.device)
            if entry.mask_bounds and box is None:
                box = _bounds(mask)
            weight = mask
        if box is not None:
            top, bottom, left, right = box
            full = torch.ones((1, 1, h, w), device=model.device) if weight is None else weight
            weight = full[..., top:bottom, left:right] * _area_fade(box, h, w, model.device)
        if weight is not None:
            weight = weight * float(entry.strength)
        return _Prompt(entry, _embeds(entry, batch, length), pooled, time_ids, box, weight)

    # ----------------------------------------------------------------------------------- calls

    def _unet(self, x: Any, t: Any, context: Any, added: Any, extra: Any, parts: list, box: Any) -> Any:
        model = self.model
        if extra is not None:
            x_model = torch.cat([x, extra], dim=1)
        else:
            x_model = x
        factor = model.vae_scale_factor
        pixel_box = None if box is None else tuple(v * factor for v in box)
        size = (self.size[0] * factor, self.size[1] * factor)
        res = residuals(parts, x, t, context, added, size, pixel_box,
                        lambda c: is_active((c.start, c.end), _t(t), self.train_steps))
        kwargs = {}
        if res is not None:
            kwargs = {"down_block_additional_residuals": res[0], "mid_block_additional_residual": res[1]}
        return model.unet(x_model, t, encoder_hidden_states=context, timestep_cond=None,
                          cross_attention_kwargs=None, added_cond_kwargs=added, return_dict=False, **kwargs)[0]

    def outputs(self, x_in: Any, t: Any, extra: Any = None) -> tuple[Any, Any]:
        """(positive output, negative output or None) of the model for scaled latents x_in at t.

        `extra` are channels appended to the model input (a 9-channel inpainting UNet's mask and
        masked-image latents), cut to each prompt's region like the latents.
        """
        if self.batched:
            return self._batched(x_in, t, extra)
        cond = self._combine(self.positive, x_in, t, extra)
        uncond = self._combine(self.negative, x_in, t, extra) if self.cfg_on else None
        return cond, uncond

    def _added(self, prompts: list[_Prompt]) -> Any:
        if prompts[0].pooled is None:
            return None
        pooled = torch.cat([p.pooled for p in prompts]) if len(prompts) > 1 else prompts[0].pooled
        time_ids = torch.cat([p.time_ids for p in prompts]) if len(prompts) > 1 else prompts[0].time_ids
        return {"text_embeds": pooled.to(self.model.device), "time_ids": time_ids}

    def _batched(self, x_in: Any, t: Any, extra: Any) -> tuple[Any, Any]:
        """The pipelines' call: [negative, positive] in one batch per active positive prompt."""
        copies = 2 if self.cfg_on else 1
        x = torch.cat([x_in] * copies) if copies > 1 else x_in
        ext = None if extra is None else (torch.cat([extra] * copies) if copies > 1 else extra)
        conds, weights, uncond = [], [], None
        for prompt in self.positive:
            if not is_active(prompt.entry.time_range, _t(t), self.train_steps):
                continue
            group = ([self.negative[0]] if self.cfg_on else []) + [prompt]
            context = torch.cat([p.embeds for p in group]) if copies > 1 else prompt.embeds
            parts = [(p.entry.controls, self.batch) for p in group]
            pred = self._unet(x, t, context, self._added(group), ext, parts, None)
            if self.cfg_on:
                un, pred = pred.chunk(2)
                uncond = un if uncond is None else uncond
            conds.append(pred)
            weights.append(float(prompt.entry.strength))
        if not conds:  # no positive prompt is active now: ComfyUI's empty output
            cond = torch.zeros_like(x_in)
            if self.cfg_on:
                neg = self.negative[0]
                uncond = self._unet(x_in, t, neg.embeds, self._added([neg]), extra,
                                    [(neg.entry.controls, self.batch)], None)
            return cond, uncond
        if len(conds) == 1:
            return conds[0], uncond
        total = sum(weights) or 1.0
        return sum(w / total * c for w, c in zip(weights, conds, strict=True)), uncond

    def _combine(self, prompts: list[_Prompt], x_in: Any, t: Any, extra: Any) -> Any:
        out = torch.zeros_like(x_in)
        count = torch.zeros_like(x_in)
        for prompt in prompts:
            if not is_active(prompt.entry.time_range, _t(t), self.train_steps):
                continue
            if prompt.box is None:
                x, ext = x_in, extra
            else:
                top, bottom, left, right = prompt.box
                x = x_in[..., top:bottom, left:right]
                ext = None if extra is None else extra[..., top:bottom, left:right]
            pred = self._unet(x, t, prompt.embeds, self._added([prompt]), ext,
                              [(prompt.entry.controls, self.batch)], prompt.box)
            weight = prompt.weight if prompt.weight is not None else float(prompt.entry.strength)
            if prompt.box is None:
                out += pred * weight
                count += weight
            else:
                top, bottom, left, right = prompt.box
                out[..., top:bottom, left:right] += pred * weight
                count[..., top:bottom, left:right] += weight
        return torch.where(count > 0, out / count.clamp_min(1e-37), torch.zeros_like(out))


def _bounds(mask: Any) -> tuple[int, int, int, int]:
    """Bounding box (top, bottom, left, right) of a [B, 1, h, w] mask's non-zero cells."""
    nonzero = (mask > 0).any(dim=0)[0].nonzero()
    if nonzero.numel() == 0:
        return 0, 1, 0, 1
    top, left = nonzero.min(dim=0).values.tolist()
    bottom, right = (nonzero.max(dim=0).values + 1).tolist()
    return top, bottom, left, right


def _area_fade(box: tuple[int, int, int, int], h: int, w: int, device: Any) -> Any:
    """[1, 1, bh, bw] weights fading in linearly at the box edges that lie inside the picture."""
    top, bottom, left, right = box
    bh, bw = bottom - top, right - left
    fade = torch.ones((1, 1, bh, bw), device=device)
    steps = min(AREA_FADE, bh // 4, bw // 4)
    for i in range(steps):
        ramp = (i + 1) / (steps + 1)
        if top > 0:
            fade[..., i, :] *= ramp
        if bottom < h:
            fade[..., bh - 1 - i, :] *= ramp
        if left > 0:
            fade[..., i] *= ramp
        if right < w:
            fade[..., bw - 1 - i] *= ramp
    return fade
