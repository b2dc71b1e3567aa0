"""Our txt2img graph gives diffusers' StableDiffusionPipeline's pixels, byte for byte."""

from __future__ import annotations

import numpy as np
import pytest
from graphs import pixels, run, txt2img
from pipelines import as_uint8, generator, settled, with_scheduler

from nodeflow.engine import Executor

CASES = [("euler", "normal"), ("euler_ancestral", "normal"), ("dpmpp_2m", "karras"), ("ddim", "normal")]


@pytest.fixture(scope="module")
def executor():
    return Executor(device="cpu")


def reference(folder, sampler, scheduler, *, prompt="a red circle", seed=0, steps=4, cfg=7.0, size=32, batch=1):
    pipe = with_scheduler("txt2img", folder, sampler, scheduler, seed)
    out = pipe(prompt, negative_prompt="", height=size, width=size, num_inference_steps=steps,
               guidance_scale=cfg, num_images_per_prompt=batch, generator=generator(seed))
    return as_uint8(out.images)


def assert_meaningful(image: np.ndarray) -> None:
    """Parity on saturated or flat pictures would prove little: the test images have detail."""
    assert image.std() > 10
    assert ((image > 0) & (image < 255)).mean() > 0.5


@pytest.mark.parametrize("cfg", [1.0, 7.0])
@pytest.mark.parametrize(("sampler", "scheduler"), CASES)
def test_txt2img_matches_pipeline(tiny_sd, executor, tmp_path, sampler, scheduler, cfg):
    graph, ids = txt2img(tiny_sd, sampler=sampler, scheduler=scheduler, cfg=cfg, seed=3)
    ours = pixels(run(executor, graph, tmp_path), ids["decode"])
    theirs = reference(tiny_sd, sampler, scheduler, cfg=cfg, seed=3)
    assert_meaningful(theirs)
    np.testing.assert_array_equal(ours, theirs)


def test_txt2img_vprediction_zero_snr_matches_pipeline(tiny_vpred, executor, tmp_path):
    for sampler, scheduler in [("euler", "normal"), ("euler_ancestral", "normal"), ("ddim", "normal"),
                               ("dpmpp_2m", "karras"), ("uni_pc", "normal")]:
        graph, ids = txt2img(tiny_vpred, sampler=sampler, scheduler=scheduler, cfg=5.0, seed=11)
        ours = pixels(run(executor, graph, tmp_path), ids["decode"])
        theirs = reference(tiny_vpred, sampler, scheduler, cfg=5.0, seed=11)
        assert_meaningful(theirs)
        np.testing.assert_array_equal(ours, theirs, err_msg=sampler)


def test_batch_matches_pipeline(tiny_sd, executor, tmp_path):
    graph, ids = txt2img(tiny_sd, batch=2, seed=5, sampler="euler_ancestral")
    ours = pixels(run(executor, graph, tmp_path), ids["decode"])
    theirs = reference(tiny_sd, "euler_ancestral", "normal", seed=5, batch=2)
    np.testing.assert_array_equal(ours, theirs)


@pytest.mark.parametrize(("sampler", "scheduler", "cfg"), [("euler", "normal", 6.0), ("euler_ancestral", "normal", 1.0),
                                                            ("dpmpp_2m", "karras", 6.0)])
def test_sdxl_txt2img_matches_pipeline(tiny_xl, executor, tmp_path, sampler, scheduler, cfg):
    import diffusers
    from pipelines import REFERENCE_SCHEDULERS

    graph, ids = txt2img(tiny_xl, sampler=sampler, scheduler=scheduler, cfg=cfg, seed=6)
    ours = pixels(run(executor, graph, tmp_path), ids["decode"])
    pipe = settled(diffusers.StableDiffusionXLPipeline.from_pretrained(tiny_xl, local_files_only=True))
    pipe.set_progress_bar_config(disable=True)
    name, extra = REFERENCE_SCHEDULERS[(sampler, scheduler)]
    pipe.scheduler = getattr(diffusers, name).from_config(pipe.scheduler.config, **extra)
    theirs = as_uint8(pipe("a red circle", negative_prompt="", height=32, width=32, num_inference_steps=4,
                           guidance_scale=cfg, generator=generator(6)).images)
    assert_meaningful(theirs)
    np.testing.assert_array_equal(ours, theirs)
