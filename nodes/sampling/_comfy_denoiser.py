"""The guided denoiser D(x, sigma) -> x0 of the ComfyUI convention.

What the model is called with, and how its output becomes a denoised image, decide ComfyUI's
pixels as much as the sampler does:
- input x / sqrt(sigma^2 + 1) (a VP model's input scaling), cast to the model's dtype;
- the timestep is the table's nearest integer timestep to sigma (never a fraction);
- x0 = x - sigma * eps for epsilon models, x0 = x / (sigma^2 + 1) - v * sigma / sqrt(sigma^2 + 1)
  for v-prediction (Salimans & Ho 2022, with sigma_data = 1); these rules are the table's
  (`SigmaTable.model_input / denoised / noise_scaling`), and a flow model's table has its own
  (`nodes.sampling._flow_table`), its prompts run through `nodes.sampling._flow_call`;
- the prompts' outputs come from `nodes.sampling._cond_call` (areas, masks, time ranges, ControlNets; one
  rule for both conventions), each turned into a denoised image; classifier-free guidance mixes the
  *denoised* images, uncond + (cond - uncond) * cfg, and is skipped (one model call) when cfg is 1; over
  a video with its soundtrack cfg may be each stream's own (LTXV Dual CFG Guider: the negative prompt then
  runs unless every scale is 1);
  Renorm CFG (`nodes.sampling._cfg_norm.renorm`) mixes in its place, as ComfyUI's CFG function hook does;
  CFG Norm (`nodes.sampling._cfg_norm`) then rescales the mix, as ComfyUI's post-CFG hook does;
  a Dual CFG guider (one with a `middle` prompt) mixes three prompts by `nodes.sampling._dual_cfg`, each of its
  two-prompt mixes with those same hooks;
- with a noise mask (inpainting), the unmasked part of x is replaced by the source latent noised to
  sigma before the call and by the source latent itself after it;
- with `keep_uncond` (the CFG++ samplers, `nodes.sampling._ksamplers_cfgpp`) the negative prompt runs
  even at cfg 1, the mix is always computed, and `uncond` keeps the call's unconditional denoised
  image, before the inpainting mask (as ComfyUI's post-CFG hook sees it);
- with Skip Layer Guidance on the model (SD3), while sigma is within the sigmas of its start and end
  fractions, x0 += (x0_cond - x0_skipped) * scale after the mix, cfg 1 included (ComfyUI's post-CFG
  step; x0_skipped: the positive prompts with the named blocks skipped);
- a flow model's call is told the run's `sigmas` as timesteps (a step-distilled flow map is called
  with the step's target, the next sigma).
"""

from __future__ import annotations

import math
from typing import Any

from nodeflow.core import NodeError
from nodes._lazy import lazy
from nodes.sampling._cond_call import CondCall
from nodes.sampling._sigma_table import SigmaTable
from nodes.values import Guider

torch = lazy("torch")


