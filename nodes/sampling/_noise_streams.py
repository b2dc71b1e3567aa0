"""Where the random numbers of a ComfyUI-convention run come from.

- The start noise: one CPU generator seeded with the seed, one `randn` of the whole latent batch
  (`torch.manual_seed(seed)` followed by a CPU `randn` draws the same numbers).
- Ancestral / per-step noise (euler_ancestral, dpm_2_ancestral, lcm, ddpm...): a fresh generator
  on the latent's device, seeded with the same seed, one `randn` of the latent's shape per call.
  On the CPU its first draw therefore repeats the start noise; ComfyUI v0.3.64 does exactly this
  (later versions add 1 to the seed on the CPU), and matching it is the point of the convention.
- SDE samplers (dpmpp_sde, dpmpp_2m_sde, dpmpp_3m_sde): a Brownian tree over sigma (torchsde), on
  the CPU, seeded with the seed; the noise between two sigmas is the tree's increment divided by
  sqrt(|sigma_next - sigma|) (k-diffusion's `BrownianTreeNoiseSampler`), so it depends only on
  the interval, not on how many steps came before.
"""

from __future__ import annotations

import warnings
from typing import Any

from nodes._lazy import lazy

torch = lazy("torch")


def start_noise(seed: int, like: Any, joint: Any = None) -> Any:
    """The start noise for a latent batch (float32, CPU), as ComfyUI's `prepare_noise`; a latent with a
    soundtrack (`nodes.latent._streams.Joint`) gets each stream's from the same generator in turn, as
    ComfyUI draws a nested latent's."""
    generator = torch.Generator("cpu").manual_seed(int(seed))
    if joint is not None:
        return joint.randn(generator, "cpu", torch.float32)
    return torch.randn(like.shape, dtype=torch.float32, generator=generator, device="cpu")


class StepNoise:
    """Per-step Gaussian noise from a fresh generator seeded with the run's seed."""

    def __init__(self, x: Any, seed: int) -> None:
        self.shape, self.dtype, self.device = x.shape, x.dtype, x.device
        self.generator = torch.Generator(device=x.device).manual_seed(int(seed))

    def __call__(self, sigma: Any, sigma_next: Any) -> Any:
        return torch.randn(self.shape, dtype=self.dtype, device=self.device, generator=self.generator)


class BrownianNoise:
    """Noise from a seeded Brownian tree over [sigma_min, sigma_max], built on the CPU."""

    def __init__(self, x: Any, sigma_min: Any, sigma_max: Any, seed: int) -> None:
        import torchsde

        self.device, self.dtype = x.device, x.dtype
        low, high = torch.as_tensor(sigma_min).cpu(), torch.as_tensor(sigma_max).cpu()
        w0 = torch.zeros_like(x).cpu()
        self.tree = torchsde.BrownianTree(low, w0, high, entropy=int(seed))

    def __call__(self, sigma: Any, sigma_next: Any) -> Any:
        a, b = torch.as_tensor(sigma), torch.as_tensor(sigma_next)
        sign = 1 if a < b else -1
        t0, t1 = (a, b) if a < b else (b, a)
        with warnings.catch_warnings():  # float32 sigma_max vs the tree's float end: harmless
            warnings.simplefilter("ignore", UserWarning)
            w = self.tree(t0.detach().cpu().float(), t1.detach().cpu().float())
        w = w.to(device=self.device, dtype=self.dtype) * sign
        return w / (b - a).abs().sqrt()
