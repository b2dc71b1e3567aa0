"""Kandinsky 5 Image graphs give Kandinsky5T2IPipeline's pixels (tiny random weights, CPU), byte for byte:
text to image without guidance and with it (cfg is the pipeline's guidance_scale, the negative prompt in
its own call)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from flow_graphs import as_uint8, flux_txt2img, meaningful, reference_pipe
from graphs import pixels, run
from tiny_kandinsky5 import build_kandinsky5

from nodeflow.engine import Executor


@pytest.fixture(scope="module")
def tiny_kandinsky5(tmp_path_factory, torch_threads):
    return build_kandinsky5(tmp_path_factory.mktemp("tiny_kandinsky5"))


@pytest.mark.parametrize("cfg", [1.0, 3.5])
def test_txt2img_matches_kandinsky5_pipeline(tiny_kandinsky5, tmp_path, cfg):
    negative = "a green square" if cfg > 1 else None
    graph, ids = flux_txt2img(tiny_kandinsky5, guidance=None, negative=negative, cfg=cfg, steps=2, seed=5, size=64)
    ours = pixels(run(Executor(device="cpu"), graph, tmp_path), ids["decode"])
    pipe = reference_pipe("Kandinsky5T2IPipeline", tiny_kandinsky5)
    pipe.resolutions = [(64, 64)]  # the pipeline snaps other sizes to its published ones; NodeFlow keeps the latent's
    theirs = as_uint8(pipe("a red circle", negative_prompt="a green square", height=64, width=64,
                           num_inference_steps=2, guidance_scale=cfg,
                           generator=torch.Generator("cpu").manual_seed(5)).image)
    meaningful(theirs)
    np.testing.assert_array_equal(ours, theirs)


def test_the_image_transformer_is_kandinsky5_and_a_video_one_is_not_taken_for_it():
    from nodes.families import detect

    image = {"pooled_text_embeddings.in_layer.weight": (512, 768),
             "visual_transformer_blocks.0.cross_attention.to_query.weight": (2560, 2560),
             "visual_embeddings.in_layer.weight": (2560, 64)}
    assert detect(image).name == "kandinsky5"
    video = image | {"visual_embeddings.in_layer.weight": (1792, 132)}  # visual_cond: 2 x 16 + 1 channels a cell
    assert detect(video) is None
