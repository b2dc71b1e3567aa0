"""Chroma graphs give ChromaPipeline's pixels, byte for byte (tiny random weights, CPU)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from flow_graphs import as_uint8, flux_txt2img, meaningful, reference_pipe
from graphs import pixels, run

from nodeflow.engine import Executor


@pytest.fixture(scope="module")
def executor():
    return Executor(device="cpu")


def test_txt2img_with_cfg_matches_chroma_pipeline(tiny_chroma, executor, tmp_path):
    graph, ids = flux_txt2img(tiny_chroma, guidance=None, negative="blue", cfg=4.0, steps=3, seed=7)
    ours = pixels(run(executor, graph, tmp_path), ids["decode"])
    pipe = reference_pipe("ChromaPipeline", tiny_chroma)
    theirs = as_uint8(pipe("a red circle", negative_prompt="blue", height=32, width=32, num_inference_steps=3,
                           guidance_scale=4.0, generator=torch.Generator("cpu").manual_seed(7)).images)
    meaningful(theirs)
    np.testing.assert_array_equal(ours, theirs)


def test_t5_tokenizer_options_set_the_visible_padding(tiny_chroma, executor, tmp_path):
    """min_padding 1 is ChromaPipeline's own rule (the same pixels); 0 hides every padding token."""
    from graphs import add

    outputs = {}
    for options in (None, (1, 0), (0, 0)):
        graph, ids = flux_txt2img(tiny_chroma, guidance=None, steps=2, seed=3)
        if options is not None:
            node = add(graph, "conditioning.t5_tokenizer_options", {"clip": (ids["ckpt"], "clip")},
                       min_padding=options[0], min_length=options[1])
            graph.connect(node, "clip", ids["pos"], "clip")
        outputs[options] = pixels(run(executor, graph, tmp_path), ids["decode"])
    np.testing.assert_array_equal(outputs[(1, 0)], outputs[None])
    assert not np.array_equal(outputs[(0, 0)], outputs[None])