class Denoiser:
    """Callable (x, sigma) -> x0 for one sampling run."""

    def __init__(self, guider: Guider, table: SigmaTable, latent_shape: tuple[int, ...],
                 keep_uncond: bool = False, sigmas: Any = None, streams: Any = None) -> None:
        model = guider.model
        self.model, self.table, self.cfg = model, table, float(guider.cfg)
        # each stream's own scale: the negative prompt runs unless every one is 1 (ComfyUI's dual guider)
        self.cfg_on = keep_uncond or any(not math.isclose(c, 1.0) for c in (self.cfg, *guider.stream_cfg))
        self.uncond: Any = None
        self.guider = guider
        self.dual = guider.middle is not None
        if self.dual and keep_uncond:
            raise NodeError("the CFG++ samplers guide by CFG Guider's one negative; use another sampler with Dual CFG "
                            "Guider", "sampler")
        if self.dual and model.skip_layers is not None:
            raise NodeError("Skip Layer Guidance runs with CFG Guider, not Dual CFG Guider", "guider")
        if not self.dual and self.cfg_on and (guider.negative is None or not guider.negative.entries):
            why = "the CFG++ samplers need" if keep_uncond else "cfg other than 1 needs"
            raise NodeError(f"{why} a negative conditioning (an empty prompt is fine)", "negative")
        spec = model.spec
        if model.guidance_options is not None:
            raise NodeError(f"{spec.title}'s pipeline guidance settings (cfg_normalization, cfg_trunc_ratio) are "
                            "followed in the diffusers convention; the comfyui convention guides as ComfyUI does",
                            "model")
        if spec is not None and spec.is_flow:
            from nodes.sampling._flow_call import FlowCall

            schedule = None if sigmas is None else table.timestep(sigmas)
            size = tuple((streams.video if streams is not None else latent_shape)[-2:])

            def make(positive: Any, negative: Any, cfg_on: bool) -> Any:
                return FlowCall(model, positive, negative, self.cfg, latent_shape[0], size, cfg_on=cfg_on,
                                schedule=schedule, streams=streams, stream_cfg=guider.stream_cfg)
        else:
            def make(positive: Any, negative: Any, cfg_on: bool) -> Any:
                return CondCall(model, positive, negative, cfg_on, latent_shape[0], tuple(latent_shape[-2:]),
                                len(table))
        if guider.stream_cfg and (model.renorm_cfg is not None or model.cfg_norm is not None):
            raise NodeError("Renorm CFG and CFG Norm rescale one guidance scale, not one per stream", "guider")
        if not self.dual:
            self.call = make(guider.positive, guider.negative, self.cfg_on)
            #: The plain mix's scale: cfg, or each stream's own (`FlowCall.scale`).
            self.scale = getattr(self.call, "scale", self.cfg)
        else:
            from nodes.sampling._dual_cfg import DualCall

            self.call = DualCall(make, guider)
        self.inpaint: tuple[Any, Any, Any] | None = None
        #: The family keeps a mask's kept part clean instead of noised to each sigma (LTX-2's frames).
        self.clean = spec is not None and spec.mask_keeps_clean
        self.span: tuple[float, float] | None = None  # first and last timestep, for Differential Diffusion
        skip = model.skip_layers
        #: Skip Layer Guidance's sigma span (highest, lowest), from its fractions of the schedule.
        self.skip_span = None if skip is None else (table.percent_to_sigma(skip.start),
                                                    table.percent_to_sigma(skip.end))

    def set_inpaint(self, mask: Any, source: Any, noise: Any, sigmas: Any = None) -> None:
        """Keep the unmasked part of `source` (mask 1 = repaint), noised with `noise` to each sigma;
        `sigmas` (the run's) place each step for Differential Diffusion when the model asks for it."""
        self.inpaint = (mask, source, noise)
        self.span = None
        if self.clean and not isinstance(self.call, CondCall):
            self.call.keep_mask(mask)  # the kept part's timestep is 0 (Wan 2.2 5B's start frames)
        if sigmas is not None and self.model.differential is not None:
            positive = sigmas[sigmas > 0]
            low = max(float(positive.min()), self.table.sigma_min) if len(positive) else self.table.sigma_min
            self.span = (float(self.table.timestep(sigmas[:1].cpu())), float(self.table.timestep(torch.tensor([low]))))

    def _mask_at(self, mask: Any, sigma: Any) -> Any:
        if self.span is None:
            return mask
        from nodes.sampling._differential import progress, step_mask

        first, last = self.span
        return step_mask(mask, progress(float(self.table.timestep(sigma.cpu().reshape(1))), first, last),
                         self.model.differential)

    def _denoised(self, x: Any, sigma: Any, output: Any) -> Any:
        return self.table.denoised(x, sigma, output.float())

    def _mix(self, cond: Any, uncond: Any, scale: float, sigma: Any) -> Any:
        """ComfyUI's cfg function's mix of two denoised images (`uncond` None: guidance skipped): Renorm CFG's
        in place of the plain one when the model has it."""
        if self.model.renorm_cfg is not None:
            from nodes.sampling._cfg_norm import renorm

            return renorm(self.model.renorm_cfg, cond, uncond, scale, float(sigma.flatten()[0]))
        return cond if uncond is None else uncond + (cond - uncond) * scale

    def _norm(self, x: Any, cond: Any, uncond: Any, out: Any, scale: float) -> Any:
        """CFG Norm's rescale of a guided image (ComfyUI's post-CFG hook) when the model has it."""
        if self.model.cfg_norm is None:
            return out
        from nodes.sampling._cfg_norm import apply

        return apply(self.model.cfg_norm, x, cond, uncond, out, scale)

    def __call__(self, x: Any, sigma: Any) -> Any:
        sigma = torch.as_tensor(sigma, dtype=torch.float32, device=x.device)
        if self.inpaint is not None:
            mask, source, noise = self.inpaint
            mask = self._mask_at(mask, sigma)
            kept = source if self.clean else self.table.noise_scaling(sigma, noise, source, False)
            x = x * mask + kept * (1.0 - mask)
        x_in = self.table.model_input(x, sigma).to(self.model.dtype)
        timestep = self.table.timestep(sigma.cpu()).to(self.model.device)
        if self.dual:
            from nodes.sampling._dual_cfg import mix

            cond, middle, uncond = (None if o is None else self._denoised(x, sigma, o)
                                    for o in self.call.outputs(x_in, timestep))
            out = mix(self.guider, cond, middle, uncond,
                      lambda c, u, scale: self._norm(x, c, u, self._mix(c, u, scale, sigma), scale))
        else:
            cond, uncond = self.call.outputs(x_in, timestep)
            cond_x0 = self._denoised(x, sigma, cond)
            if self.cfg_on:
                uncond = self.uncond = self._denoised(x, sigma, uncond)
            out = self._mix(cond_x0, uncond if self.cfg_on else None, self.scale, sigma)
            if self.skip_span is not None and self.skip_span[1] <= float(sigma) <= self.skip_span[0]:
                skipped = self._denoised(x, sigma, self.call.skipped(x_in, timestep))
                out = out + (cond_x0 - skipped) * self.model.skip_layers.scale
            out = self._norm(x, cond_x0, uncond if self.cfg_on else None, out, self.cfg)
        if self.inpaint is not None:
            mask, source, _ = self.inpaint
            mask = self._mask_at(mask, sigma)
            out = out * mask + source * (1.0 - mask)
        return out
