"""FLUX.3 [klein] graphs give the modular pipelines' pixels (tiny random weights, CPU, tolerance 0):
the base model (Flux3ModularPipeline) text to image with and without classifier-free guidance and
an edit with two reference pictures; the step-distilled flow map (Flux3DistilledModularPipeline),
told each step's target timestep, text to image and an edit."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from flow_graphs import as_uint8, flux_txt2img, meaningful
from graphs import add, pixels, run
from tiny_flux3 import reference_pipe

from nodeflow.engine import Executor


@pytest.fixture(scope="module")
def executor():
    return Executor(device="cpu")


def _theirs(folder, cfg: float, seed: int, **kwargs) -> np.ndarray:
    pipe = reference_pipe(folder, cfg)
    images = pipe(height=32, width=32, num_inference_steps=2, generator=torch.Generator("cpu").manual_seed(seed),
                  output="images", **kwargs)
    return as_uint8(images)


@pytest.mark.parametrize("cfg", [1.0, 3.5])
def test_txt2img_matches_flux3_pipeline(tiny_flux3, executor, tmp_path, cfg):
    graph, ids = flux_txt2img(tiny_flux3, guidance=None, negative="a blue square" if cfg > 1 else None, cfg=cfg,
                              steps=2, seed=3)
    ours = pixels(run(executor, graph, tmp_path), ids["decode"])
    extra = {"negative_prompt": "a blue square"} if cfg > 1 else {}
    theirs = _theirs(tiny_flux3, cfg, 3, prompt="a red circle", **extra)
    meaningful(theirs)
    np.testing.assert_array_equal(ours, theirs)


def _with_second_reference(graph, ids, picture):
    """A second Reference Latent on both prompts (the pipeline's second `image`)."""
    load = add(graph, "image.load", image=str(picture))
    encode = add(graph, "vae.encode", {"pixels": (load, "image"), "vae": (ids["ckpt"], "vae")})
    for key, field in (("ref", "positive"), ("neg_ref", "negative")):
        if key not in ids:
            continue
        second = add(graph, "flux.reference_latent", {"conditioning": (ids[key], "conditioning"),
                                                      "latent": (encode, "latent")})
        graph.connect(second, "conditioning", ids["sampler"], field)


@pytest.mark.parametrize("distilled", [False, True])
def test_edit_with_two_references_matches_flux3_pipeline(tiny_flux3, tiny_flux3_distilled, source_png, executor,
                                                         tmp_path, distilled):
    from PIL import Image

    folder = tiny_flux3_distilled if distilled else tiny_flux3
    cfg = 1.0 if distilled else 2.0
    pictures = []
    for i, size in enumerate(((64, 48), (32, 32))):  # sides on the 16-pixel grid: the pipeline keeps them as they are
        path = tmp_path / f"reference{i}.png"
        Image.open(source_png[i % len(source_png)]).convert("RGB").resize(size, Image.BICUBIC).save(path)
        pictures.append(path)
    graph, ids = flux_txt2img(folder, guidance=None, reference=pictures[0], steps=2, seed=4, cfg=cfg,
                              negative="" if cfg > 1 else None, prompt="make <ref_image_0> blue")
    _with_second_reference(graph, ids, pictures[1])
    ours = pixels(run(executor, graph, tmp_path), ids["decode"])
    theirs = _theirs(folder, cfg, 4, prompt="make <ref_image_0> blue", image=[Image.open(p) for p in pictures])
    meaningful(theirs)
    np.testing.assert_array_equal(ours, theirs)


def test_distilled_txt2img_matches_flux3_distilled_pipeline(tiny_flux3_distilled, executor, tmp_path):
    graph, ids = flux_txt2img(tiny_flux3_distilled, guidance=None, steps=3, seed=5)
    ours = pixels(run(executor, graph, tmp_path), ids["decode"])
    pipe = reference_pipe(tiny_flux3_distilled)
    theirs = as_uint8(pipe(prompt="a red circle", height=32, width=32, num_inference_steps=3,
                           generator=torch.Generator("cpu").manual_seed(5), output="images"))
    meaningful(theirs)
    np.testing.assert_array_equal(ours, theirs)
