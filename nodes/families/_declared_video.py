"""The video model families (Wan, MiniMax H3, LTX-2, ...), each declared once, as `_declared` does
for the picture families: their latents have a frame axis ([batch, channels, frames, height,
width]) and their own VAEs. `FAMILIES` in `_declared` lists these after the picture families."""

from __future__ import annotations

from nodes.families._spec import Family

VIDEO_FAMILIES: tuple[Family, ...] = ()
