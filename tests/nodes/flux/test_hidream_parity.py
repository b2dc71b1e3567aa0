"""HiDream-I1 graphs give HiDreamImagePipeline's pixels (tiny random weights, CPU): four text encoders, the
mixture-of-experts transformer, guidance off and on (both prompts in one call, negative first). The
pipeline rescales the size to its default area (256 x 256 with the tiny 2x VAE), which the graph asks for."""

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
def test_txt2img_matches_hidream_image_pipeline(tiny_hidream, executor, tmp_path, cfg):
    graph, ids = flux_txt2img(tiny_hidream, guidance=None, negative="a green square" if cfg > 1 else None, cfg=cfg,
                              size=256, steps=2, seed=5)
    ours = pixels(run(executor, graph, tmp_path), ids["decode"])
    pipe = reference_pipe("HiDreamImagePipeline", tiny_hidream)
    theirs = as_uint8(pipe("a red circle", negative_prompt="a green square" if cfg > 1 else None, height=256,
                           width=256, num_inference_steps=2, guidance_scale=cfg,
                           generator=torch.Generator("cpu").manual_seed(5)).images)
    meaningful(theirs)
    np.testing.assert_array_equal(ours, theirs)


def test_a_lone_comfyui_transformer_file_samples_like_the_folder(tiny_hidream8, executor, tmp_path):
    """UNETLoader on ComfyUI's HiDream file (diffusers' names under model.diffusion_model.): recognised by its
    experts' gate, its widths, blocks, experts and text widths read off the weights, the rest (head width, rope
    axes, experts per token, the Llama layer of each block) from the shipped HiDream-I1 config."""
    from diffusers import HiDreamImageTransformer2DModel
    from graphs import add
    from safetensors.torch import save_file

    transformer = HiDreamImageTransformer2DModel.from_pretrained(tiny_hidream8 / "transformer")
    path = tmp_path / "hidream_i1_dev_bf16.safetensors"
    save_file({"model.diffusion_model." + k: v.contiguous() for k, v in transformer.state_dict().items()}, str(path))
    graph, ids = flux_txt2img(tiny_hidream8, guidance=None, size=64, steps=2, seed=5)
    expected = pixels(run(executor, graph, tmp_path / "folder"), ids["decode"])
    meaningful(expected)
    unet = add(graph, "models.load_unet", unet=str(path))
    graph.connect(unet, "model", ids["sampler"], "model")

    np.testing.assert_array_equal(pixels(run(executor, graph, tmp_path / "file"), ids["decode"]), expected)
