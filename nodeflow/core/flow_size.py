"""The size of what flows out of a node (batch, pixels, tokens), which nodes declare for the memory
plan (`Node.output_size`) and the engine carries through the graph (`engine.flow_sizes`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class FlowSize:
    """How much flows out of a node, for the memory plan: `batch` pictures of `pixels` pixels each
    (latents and masks count the pixels they stand for) and `tokens` prompt tokens (conditioning).
    `field` names the input that made it this big: the one a refusal tells the user to change."""

    batch: int = 1
    pixels: int = 0
    tokens: int = 0
    field: str | None = None

    @property
    def total_pixels(self) -> int:
        return self.batch * self.pixels

    @staticmethod
    def joined(sizes: Mapping[str, FlowSize], field: str, batches: bool = True) -> FlowSize:
        """What joining these into one puts out (Image Batch, Latent Batch, Conditioning Concat):
        all their prompt tokens and, with `batches`, all their pictures at the largest size (else
        the largest batch: prompts joined carry the pictures a ControlNet rides with, not more)."""
        if not sizes:
            return FlowSize()
        batch = (sum if batches else max)(s.batch for s in sizes.values())
        return FlowSize(batch, max(s.pixels for s in sizes.values()), sum(s.tokens for s in sizes.values()), field)
