"""Flux KV Cache (ComfyUI's FluxKVCache) gives Flux2KleinKVPipeline's pixels: the reference picture's keys and
values computed on the first step (the reference before the picture, modulated as at t = 0, attending only
to itself) and reused on the second (tiny random Klein weights, CPU, diffusers convention)."""

from __future__ import annotations

import numpy as np
import torch
from flow_graphs import as_uint8, flux_txt2img, meaningful, reference_pipe
from graphs import add, pixels, run

from nodeflow.engine import Executor


def _kv_graph(tiny_klein, source):
    graph, ids = flux_txt2img(tiny_klein, guidance=None, reference=source, steps=2, seed=6, prompt="a blue circle")
    ids["kv"] = add(graph, "flux2.kv_cache", {"model": (ids["ckpt"], "model")})
    graph.connect(ids["kv"], "model", ids["sampler"], "model")
    return graph, ids


def test_kv_cache_edit_matches_flux2_klein_kv_pipeline(tiny_klein, source_png, tmp_path):
    from PIL import Image

    source = tmp_path / "source64.png"  # the pipeline's image processor takes pictures of 64 pixels or more
    Image.open(source_png[0]).resize((64, 64), Image.BICUBIC).save(source)
    executor = Executor(device="cpu")
    graph, ids = _kv_graph(tiny_klein, source)
    ours = pixels(run(executor, graph, tmp_path / "kv"), ids["decode"])
    pipe = reference_pipe("Flux2KleinKVPipeline", tiny_klein)
    theirs = as_uint8(pipe(image=[Image.open(source)], prompt="a blue circle", height=32, width=32,
                           num_inference_steps=2, generator=torch.Generator("cpu").manual_seed(6)).images)
    meaningful(theirs)
    np.testing.assert_array_equal(ours, theirs)
    graph.connect(ids["ckpt"], "model", ids["sampler"], "model")  # without the cache: Klein's full attention
    plain = pixels(run(executor, graph, tmp_path / "plain"), ids["decode"])
    assert (plain != ours).any()
    # the model's own attention is back after the cached run: the plain run is Flux2KleinPipeline's
    klein = as_uint8(reference_pipe("Flux2KleinPipeline", tiny_klein)(
        image=[Image.open(source)], prompt="a blue circle", height=32, width=32, num_inference_steps=2,
        guidance_scale=1.0, generator=torch.Generator("cpu").manual_seed(6)).images)
    np.testing.assert_array_equal(plain, klein)


def test_kv_cache_refuses_a_model_that_is_not_flux2(tiny_sd, tmp_path):
    graph, ids = flux_txt2img(tiny_sd, guidance=None, steps=1)
    kv = add(graph, "flux2.kv_cache", {"model": (ids["ckpt"], "model")})
    graph.connect(kv, "model", ids["sampler"], "model")
    result = Executor(device="cpu").run(graph, output_dir=tmp_path)
    assert not result.ok
    assert "Flux KV Cache is for Flux.2 models" in str(result.errors)
