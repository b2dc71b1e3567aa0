"""SD Turbo Scheduler: the few noise levels adversarially distilled models (SD-Turbo, SDXL-Turbo)
were trained to denoise from, read off the model's own table (ComfyUI's SDTurboScheduler).

ADD-distilled models (Sauer et al. 2023, "Adversarial Diffusion Distillation") are trained at four
timesteps and sampled at the top of ten evenly spaced ones, 999, 899, ..., 99: step k of n denoises
from timestep 999 - 100 k. `denoise` below 1 skips the first 10 - int(10 * denoise) of them, as an
img2img start should; the model's sigma at each chosen timestep, then 0, are the levels.
"""

from __future__ import annotations

from typing import Any

from nodeflow.core import Input, Node, Output, RunContext
from nodeflow.core.types import FLOAT, INT, MODEL, SIGMAS

#: The timesteps the levels are chosen from, the noisiest first.
TIMESTEPS = tuple(range(999, 0, -100))


def turbo_timesteps(steps: int, denoise: float) -> list[int]:
    """The timesteps of a run: `steps` of them, starting as far down as `denoise` says (fewer when
    the list runs out, none at denoise below 0.1)."""
    start = len(TIMESTEPS) - int(len(TIMESTEPS) * denoise)
    return list(TIMESTEPS[start:start + steps])


class SDTurboScheduler(Node):
    type_id = "sampling.sd_turbo_scheduler"
    title = "SD Turbo Scheduler"
    category = "sampling/custom"
    description = ("Noise levels for adversarially distilled models (SD-Turbo, SDXL-Turbo): the model's "
                   "sigmas at timesteps 999, 899, ... (one per step), then 0; denoise below 1 starts further "
                   "down, for img2img. Run with the k-diffusion samplers of the ComfyUI convention.")
    inputs = (
        Input("model", MODEL, help="the model whose noise level at each timestep is used"),
        Input("steps", INT, default=1, min=1, max=10),
        Input("denoise", FLOAT, default=1.0, min=0.0, max=1.0, step=0.01),
    )
    outputs = (Output("sigmas", SIGMAS),)

    def run(self, ctx: RunContext, model: Any, steps: int, denoise: float) -> tuple[Any]:
        import torch

        from nodes.sampling._comfy_sampling import sigma_table
        from nodes.values import Sigmas

        chosen = sigma_table(model).sigma(torch.tensor(turbo_timesteps(int(steps), float(denoise))))
        return (Sigmas(torch.cat([chosen.float(), chosen.new_zeros(1).float()])),)
