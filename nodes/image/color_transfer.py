"""Color Transfer: the colours of pictures matched to a reference, as ComfyUI's ColorTransfer does it.

Three published methods, each on one frame at a time so a long video never needs a second copy:
- reinhard_lab: Reinhard et al. 2001, "Color Transfer between Images": each CIE Lab channel shifted and
  scaled to the reference's mean and standard deviation (population, floored at 1e-6);
- mkl_lab: Pitie and Kokaram 2007, "The linear Monge-Kantorovitch linear colour mapping": the Lab
  colours' covariance mapped onto the reference's by T = S^-1/2 (S^1/2 R S^1/2)^1/2 S^-1/2;
- histogram: each RGB channel's 256-bin cumulative histogram matched to the reference's.
Statistics of the pictures to change are taken per frame, pooled over all frames (uniform) or from
one frame (target_frame); a reference of one picture, or any reference outside per_frame, is pooled,
and otherwise frame i is matched to reference frame i (the last one past its end). Lab conversions
are kornia's (the library ComfyUI uses). Strength blends from the picture (0) to the match (1) and
beyond, in Lab for the Lab methods and in RGB for the histogram.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from nodeflow.core import Input, Node, NodeError, Output, RunContext
from nodeflow.core.types import FLOAT, IMAGE, INT, STRING

METHODS = ("reinhard_lab", "mkl_lab", "histogram")
SOURCE_STATS = ("per_frame", "uniform", "target_frame")
EPS = 1e-6
BINS = 256


class ColorTransfer(Node):
    type_id = "image.color_transfer"
    title = "Color Transfer"
    category = "image"
    description = (
        "Matches the colours of image_target to image_ref: Reinhard's Lab mean and spread (reinhard_lab), "
        "the Monge-Kantorovitch linear map of the Lab colours (mkl_lab), or each RGB channel's histogram. "
        "source_stats: per_frame matches each frame on its own; uniform pools all frames as one baseline; "
        "target_frame uses frame target_index as the baseline for all (keeping the frames' differences). "
        "Without a reference, or at strength 0, the pictures pass unchanged."
    )
    inputs = (
        Input("image_target", IMAGE, help="The pictures (or video frames) to recolour."),
        Input("image_ref", IMAGE, optional=True, help="The pictures whose colours to match."),
        Input("method", STRING, default="reinhard_lab", choices=METHODS),
        Input("source_stats", STRING, default="per_frame", choices=SOURCE_STATS),
        Input("target_index", INT, default=0, min=0, max=10000,
              help="target_frame: the frame whose colours set the transform for every frame."),
        Input("strength", FLOAT, default=1.0, min=0.0, max=10.0, step=0.01),
    )
    outputs = (Output("image", IMAGE),)

    def run(self, ctx: RunContext, image_target: Any, image_ref: Any = None, method: str = "reinhard_lab",
            source_stats: str = "per_frame", target_index: int = 0, strength: float = 1.0) -> tuple[Any]:
        import torch

        if strength == 0 or image_ref is None:
            return (image_target,)
        for name, picture in (("image_target", image_target), ("image_ref", image_ref)):
            if getattr(picture, "ndim", None) != 4 or picture.shape[-1] != 3 or picture.shape[0] < 1:
                raise NodeError(f"expects RGB pictures [batch, height, width, 3], got shape "
                                f"{list(getattr(picture, 'shape', []))}", name)
        baseline = None if source_stats == "per_frame" else (
            image_target if source_stats == "uniform" else image_target[min(target_index, len(image_target) - 1)][None])
        pooled_ref = baseline is not None or len(image_ref) == 1
        stats = _cdf if method == "histogram" else partial(_lab_stats, reinhard=method == "reinhard_lab")
        fixed_ref = stats(image_ref) if pooled_ref else None  # computed once, not per frame
        fixed_source = stats(baseline) if baseline is not None else None
        out = torch.empty_like(image_target, dtype=torch.float32)
        for i in range(len(image_target)):
            ctx.check_cancelled()
            frame = image_target[i][None].float()
            ref = fixed_ref if pooled_ref else stats(image_ref[min(i, len(image_ref) - 1)][None])
            source = fixed_source if fixed_source is not None else stats(frame)
            match = _histogram_match if method == "histogram" else _lab_match
            out[i] = match(frame, source, ref, strength)[0]
        return (out.to(image_target.dtype),)


def _channels(pictures: Any) -> Any:
    """[N, H, W, C] -> [C, N * H * W]."""
    return pictures.permute(3, 0, 1, 2).reshape(pictures.shape[-1], -1)


def _lab(pictures: Any) -> Any:
    import kornia

    return kornia.color.rgb_to_lab(pictures.float().permute(0, 3, 1, 2)).permute(0, 2, 3, 1)


def _lab_stats(pictures: Any, reinhard: bool) -> tuple[Any, Any]:
    """Mean and spread (standard deviation for Reinhard, covariance for MKL) of the Lab colours, pooled
    over the pictures as frames of equal weight, one at a time."""
    means = [_channels(_lab(p[None])).mean(dim=-1, keepdim=True) for p in pictures]
    mean = sum(means) / len(means)
    spreads = []
    for p in pictures:
        centred = _channels(_lab(p[None])) - mean
        spreads.append((centred * centred).mean(dim=-1, keepdim=True) if reinhard
                       else centred @ centred.T / centred.shape[-1])
    spread = sum(spreads) / len(spreads)
    return (mean, spread.sqrt().clamp_min(EPS)) if reinhard else (mean, spread)


def _mkl(source_cov: Any, ref_cov: Any) -> Any:
    """Pitie and Kokaram's linear map taking covariance S (source) to R (reference)."""
    import torch

    values, vectors = torch.linalg.eigh(source_cov)
    root = values.clamp_min(0).sqrt().clamp_min(EPS)
    half = vectors * root  # S^1/2 in S's eigenbasis
    inner_values, inner_vectors = torch.linalg.eigh(half.T @ ref_cov @ half)
    inner_root = (inner_vectors * inner_values.clamp_min(0).sqrt()) @ inner_vectors.T
    inverse_half = vectors / root
    return inverse_half @ inner_root @ inverse_half.T


