"""SD3 graphs give StableDiffusion3Pipeline's pixels, byte for byte (tiny random weights, CPU)."""

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


@pytest.mark.parametrize("cfg", [1.0, 5.0])
def test_txt2img_matches_sd3_pipeline(tiny_sd3, executor, tmp_path, cfg):
    graph, ids = flux_txt2img(tiny_sd3, guidance=None, negative="" if cfg > 1 else None, cfg=cfg, steps=3, seed=5)
    ours = pixels(run(executor, graph, tmp_path), ids["decode"])
    pipe = reference_pipe("StableDiffusion3Pipeline", tiny_sd3)
    theirs = as_uint8(pipe("a red circle", height=32, width=32, num_inference_steps=3, guidance_scale=cfg,
                           generator=torch.Generator("cpu").manual_seed(5)).images)
    meaningful(theirs)
    np.testing.assert_array_equal(ours, theirs)


def test_img2img_matches_sd3_img2img_pipeline(tiny_sd3, source_png, executor, tmp_path):
    from PIL import Image

    source, _ = source_png
    graph, ids = flux_txt2img(tiny_sd3, guidance=None, negative="", cfg=4.0, image=source, denoise=0.6, steps=5,
                              seed=4, prompt="a blue circle")
    ours = pixels(run(executor, graph, tmp_path), ids["decode"])
    pipe = reference_pipe("StableDiffusion3Img2ImgPipeline", tiny_sd3)
    theirs = as_uint8(pipe("a blue circle", image=Image.open(source), strength=0.6, num_inference_steps=5, height=32,
                           width=32, guidance_scale=4.0, generator=torch.Generator("cpu").manual_seed(4)).images)
    meaningful(theirs)
    np.testing.assert_array_equal(ours, theirs)


def test_all_in_one_file_gives_the_folders_pixels(tmp_path_factory, executor, tmp_path):
    """SD3.5 ships as one file: Load Checkpoint on it (sizes read off its tensors) == on the folder."""
    from tiny_flow import build_sd3_file

    folder, file = build_sd3_file(tmp_path_factory.mktemp("sd3_file") / "tiny_sd3_aio")
    results = []
    for checkpoint in (folder, file):
        graph, ids = flux_txt2img(checkpoint, guidance=None, negative="", cfg=3.0, steps=3, seed=2)
        results.append(pixels(run(executor, graph, tmp_path), ids["decode"]))
    meaningful(results[0])
    np.testing.assert_array_equal(results[1], results[0])


def test_heun_matches_sd3_pipeline_with_flow_match_heun(tiny_sd3, executor, tmp_path):
    from diffusers import FlowMatchHeunDiscreteScheduler, StableDiffusion3Pipeline

    graph, ids = flux_txt2img(tiny_sd3, guidance=None, negative="", cfg=4.0, steps=3, seed=6)
    graph.set_param(ids["sampler"], "sampler_name", "heun")
    ours = pixels(run(executor, graph, tmp_path), ids["decode"])
    base = reference_pipe("StableDiffusion3Pipeline", tiny_sd3)
    pipe = StableDiffusion3Pipeline(**{**base.components,
                                       "scheduler": FlowMatchHeunDiscreteScheduler.from_config(base.scheduler.config)})
    pipe.set_progress_bar_config(disable=True)
    theirs = as_uint8(pipe("a red circle", height=32, width=32, num_inference_steps=3, guidance_scale=4.0,
                           generator=torch.Generator("cpu").manual_seed(6)).images)
    meaningful(theirs)
    np.testing.assert_array_equal(ours, theirs)


def test_heun_is_refused_for_a_pipeline_with_its_own_sigmas(tiny_flux, executor, tmp_path):
    graph, ids = flux_txt2img(tiny_flux, steps=2)
    graph.set_param(ids["sampler"], "sampler_name", "heun")
    result = executor.run(graph, output_dir=tmp_path)
    assert not result.ok and "(FlowMatchHeunDiscreteScheduler) has no custom sigmas" in result.errors[ids["sampler"]]
