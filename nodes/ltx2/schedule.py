"""LTX-2's noise levels, in ComfyUI's vocabulary: LTXVScheduler.

Sigmas 1 .. 0 in equal steps, shifted the flow way by a shift that grows with the video's size (linear
in its latent token count between 1024 tokens at `base_shift` and 4096 at `max_shift`, the same line as
LTX2Pipeline's calculate_shift), then optionally stretched so the last level above 0 is `terminal`.
"""

from __future__ import annotations

import math
from typing import Any

from nodeflow.core import Input, Node, NodeError, Output, RunContext
from nodeflow.core.types import BOOLEAN, FLOAT, INT, LATENT, SIGMAS

#: The token count the shift is read at when no latent is given (ComfyUI's).
DEFAULT_TOKENS = 4096


def ltxv_sigmas(steps: int, max_shift: float, base_shift: float, stretch: bool, terminal: float,
                tokens: int = DEFAULT_TOKENS) -> Any:
    """steps + 1 levels from 1 to 0 (float32, as ComfyUI computes them)."""
    import torch

    sigmas = torch.linspace(1.0, 0.0, steps + 1)
    slope = (max_shift - base_shift) / (4096 - 1024)
    intercept = base_shift - slope * 1024
    shift = math.exp(tokens * slope + intercept)
    sigmas = torch.where(sigmas != 0, shift / (shift + (1 / sigmas - 1)), 0)
    if stretch:
        kept = sigmas != 0
        one_minus = 1.0 - sigmas[kept]
        sigmas[kept] = 1.0 - one_minus / (one_minus[-1] / (1.0 - terminal))
    return sigmas


class Scheduler(Node):
    type_id = "ltx2.scheduler"
    title = "LTXV Scheduler"
    category = "sampling/custom"
    description = ("LTX-2's noise levels: equal steps shifted by a shift that grows with the video's latent size "
                   "(the latent's frames x height x width tokens; 4096 without a latent), optionally stretched so "
                   "the last level before 0 is `terminal`.")
    inputs = (
        Input("steps", INT, default=20, min=1, max=10000),
        Input("max_shift", FLOAT, default=2.05, min=0.0, max=100.0, step=0.01, help="The shift at 4096 tokens."),
        Input("base_shift", FLOAT, default=0.95, min=0.0, max=100.0, step=0.01, help="The shift at 1024 tokens."),
        Input("stretch", BOOLEAN, default=True, help="Stretch the levels to end at `terminal` before 0."),
        Input("terminal", FLOAT, default=0.1, min=0.0, max=0.99, step=0.01, help="The last level above 0."),
        Input("latent", LATENT, optional=True, help="The latent whose size sets the shift."),
    )
    outputs = (Output("sigmas", SIGMAS),)

    def run(self, ctx: RunContext, steps: int, max_shift: float, base_shift: float, stretch: bool, terminal: float,
            latent: dict | None = None) -> tuple[Any]:
        from nodes.values import Sigmas

        if steps < 1:
            raise NodeError("steps must be at least 1", "steps")
        if not 0.0 <= terminal < 1.0:
            raise NodeError("terminal must be at least 0 and below 1", "terminal")
        tokens = DEFAULT_TOKENS if latent is None else math.prod(latent["samples"].shape[2:])
        return (Sigmas(ltxv_sigmas(int(steps), float(max_shift), float(base_shift), bool(stretch), float(terminal),
                                   tokens)),)
