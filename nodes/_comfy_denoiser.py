"""The guided denoiser D(x, sigma) -> x0 of the ComfyUI convention.

What the model is called with, and how its output becomes a denoised image, decide ComfyUI's
pixels as much as the sampler does:
- input x / sqrt(sigma^2 + 1) (a VP model's input scaling), cast to the model's dtype;
- the timestep is the table's nearest integer timestep to sigma (never a fraction);
- x0 = x - sigma * eps for epsilon models, x0 = x / (sigma^2 + 1) - v * sigma / sqrt(sigma^2 + 1)
  for v-prediction (Salimans & Ho 2022, with sigma_data = 1);
- classifier-free guidance mixes the *denoised* images, uncond + cfg * (cond - uncond), and is
  skipped (one model call) when cfg is 1; several positive prompts (Conditioning Combine) are
  averaged weighted by their strength;
- with a noise mask (inpainting), the unmasked part of x is replaced by the source latent noised to
  sigma before the call and by the source latent itself after it.
"""

from __future__ import annotations

import math
from typing import Any

from nodeflow.core import NodeError
from nodes._diffusion import Guider
from nodes._lazy import lazy
from nodes._sigma_table import SigmaTable

torch = lazy("torch")


def _batched(entry: Any, batch: int) -> Any:
    embeds = entry.embeds
    return embeds.repeat(batch, 1, 1) if embeds.shape[0] == 1 else embeds


class Denoiser:
    """Callable (x, sigma) -> x0 for one sampling run."""

    def __init__(self, guider: Guider, table: SigmaTable, latent_shape: tuple[int, ...]) -> None:
        model = guider.model
        self.model, self.table, self.cfg = model, table, float(guider.cfg)
        batch = latent_shape[0]
        if not guider.positive.entries:
            raise NodeError("the positive conditioning is empty", "positive")
        self.cfg_on = not math.isclose(self.cfg, 1.0)
        self.positive = [_batched(e, batch) for e in guider.positive.entries]
        self.weights = [float(e.strength) for e in guider.positive.entries]
        self.negative = None
        if self.cfg_on:
            if guider.negative is None or not guider.negative.entries:
                raise NodeError("cfg other than 1 needs a negative conditioning (an empty prompt is fine)",
                                "negative")
            if len(guider.negative.entries) > 1:
                raise NodeError("the negative conditioning must be a single prompt", "negative")
            self.negative = _batched(guider.negative.entries[0], batch)
        self.added = self._sdxl_added(guider, batch, latent_shape)
        self.inpaint: tuple[Any, Any, Any] | None = None

    def _sdxl_added(self, guider: Guider, batch: int, shape: tuple[int, ...]) -> Any:
        model = self.model
        if model.family != "sdxl":
            return None
        height, width = shape[-2] * model.vae_scale_factor, shape[-1] * model.vae_scale_factor
        time_ids = torch.tensor([[height, width, 0, 0, height, width]], dtype=model.dtype, device=model.device)
        pooled = [e.pooled.repeat(batch, 1) for e in guider.positive.entries]
        neg = guider.negative.entries[0].pooled.repeat(batch, 1) if self.cfg_on else None
        return pooled, neg, time_ids.repeat(batch, 1)

    def set_inpaint(self, mask: Any, source: Any, noise: Any) -> None:
        """Keep the unmasked part of `source` (mask 1 = repaint), noised with `noise` to each sigma."""
        self.inpaint = (mask, source, noise)

    def _unet(self, x_in: Any, timestep: Any, context: Any, added: Any) -> Any:
        model = self.model
        out = model.unet(x_in.to(model.dtype), timestep.to(model.device), encoder_hidden_states=context,
                         added_cond_kwargs=added, return_dict=False)[0]
        return out.float()

    def _denoised(self, x: Any, sigma: Any, output: Any) -> Any:
        if self.table.prediction == "v_prediction":
            return x / (sigma ** 2 + 1.0) - output * sigma / (sigma ** 2 + 1.0) ** 0.5
        return x - output * sigma

    def __call__(self, x: Any, sigma: Any) -> Any:
        sigma = torch.as_tensor(sigma, dtype=torch.float32, device=x.device)
        if self.inpaint is not None:
            mask, source, noise = self.inpaint
            x = x * mask + (source + noise * sigma) * (1.0 - mask)
        batch = x.shape[0]
        x_in = x / (sigma ** 2 + 1.0) ** 0.5
        timestep = self.table.timestep(sigma.cpu()).reshape(1)
        copies = 2 if self.cfg_on else 1
        x_in = torch.cat([x_in] * copies)
        t = timestep.repeat(batch * copies)
        results = []
        for k, embeds in enumerate(self.positive):
            context = torch.cat([self.negative, embeds]) if self.cfg_on else embeds
            added = None
            if self.added is not None:
                pooled, neg_pooled, time_ids = self.added
                text = torch.cat([neg_pooled, pooled[k]]) if self.cfg_on else pooled[k]
                added = {"text_embeds": text, "time_ids": torch.cat([time_ids] * copies)}
            output = self._unet(x_in, t, context.to(self.model.device), added)
            denoised = self._denoised(torch.cat([x] * copies), sigma, output)
            if self.cfg_on:
                uncond, cond = denoised.chunk(2)
                denoised = uncond + (cond - uncond) * self.cfg
            results.append(denoised)
        if len(results) == 1:
            out = results[0]
        else:
            total = sum(self.weights) or 1.0
            out = sum(w / total * r for w, r in zip(self.weights, results, strict=True))
        if self.inpaint is not None:
            mask, source, _ = self.inpaint
            out = out * mask + source * (1.0 - mask)
        return out
