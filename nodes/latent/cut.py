"""Latents cut and joined along width (x), height (y) or frames (t), as ComfyUI's LatentCut,
LatentCutToBatch, LatentConcat and ReplaceVideoLatentFrames do it: the Qwen-Image Layered, Wan
speech-to-video and Kandinsky 5 templates take latents apart and put them back with these.

Axes count from the end, as ComfyUI counts them: x is the last axis, y the one before, t the frames
of a video latent [B, C, frames, h, w]. A picture latent has no frame axis: cutting it along t is
refused (ComfyUI would cut its channels). Other keys of the latent (noise mask, batch indices) go
along unchanged, as in ComfyUI; the VAE posteriors, which describe the samples before, do not.
"""

from __future__ import annotations

from typing import Any

from nodeflow.core import Input, Node, NodeError, Output, RunContext
from nodeflow.core.types import INT, LATENT, STRING

#: ComfyUI's MAX_RESOLUTION, the bound of these nodes' indices and amounts.
MAX_INDEX = 16384
AXES = ("x", "y", "t")
#: LatentConcat's sides: "-x" puts samples2 before samples1.
CONCAT_SIDES = ("x", "-x", "y", "-y", "t", "-t")


def _axis(samples: Any, dim: str, field: str = "dim") -> int:
    """The tensor axis `dim` names; t only on a latent with frames."""
    from nodes.latent._frames import has_frames

    if "t" in dim and not has_frames(samples):
        raise NodeError(f"this latent has no frame axis (shape {list(samples.shape)}); cut it along x or y", field)
    return samples.ndim - {"x": 1, "y": 2, "t": 3}[dim.lstrip("-")]


class LatentCut(Node):
    type_id = "latent.cut"
    title = "Latent Cut"
    category = "latent"
    description = ("Keeps `amount` latent cells (or frames along t) from `index` on (negative: counted from the "
                   "end); an index past the end keeps the last, an amount past the end stops there.")
    inputs = (
        Input("samples", LATENT),
        Input("dim", STRING, default="x", choices=AXES, help="x: width, y: height, t: frames."),
        Input("index", INT, default=0, min=-MAX_INDEX, max=MAX_INDEX),
        Input("amount", INT, default=1, min=1, max=MAX_INDEX),
    )
    outputs = (Output("latent", LATENT),)

    def run(self, ctx: RunContext, samples: dict, dim: str, index: int, amount: int) -> tuple[dict]:
        from nodes.latent._sizes import plain, require_fitted

        require_fitted(samples, self.title, "samples")
        latents = samples["samples"]
        axis = _axis(latents, dim)
        size = int(latents.shape[axis])
        if index >= 0:
            index = min(index, size - 1)
            amount = min(size - index, amount)
        else:
            index = max(index, -size)
            amount = min(-index, amount)
        return ({**plain(samples), "samples": latents.narrow(axis, index % size, amount)},)


