"""The record of LTX-2's guide frames (LTXV Add Guide, `nodes.ltx2.guides`) and the rotary positions the
transformer gives them (`nodes.ltx2._adapter`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from nodes._lazy import lazy

torch = lazy("torch")


@dataclass(frozen=True)
class Guides:
    """The guides appended to a video latent: (first pixel frame, latent frames) each, in order."""

    placed: tuple[tuple[int, int], ...] = ()

    @property
    def latent_frames(self) -> int:
        return sum(count for _, count in self.placed)


def guides_of(conditioning: Any) -> Guides:
    """The guides a conditioning records (none where no LTXV Add Guide ran)."""
    for entry in conditioning.entries:
        if isinstance(entry.extra, Guides):
            return entry.extra
    return Guides()


def guide_coords(transformer: Any, coords: Any, guides: Any, h: int, w: int, fps: float) -> Any:
    """`coords` with the appended guide frames' tokens (the last ones) moved to their guides' frames: each
    guide's own grid from its first pixel frame, causal as a clip's first frame (ComfyUI's keyframe positions)."""
    if not guides.placed:
        return coords
    placed = []
    for frame, count in guides.placed:
        own = transformer.rope.prepare_video_coords(coords.shape[0], count, h, w, coords.device, fps=1.0)
        own[:, 0] = (own[:, 0] + frame) / fps
        placed.append(own)
    placed = torch.cat(placed, dim=2)
    coords = coords.clone()
    coords[:, :, -placed.shape[2]:] = placed.to(coords.dtype)
    return coords
