"""Conditioning ops on flow models: prompts restricted to an area or a mask (ComfyUI's rule: each runs
on its region, outputs weighted by strength x mask), with time ranges, for Flux and SD3."""

from __future__ import annotations

import numpy as np
import pytest
from flow_graphs import flux_txt2img
from graphs import add, pixels, run

from nodeflow.engine import Executor


@pytest.fixture(scope="module")
def executor():
    return Executor(device="cpu")


def _with_area(graph, ids, text, width, height, x, y, strength=1.0):
    """A second prompt on an area, combined with the first (Conditioning Set Area + Combine)."""
    extra = add(graph, "conditioning.text_encode", {"clip": (ids["ckpt"], "clip")}, text=text)
    area = add(graph, "conditioning.set_area", {"conditioning": (extra, "conditioning")}, width=width, height=height,
               x=x, y=y, strength=strength)
    source = ids.get("guidance", ids["pos"])
    combined = add(graph, "conditioning.combine", {"conditioning_1": (source, "conditioning"),
                                                   "conditioning_2": (area, "conditioning")})
    graph.connect(combined, "conditioning", ids["sampler"], "positive")


@pytest.mark.parametrize(("fixture", "guidance", "cfg"), [("tiny_flux", 3.5, 1.0), ("tiny_sd3", None, 3.0)])
def test_an_area_prompt_changes_its_area_most(fixture, guidance, cfg, request, executor, tmp_path):
    folder = request.getfixturevalue(fixture)
    negative = "" if cfg > 1 else None
    plain_graph, ids = flux_txt2img(folder, guidance=guidance, negative=negative, cfg=cfg, seed=3)
    plain = pixels(run(executor, plain_graph, tmp_path), ids["decode"]).astype(int)
    graph, ids = flux_txt2img(folder, guidance=guidance, negative=negative, cfg=cfg, seed=3)
    _with_area(graph, ids, "blue", 16, 32, 16, 0)
    regional = pixels(run(executor, graph, tmp_path), ids["decode"]).astype(int)
    right = np.abs(regional - plain)[:, :, 16:].mean()
    assert right > 0.2  # the area's own prompt reaches the model
    assert right > np.abs(regional - plain)[:, :, :4].mean()  # and matters most where it applies


def test_a_whole_picture_area_at_strength_one_is_the_plain_prompt(tiny_flux, executor, tmp_path):
    plain_graph, ids = flux_txt2img(tiny_flux, seed=3)
    plain = pixels(run(executor, plain_graph, tmp_path), ids["decode"])
    graph, ids = flux_txt2img(tiny_flux, seed=3)
    area = add(graph, "conditioning.set_area", {"conditioning": (ids["guidance"], "conditioning")}, width=32,
               height=32, x=0, y=0, strength=1.0)
    graph.connect(area, "conditioning", ids["sampler"], "positive")
    np.testing.assert_array_equal(pixels(run(executor, graph, tmp_path), ids["decode"]), plain)