def _lab_match(frame: Any, source: tuple[Any, Any], ref: tuple[Any, Any], strength: float) -> Any:
    """One frame's Lab colours moved from the `source` statistics to the `ref` ones (a standard deviation
    per channel for Reinhard, a 3x3 covariance for MKL)."""
    import kornia
    import torch

    lab = _lab(frame)
    (mean, spread), (ref_mean, ref_spread) = source, ref
    centred = _channels(lab) - mean
    matched = centred * (ref_spread / spread) if spread.shape[-1] == 1 else _mkl(spread, ref_spread) @ centred
    matched = (matched + ref_mean).reshape(3, *lab.shape[:3]).permute(1, 2, 3, 0)
    blended = matched if strength == 1.0 else torch.lerp(lab, matched, strength)
    return kornia.color.lab_to_rgb(blended.permute(0, 3, 1, 2)).permute(0, 2, 3, 1).clamp(0, 1)


def _cdf(pictures: Any) -> Any:
    """Each RGB channel's cumulative histogram over `BINS` bins, pooled over the pictures."""
    import torch

    hist = torch.zeros(3, BINS)
    for p in pictures:
        values = _channels(p[None].float())
        hist.scatter_add_(1, (values * (BINS - 1)).long().clamp(0, BINS - 1), torch.ones_like(values))
    cdf = hist.cumsum(1)
    return cdf / cdf[:, -1:]


def _histogram_match(frame: Any, source: Any, ref: Any, strength: float) -> Any:
    """One frame's RGB values moved through the table that takes the `source` cumulative histogram to `ref`'s."""
    import torch

    table = torch.searchsorted(ref, source).clamp_max(BINS - 1)
    values = _channels(frame)
    matched = table.gather(1, (values * (BINS - 1)).long().clamp(0, BINS - 1)).float() / (BINS - 1)
    matched = matched.reshape(3, *frame.shape[:3]).permute(1, 2, 3, 0)
    return (matched if strength == 1.0 else torch.lerp(frame, matched, strength)).clamp(0, 1)
