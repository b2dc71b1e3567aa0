"""The built-in flow model, tiny-shapes-flow: Load Checkpoint finds it by name, and NodeFlow's graphs
give FluxPipeline's, FluxImg2ImgPipeline's and FluxKontextPipeline's pixels on its trained weights,
byte for byte (true classifier-free guidance with an empty negative prompt, its 16-token T5 window)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from flow_graphs import as_uint8, flux_txt2img, meaningful, reference_pipe
from graphs import pixels, run

from nodeflow.engine import Executor
from nodeflow.library import BUILTIN_NAMES, default_library

NAME = "tiny-shapes-flow"
SIZE = 64
#: The examples' 64x64 picture (a large red circle on blue, drawn by the training data's renderer).
SOURCE = Path(__file__).resolve().parents[3] / "workflows" / "inputs" / "red_circle.png"


@pytest.fixture(scope="module")
def folder():
    path = default_library().find("checkpoints", NAME)
    if path is None or not (path / "model_index.json").is_file():
        pytest.skip(f"{NAME} is not in resources/models yet (train it with tools/train_tiny_flow_model.py)")
    return path


@pytest.fixture(scope="module")
def executor():
    return Executor(device="cpu")


def generator(seed: int) -> torch.Generator:
    return torch.Generator("cpu").manual_seed(seed)


def flow_arguments(pipe, cfg: float) -> dict:
    """The diffusers call for this model: its 16-token T5 window, true CFG against an empty prompt."""
    return {"max_sequence_length": pipe.tokenizer_2.model_max_length, "negative_prompt": "",
            "true_cfg_scale": cfg, "height": SIZE, "width": SIZE}


def test_listed_and_found_by_name(folder):
    assert NAME in BUILTIN_NAMES
    entries = {e.name: e for e in default_library().scan("checkpoints")}
    assert entries[NAME].source == "built-in" and entries[NAME].path == folder
    assert default_library().name_of(folder) == ("checkpoints", NAME)


def test_txt2img_matches_flux_pipeline(folder, executor, tmp_path):
    prompt = "a small yellow star on the left on a blue background"
    graph, ids = flux_txt2img(NAME, prompt=prompt, negative="", cfg=4.0, guidance=None, size=SIZE, steps=4, seed=3)
    ours = pixels(run(executor, graph, tmp_path), ids["decode"])
    pipe = reference_pipe("FluxPipeline", folder)
    theirs = as_uint8(pipe(prompt, num_inference_steps=4, generator=generator(3), **flow_arguments(pipe, 4.0)).images)
    meaningful(theirs)
    np.testing.assert_array_equal(ours, theirs)


def test_img2img_matches_flux_img2img_pipeline(folder, executor, tmp_path):
    from PIL import Image

    source = SOURCE
    graph, ids = flux_txt2img(NAME, prompt="a green square", negative="", cfg=3.0, guidance=None, image=source,
                              denoise=0.6, steps=4, seed=2)
    ours = pixels(run(executor, graph, tmp_path), ids["decode"])
    pipe = reference_pipe("FluxImg2ImgPipeline", folder)
    theirs = as_uint8(pipe("a green square", image=Image.open(source), strength=0.6, num_inference_steps=4,
                           generator=generator(2), **flow_arguments(pipe, 3.0)).images)
    np.testing.assert_array_equal(ours, theirs)


def test_kontext_edit_matches_kontext_pipeline(folder, executor, tmp_path):
    from PIL import Image

    source = SOURCE
    prompt = "a green circle"
    graph, ids = flux_txt2img(NAME, prompt=prompt, negative="", cfg=2.0, guidance=None, reference=source,
                              size=SIZE, steps=3, seed=6)
    ours = pixels(run(executor, graph, tmp_path), ids["decode"])
    pipe = reference_pipe("FluxKontextPipeline", folder)
    theirs = as_uint8(pipe(image=Image.open(source), prompt=prompt, num_inference_steps=3, generator=generator(6),
                           _auto_resize=False, max_area=SIZE * SIZE, **flow_arguments(pipe, 2.0)).images)
    meaningful(theirs)
    np.testing.assert_array_equal(ours, theirs)
