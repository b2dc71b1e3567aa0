"""Noise levels typed by hand (ComfyUI's ManualSigmas), e.g. a distilled model's own schedule."""

from __future__ import annotations

import math
import re
from typing import Any

from nodeflow.core import Input, Node, NodeError, Output, RunContext
from nodeflow.core.types import SIGMAS, STRING

#: Most levels a typed schedule may hold.
MAX_SIGMAS = 10_000
_NUMBER = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")


def parse_sigmas(text: str) -> list[float]:
    """The numbers in `text` (separated by commas, spaces or new lines), or ValueError saying why."""
    rest = _NUMBER.sub(" ", text)
    if rest.replace(",", " ").strip():
        raise ValueError(f"'{rest.replace(',', ' ').split()[0][:20]}' is not a number")
    values = [float(v) for v in _NUMBER.findall(text)]
    if not values:
        raise ValueError("no noise levels given")
    if len(values) > MAX_SIGMAS:
        raise ValueError(f"{len(values):,} levels; at most {MAX_SIGMAS:,} are allowed")
    if any(not math.isfinite(v) or v < 0 for v in values):
        raise ValueError("every level must be a finite number of 0 or more")
    return values


def _check(text: str) -> None:
    parse_sigmas(text)


class ManualSigmas(Node):
    type_id = "sampling.manual_sigmas"
    title = "Manual Sigmas"
    category = "sampling/custom"
    description = ("Noise levels typed as numbers ('1.0, 0.725, 0.42, 0.0'), used as they are by Sample: each "
                   "step goes from one level to the next. Usually descending and ending at 0.")
    inputs = (Input("sigmas", STRING, default="1, 0.5", multiline=True, check=_check),)
    outputs = (Output("sigmas", SIGMAS),)

    def run(self, ctx: RunContext, sigmas: str) -> tuple[Any]:
        import torch

        from nodes.values import Sigmas

        try:
            values = parse_sigmas(sigmas)
        except ValueError as exc:
            raise NodeError(str(exc), "sigmas") from None
        return (Sigmas(torch.tensor(values, dtype=torch.float32)),)
