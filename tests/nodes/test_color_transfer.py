"""Color Transfer: each method brings the statistic it matches to the reference's (Lab mean and spread
for Reinhard, Lab covariance for MKL, the RGB histogram), the source_stats modes choose the baseline
as ComfyUI's do, and ComfyUI's saved values import fully."""

from __future__ import annotations

import kornia
import pytest
import torch

from nodeflow.core import default_registry
from nodeflow.core.context import RunContext
from nodeflow.core.errors import NodeError
from nodeflow.interop.comfyui import import_data
from nodes.image.color_transfer import ColorTransfer


def pictures(count: int, seed: int, low: float, high: float) -> torch.Tensor:
    """Smooth in-gamut pictures (no clipping at 0 or 1 after a moderate colour change)."""
    g = torch.Generator().manual_seed(seed)
    return low + (high - low) * torch.rand(count, 12, 16, 3, generator=g)


def lab_flat(images: torch.Tensor) -> torch.Tensor:
    return kornia.color.rgb_to_lab(images.permute(0, 3, 1, 2)).permute(1, 0, 2, 3).reshape(3, -1)


def transfer(target, ref, method="reinhard_lab", stats="per_frame", index=0, strength=1.0):
    return ColorTransfer().run(RunContext(), target, ref, method, stats, index, strength)[0]


def test_reinhard_matches_the_lab_mean_and_spread():
    target, ref = pictures(1, 0, 0.2, 0.5), pictures(1, 1, 0.4, 0.7)
    out = lab_flat(transfer(target, ref))
    assert torch.allclose(out.mean(-1), lab_flat(ref).mean(-1), atol=0.05)
    assert torch.allclose(out.std(-1, unbiased=False), lab_flat(ref).std(-1, unbiased=False), atol=0.05)


def test_mkl_matches_the_lab_covariance():
    target, ref = pictures(1, 2, 0.3, 0.6), pictures(1, 3, 0.35, 0.65)
    out, want = lab_flat(transfer(target, ref, "mkl_lab")), lab_flat(ref)
    cov = torch.cov(out, correction=0)
    assert torch.allclose(cov, torch.cov(want, correction=0), atol=0.05 * float(cov.abs().max()))
    assert torch.allclose(out.mean(-1), want.mean(-1), atol=0.05)


def test_histogram_undoes_a_monotone_change():
    ref = pictures(1, 4, 0.0, 1.0)
    out = transfer(ref * 0.5, ref, "histogram")
    assert float((out - ref).abs().max()) <= 2 / 255


def test_uniform_keeps_the_frames_differences_and_per_frame_does_not():
    frames = torch.cat([pictures(1, 5, 0.2, 0.4), pictures(1, 6, 0.5, 0.7)])
    ref = pictures(1, 7, 0.3, 0.6)
    lightness = [lab_flat(f[None])[0].mean() for f in transfer(frames, ref, stats="per_frame")]
    assert float(abs(lightness[0] - lightness[1])) < 0.1  # both brought to the reference
    lightness = [lab_flat(f[None])[0].mean() for f in transfer(frames, ref, stats="uniform")]
    assert float(lightness[1] - lightness[0]) > 10  # one transform for both: the second stays brighter
    chosen = transfer(frames, ref, stats="target_frame", index=1)
    assert torch.allclose(lab_flat(chosen[1:]).mean(-1), lab_flat(ref).mean(-1), atol=0.05)


def test_nothing_to_match_or_no_strength_passes_the_pictures():
    target = pictures(2, 8, 0.2, 0.8)
    assert transfer(target, None) is target
    assert transfer(target, pictures(1, 9, 0.0, 1.0), strength=0.0) is target
    half = transfer(target, pictures(1, 9, 0.4, 0.6), strength=0.5)
    full = transfer(target, pictures(1, 9, 0.4, 0.6))
    assert 0 < float((half - target).abs().mean()) < float((full - target).abs().mean())


def test_pictures_with_alpha_are_refused_in_one_line():
    with pytest.raises(NodeError) as caught:
        transfer(torch.zeros(1, 4, 4, 4), pictures(1, 0, 0, 1))
    assert caught.value.field == "image_target" and "\n" not in str(caught.value)


@pytest.mark.parametrize("widgets, params", [
    (["reinhard_lab", "per_frame", 1], {"method": "reinhard_lab", "source_stats": "per_frame", "strength": 1.0}),
    (["mkl_lab", "target_frame", 3, 0.5],
     {"method": "mkl_lab", "source_stats": "target_frame", "target_index": 3, "strength": 0.5}),
])
def test_comfyuis_saved_values_import_fully(widgets, params):
    node = {"id": 1, "type": "ColorTransfer", "mode": 0, "widgets_values": widgets, "inputs": [], "outputs": []}
    graph, report = import_data({"version": 0.4, "last_node_id": 1, "last_link_id": 0, "nodes": [node],
                                 "links": []}, default_registry())
    assert report.fully_mapped, report.lines()
    assert (graph.nodes["1"].type, graph.nodes["1"].params) == ("image.color_transfer", params)