class LatentCutToBatch(Node):
    type_id = "latent.cut_to_batch"
    title = "Latent Cut To Batch"
    category = "latent"
    description = ("Cuts a latent along x, y or t into pieces of slice_size and stacks them on the batch axis "
                   "(a remainder that is not a whole piece is dropped); t on a picture latent changes nothing.")
    inputs = (
        Input("samples", LATENT),
        Input("dim", STRING, default="t", choices=("t", "x", "y"), help="x: width, y: height, t: frames."),
        Input("slice_size", INT, default=1, min=1, max=MAX_INDEX),
    )
    outputs = (Output("latent", LATENT),)

    def run(self, ctx: RunContext, samples: dict, dim: str, slice_size: int) -> tuple[dict]:
        from nodes.latent._frames import has_frames
        from nodes.latent._sizes import plain, require_fitted

        latents = samples["samples"]
        if dim == "t" and not has_frames(latents):
            return (samples,)  # one frame: as ComfyUI, nothing to cut
        require_fitted(samples, self.title, "samples")
        moved = latents.movedim(_axis(latents, dim), 1)
        size = min(int(moved.shape[1]), slice_size)
        moved = moved[:, :moved.shape[1] // size * size]
        pieces = moved.reshape(-1, size, *moved.shape[2:]).movedim(1, _axis(latents, dim))
        return ({**plain(samples), "samples": pieces},)


class LatentConcat(Node):
    type_id = "latent.concat"
    title = "Latent Concat"
    category = "latent"
    description = ("Joins samples2 after samples1 along x, y or t (-x, -y, -t: before it); samples2's batch is "
                   "repeated to samples1's. The other sizes must agree.")
    inputs = (
        Input("samples1", LATENT),
        Input("samples2", LATENT),
        Input("dim", STRING, default="x", choices=CONCAT_SIDES),
    )
    outputs = (Output("latent", LATENT),)

    def run(self, ctx: RunContext, samples1: dict, samples2: dict, dim: str) -> tuple[dict]:
        import torch

        from nodes.latent._sizes import plain, require_fitted

        for field, latent in (("samples1", samples1), ("samples2", samples2)):
            require_fitted(latent, self.title, field)
        first, second = samples1["samples"], samples2["samples"]
        axis = _axis(first, dim)
        if second.ndim != first.ndim:
            raise NodeError(f"samples2 has shape {list(second.shape)}, samples1 {list(first.shape)}", "samples2")
        batch = int(first.shape[0])
        if second.shape[0] != batch:  # repeated (and cut) to samples1's batch, as ComfyUI does
            second = second.repeat(-(-batch // int(second.shape[0])), *([1] * (second.ndim - 1)))[:batch]
        others = [n for n in range(1, first.ndim) if n != axis]
        if [first.shape[n] for n in others] != [second.shape[n] for n in others]:
            raise NodeError(f"the latents do not join along {dim.lstrip('-')}: samples1 {list(first.shape)}, "
                            f"samples2 {list(second.shape)}", "samples2")
        pair = (second, first) if dim.startswith("-") else (first, second)
        return ({**plain(samples1), "samples": torch.cat([p.to(first.dtype) for p in pair], dim=axis)},)


class ReplaceVideoLatentFrames(Node):
    type_id = "latent.replace_video_frames"
    title = "Replace Video Latent Frames"
    category = "latent/video"
    description = ("Puts the source's latent frames into the destination from latent frame `index` on (negative: "
                   "counted from the end). Without a source the destination passes unchanged.")
    inputs = (
        Input("destination", LATENT),
        Input("source", LATENT, optional=True),
        Input("index", INT, default=0, min=-MAX_INDEX, max=MAX_INDEX),
    )
    outputs = (Output("latent", LATENT),)

    def run(self, ctx: RunContext, destination: dict, index: int, source: dict | None = None) -> tuple[dict]:
        from nodes.latent._frames import has_frames
        from nodes.latent._sizes import plain

        if source is None:
            return (destination,)
        target, frames = destination["samples"], source["samples"]
        for field, latents in (("destination", target), ("source", frames)):
            if not has_frames(latents):
                raise NodeError(f"this latent has no frames (shape {list(latents.shape)})", field)
        total, count = int(target.shape[2]), int(frames.shape[2])
        start = index + total if index < 0 else index
        if start < 0 or start + count > total:
            raise NodeError(f"{count} source frames from frame {start} do not fit in the destination's {total}",
                            "index")
        if frames.shape[:2] != target.shape[:2] or frames.shape[3:] != target.shape[3:]:
            raise NodeError(f"the source's shape {list(frames.shape)} does not fit the destination's "
                            f"{list(target.shape)} (only the frame count may differ)", "source")
        out = target.clone()
        out[:, :, start:start + count] = frames.to(out.dtype)
        return ({**plain(source), "samples": out},)  # the source's other keys, as ComfyUI keeps them
