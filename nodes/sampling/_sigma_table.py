"""A discrete-time model's own noise levels: the sigma table ComfyUI samples from.

A checkpoint trained on T discrete timesteps (SD 1.x/2.x/SDXL: T = 1000) has one noise level per
timestep, sigma_t = sqrt((1 - alphabar_t) / alphabar_t) (Karras et al. 2022, "Elucidating the Design
Space...", eq. for VP models; alphabar_t = prod(1 - beta_s) from Ho et al. 2020). Under the ComfyUI
convention every schedule is read from this table, the model is called with the integer timestep
whose log-sigma is nearest (k-diffusion's `DiscreteSchedule.sigma_to_t(quantize=True)`), and a
fractional timestep maps back to a sigma by interpolating log-sigma linearly (`t_to_sigma`).

The betas are made in float64 and the table kept in float32, as ComfyUI keeps it; zero-terminal-SNR
checkpoints are rescaled by Lin et al. 2024 ("Common Diffusion Noise Schedules and Sample Steps are
Flawed", Algorithm 1), except that the last alphabar is set to a tiny positive number instead of 0
so the largest sigma stays finite (about 4500), which is what ComfyUI does.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from nodeflow.core import NodeError
from nodes._lazy import lazy
from nodes.sampling._noise_space import SIGMA_SPACE, SigmaSpace

torch = lazy("torch")

#: ComfyUI's alphabar for the last timestep of a zero-terminal-SNR model (finite sigma ~4500).
ZSNR_LAST_ALPHABAR = 4.8973451890853435e-08
PREDICTIONS = ("epsilon", "v_prediction")


def _betas(config: dict[str, Any]) -> Any:
    """The training betas in float64, from a diffusers scheduler config."""
    steps = int(config.get("num_train_timesteps", 1000))
    trained = config.get("trained_betas")
    if trained is not None:
        return torch.tensor(trained, dtype=torch.float64)
    start, end = float(config.get("beta_start", 0.00085)), float(config.get("beta_end", 0.012))
    kind = config.get("beta_schedule", "scaled_linear")
    if kind == "scaled_linear":  # SD's schedule: linear in sqrt(beta)
        return torch.linspace(start ** 0.5, end ** 0.5, steps, dtype=torch.float64) ** 2
    if kind == "linear":
        return torch.linspace(start, end, steps, dtype=torch.float64)
    if kind == "squaredcos_cap_v2":  # Nichol & Dhariwal 2021, eq. 17, s = 0.008, betas clipped at 0.999
        s = 0.008
        t = torch.arange(steps + 1, dtype=torch.float64) / steps
        alphabar = torch.cos((t + s) / (1 + s) * math.pi / 2) ** 2
        return torch.clamp(1 - alphabar[1:] / alphabar[:-1], max=0.999)
    raise NodeError(f"the ComfyUI sampling convention does not know the beta schedule '{kind}'", "model")


def _rescale_zero_snr(sigmas: Any) -> Any:
    """Lin et al. 2024, Algorithm 1, on sigmas: shift sqrt(alphabar) so its last value is 0."""
    root = (1 / (sigmas * sigmas + 1)).sqrt()
    first, last = root[0].clone(), root[-1].clone()
    root = (root - last) * (first / (first - last))
    alphabar = root ** 2
    alphabar[-1] = ZSNR_LAST_ALPHABAR
    return ((1 - alphabar) / alphabar) ** 0.5


@dataclass(eq=False)
class SigmaTable:
    """The per-timestep sigmas of a discrete model, with its prediction type."""

    sigmas: Any  # float32 [T], ascending
    log_sigmas: Any  # float32 [T]
    prediction: str = "epsilon"

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> SigmaTable:
        """Build from a diffusers scheduler config (the checkpoint's own)."""
        betas = _betas(config)
        alphabar = torch.cumprod(1.0 - betas, dim=0)
        sigmas = ((1 - alphabar) / alphabar) ** 0.5
        if config.get("rescale_betas_zero_snr"):
            sigmas = _rescale_zero_snr(sigmas)
        prediction = config.get("prediction_type", "epsilon")
        if prediction not in PREDICTIONS:
            raise NodeError(f"the ComfyUI sampling convention supports epsilon and v-prediction models, "
                            f"not '{prediction}'", "model")
        return cls(sigmas.float(), sigmas.log().float(), prediction)

    @property
    def sigma_min(self) -> float:
        return float(self.sigmas[0])

    @property
    def sigma_max(self) -> float:
        return float(self.sigmas[-1])

    def __len__(self) -> int:
        return int(self.sigmas.shape[0])

    def timestep(self, sigma: Any) -> Any:
        """The integer timestep(s) whose log-sigma is nearest to `sigma` (a tensor), as float."""
        sigma = torch.as_tensor(sigma, dtype=torch.float32)
        dists = sigma.log().reshape(1, -1).cpu() - self.log_sigmas[:, None]
        return dists.abs().argmin(dim=0).reshape(sigma.shape).float()

    def sigma(self, timestep: Any) -> Any:
        """Sigma at a (fractional) timestep: log-sigma interpolated between its neighbours."""
        t = torch.as_tensor(timestep, dtype=torch.float32).clamp(0, len(self) - 1)
        low, high, w = t.floor().long(), t.ceil().long(), t.frac()
        return ((1 - w) * self.log_sigmas[low] + w * self.log_sigmas[high]).exp()

    @property
    def space(self) -> SigmaSpace:
        """How the model's noisy latent mixes data and noise (what SDE and ancestral steps need)."""
        return SIGMA_SPACE

    # How the model is called and read (ComfyUI's model_sampling): for a VP model (epsilon / v),
    # the noisy latent is latent + noise * sigma (x_T: sqrt(1 + sigma^2)), the input is scaled to
    # unit variance, and the output becomes a denoised latent as the prediction type says.

    def noise_scaling(self, sigma: Any, noise: Any, latent: Any, full: bool) -> Any:
        """The latent noised to `sigma` (`full`: the run starts at the model's largest sigma)."""
        scale = (1.0 + sigma ** 2.0).sqrt() if full else sigma
        return noise * scale + latent

    def model_input(self, x: Any, sigma: Any) -> Any:
        return x / (sigma ** 2 + 1.0) ** 0.5

    def denoised(self, x: Any, sigma: Any, output: Any) -> Any:
        if self.prediction == "v_prediction":
            return x / (sigma ** 2 + 1.0) - output * sigma / (sigma ** 2 + 1.0) ** 0.5
        return x - output * sigma

