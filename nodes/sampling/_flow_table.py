"""A flow model's noise levels in the ComfyUI convention (its ModelSamplingDiscreteFlow, from the maths).

A rectified-flow model sees x_sigma = sigma * noise + (1 - sigma) * x0 and predicts the velocity
v = noise - x0, so x0 = x - sigma * v; its input is not rescaled (Esser et al. 2024, "Scaling
Rectified Flow Transformers", section 2). The table holds one sigma per timestep t = 1..T (T = 1000)
of the shifted time: "linear" sigma = s * u / (1 + (s - 1) * u) with u = t / T (SD3, AuraFlow;
eq. 23 of the same paper), "exponential" sigma = e^mu / (e^mu + 1/u - 1) (Flux's resolution-dependent
shift, mu = the shift). The model is called at the timestep its own scheduler gives for sigma (sigma
x its num_train_timesteps: 1000 * sigma but for Stable Audio 3's sigma; continuous, never rounded),
which each family's adapter scales as its transformer expects, as in the diffusers convention. Which
shift applies: the model's `comfy_sampling` entry (Model Sampling Flux / SD3 / AuraFlow) or its family's
declared default.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from nodes._lazy import lazy
from nodes.sampling._noise_space import FlowSpace
from nodes.sampling._sigma_table import SigmaTable

torch = lazy("torch")

TIMESTEPS = 1000
#: How far below full noise (as a fraction of the schedule) a run that starts at sigma 1 starts its
#: log-SNR samplers, as ComfyUI's `offset_first_sigma_for_snr` does.
SNR_OFFSET = 1e-4


def shifted(kind: str, shift: float, u: Any) -> Any:
    """Sigma at time u in (0, 1] under the shift."""
    if kind == "exponential":
        return math.exp(shift) / (math.exp(shift) + (1 / u - 1))
    if shift == 1.0:
        return u
    return shift * u / (1 + (shift - 1) * u)


@dataclass(eq=False)
class FlowSigmaTable(SigmaTable):
    """SigmaTable's interface (schedules read it unchanged) for a rectified-flow model."""

    kind: str = "linear"
    shift: float = 1.0
    #: The timestep the model is called at per unit of sigma: its scheduler's num_train_timesteps (1000 for
    #: all but Stable Audio 3, whose DiT takes sigma itself).
    scale: float = float(TIMESTEPS)

    @classmethod
    def build(cls, kind: str, shift: float, scale: float = TIMESTEPS) -> FlowSigmaTable:
        u = torch.arange(1, TIMESTEPS + 1, 1) / TIMESTEPS
        sigmas = shifted(kind, float(shift), u).float()
        return cls(sigmas, sigmas.log(), "flow", kind, float(shift), float(scale))

    @classmethod
    def for_model(cls, model: Any) -> FlowSigmaTable:
        spec = model.spec
        default = {"kind": "exponential" if spec.comfy_dynamic_shift else "linear", "shift": spec.comfy_shift}
        chosen = model.scheduler_config.get("comfy_sampling") or default
        return cls.build(chosen["kind"], chosen["shift"], model.scheduler_config.get("num_train_timesteps", TIMESTEPS))

    @property
    def space(self) -> FlowSpace:
        return FlowSpace(self.percent_to_sigma(SNR_OFFSET))

    def percent_to_sigma(self, fraction: float) -> float:
        """The sigma a fraction of the way through the schedule (0: 1, full noise; 1: 0)."""
        if fraction <= 0.0:
            return 1.0
        if fraction >= 1.0:
            return 0.0
        return float(shifted(self.kind, self.shift, 1.0 - fraction))

    def timestep(self, sigma: Any) -> Any:
        return torch.as_tensor(sigma, dtype=torch.float32) * self.scale

    def sigma(self, timestep: Any) -> Any:
        u = torch.as_tensor(timestep, dtype=torch.float32) / self.scale
        return shifted(self.kind, self.shift, u)

    def noise_scaling(self, sigma: Any, noise: Any, latent: Any, full: bool) -> Any:
        return sigma * noise + (1.0 - sigma) * latent

    def model_input(self, x: Any, sigma: Any) -> Any:
        return x

    def denoised(self, x: Any, sigma: Any, output: Any) -> Any:
        return x - output * sigma
