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


def test_an_edit_picture_is_joined_on_the_right_and_cut_off(tiny_hidream8):
    """HiDream-E1: a prompt with an edit picture runs the transformer on [latents | picture] (double width) and
    keeps the left half. Made square (latents 8 x 4 cells each), the transformer's own patching pads nothing,
    so it must give the same numbers as the adapter's own tokens; the picture must change the result."""
    from diffusers import HiDreamImageTransformer2DModel

    from nodes.hidream._adapter import _velocity

    unet = HiDreamImageTransformer2DModel.from_pretrained(tiny_hidream8 / "transformer").eval()
    model = type("M", (), {"unet": unet})()
    g = torch.Generator().manual_seed(3)
    latents, picture = torch.randn(1, 16, 8, 4, generator=g), torch.randn(1, 16, 8, 4, generator=g)
    t5, llama = torch.randn(1, 5, 32, generator=g), torch.randn(32, 1, 6, 32, generator=g)
    pooled = torch.randn(1, 64, generator=g)
    t = torch.tensor([500.0])
    with torch.no_grad():
        ours = _velocity(model, latents, t, t5, llama, pooled, picture)
        theirs = -unet(hidden_states=torch.cat([latents, picture], dim=-1), timesteps=t, encoder_hidden_states_t5=t5,
                       encoder_hidden_states_llama3=llama, pooled_embeds=pooled, return_dict=False)[0][..., :4]
        alone = _velocity(model, latents, t, t5, llama, pooled)
    assert ours.shape == latents.shape
    torch.testing.assert_close(ours, theirs, atol=1e-5, rtol=1e-5)
    assert (ours - alone).abs().mean() > 1e-3
