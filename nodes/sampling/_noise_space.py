"""How a model's noisy latent is made from its data and noise: what SDE and ancestral samplers need.

Samplers written in sigma space (k-diffusion's) assume x = x0 + sigma * noise (alpha = 1), which is
what ComfyUI's epsilon / v models see after its input scaling. A rectified-flow model sees
x = (1 - sigma) * x0 + sigma * noise instead (alpha = 1 - sigma; Esser et al. 2024, sec. 2). The
exponential-integrator SDE samplers are written in the half log signal-to-noise ratio
lambda = log(alpha / sigma) (Lu et al. 2022, "DPM-Solver++", sec. 3), so they run on either space once
lambda, its inverse and alpha = sigma * e^lambda come from the space; ancestral samplers re-inject
noise so that the next latent has the space's own mix of signal and noise. Each sigma table says
which space its model lives in (`SigmaTable.space`), so no sampler asks which family it runs.
"""

from __future__ import annotations

from typing import Any

from nodes._lazy import lazy

torch = lazy("torch")


class SigmaSpace:
    """x = x0 + sigma * noise: lambda = -log(sigma), alpha = 1."""

    def half_log_snr(self, sigma: Any) -> Any:
        return sigma.log().neg()

    def sigma_at(self, half_log_snr: Any) -> Any:
        return half_log_snr.neg().exp()

    def for_log_snr(self, sigmas: Any) -> Any:
        """The run's sigmas with every one of finite lambda (all are, here)."""
        return sigmas

    def renoised(self, x: Any, noise: Any, sigma: Any) -> Any:
        """A clean latent `x` noised to `sigma` with unit `noise` (LCM's step)."""
        return x + noise * sigma


class FlowSpace(SigmaSpace):
    """x = (1 - sigma) * x0 + sigma * noise: lambda = log((1 - sigma) / sigma), alpha = 1 - sigma.

    `almost_full` is the model's sigma one ten-thousandth of the schedule below full noise: a run
    starting at sigma 1 (lambda = -inf) starts there instead, as ComfyUI's SDE samplers do.
    """

    def __init__(self, almost_full: float) -> None:
        self.almost_full = float(almost_full)

    def half_log_snr(self, sigma: Any) -> Any:
        return sigma.logit().neg()

    def sigma_at(self, half_log_snr: Any) -> Any:
        return half_log_snr.neg().sigmoid()

    def for_log_snr(self, sigmas: Any) -> Any:
        if len(sigmas) > 1 and sigmas[0] >= 1:
            sigmas = sigmas.clone()
            sigmas[0] = self.almost_full
        return sigmas

    def renoised(self, x: Any, noise: Any, sigma: Any) -> Any:
        return sigma * noise + (1.0 - sigma) * x


#: The space of every model that is not a rectified flow.
SIGMA_SPACE = SigmaSpace()
