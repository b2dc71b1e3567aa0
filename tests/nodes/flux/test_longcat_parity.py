"""LongCat-Image graphs give LongCatImagePipeline's pixels (tiny random weights, CPU): text-to-image
without guidance and with the pipeline's CFG and its renormalisation, a quoted prompt spelled out
character by character; ComfyUI's transformer file (BFL's Flux names) samples like the folder."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from flow_graphs import as_uint8, flux_txt2img, meaningful
from graphs import pixels, run
from tiny_longcat import reference

from nodeflow.engine import Executor

PROMPT = 'a red circle with "Hi" on it'


@pytest.fixture(scope="module")
def executor():
    return Executor(device="cpu")


@pytest.mark.parametrize("cfg", [1.0, 4.0])
def test_txt2img_matches_longcat_image_pipeline(tiny_longcat, executor, tmp_path, cfg):
    graph, ids = flux_txt2img(tiny_longcat, prompt=PROMPT, guidance=None, negative="" if cfg > 1 else None, cfg=cfg,
                              steps=3, seed=5)
    ours = pixels(run(executor, graph, tmp_path), ids["decode"])
    pipe = reference("LongCatImagePipeline", tiny_longcat)
    theirs = as_uint8(pipe(PROMPT, height=32, width=32, num_inference_steps=3, guidance_scale=cfg,
                           enable_prompt_rewrite=False, generator=torch.Generator("cpu").manual_seed(5)).images)
    meaningful(theirs)
    np.testing.assert_array_equal(ours, theirs)
    if cfg > 1:  # the renormalisation changes these pixels: without it they differ
        plain = as_uint8(pipe(PROMPT, height=32, width=32, num_inference_steps=3, guidance_scale=cfg,
                              enable_cfg_renorm=False, enable_prompt_rewrite=False,
                              generator=torch.Generator("cpu").manual_seed(5)).images)
        assert not np.array_equal(ours, plain)


def test_guidance_is_renormalised_per_token_at_most_to_the_positive_norm():
    """The mix itself: each packed token's guided velocity is scaled by min(1, |cond| / |guided|)."""
    from nodes.longcat._adapter import mix_for, plain, renormalised
    from nodes.qwen_image._adapter import pack
    from nodes.values import CondEntry

    cond, uncond = torch.randn(1, 16, 4, 4), torch.randn(1, 16, 4, 4)
    guided = pack(renormalised(cond, uncond, 5.0))
    assert torch.all(guided.norm(dim=-1) <= pack(cond).norm(dim=-1) * (1 + 1e-5))
    assert mix_for([CondEntry(embeds=None)]) is renormalised
    assert mix_for([CondEntry(embeds=None, references=(torch.zeros(1, 16, 2, 2),))]) is plain


def test_comfyui_transformer_file_samples_like_the_folder(tiny_longcat8, executor, tmp_path):
    """UNETLoader on ComfyUI's LongCat-Image file (BFL's Flux names, no pooled-text input): recognised as
    LongCat-Image, not Flux.1; its sizes read off the weights, the rest from the shipped configs."""
    from diffusers import LongCatImageTransformer2DModel
    from graphs import add
    from safetensors.torch import save_file
    from tiny_longcat import bfl_state

    from nodes.families import detect

    transformer = LongCatImageTransformer2DModel.from_pretrained(tiny_longcat8 / "transformer")
    state = {"model.diffusion_model." + k: v for k, v in bfl_state(transformer.state_dict()).items()}
    assert detect({k: tuple(v.shape) for k, v in state.items()}).name == "longcat-image"
    path = tmp_path / "longcat_image_bf16.safetensors"
    save_file(state, str(path))
    graph, ids = flux_txt2img(tiny_longcat8, guidance=None, steps=2, seed=5)
    expected = pixels(run(executor, graph, tmp_path / "folder"), ids["decode"])
    meaningful(expected)
    unet = add(graph, "models.load_unet", unet=str(path))
    graph.connect(unet, "model", ids["sampler"], "model")

    np.testing.assert_array_equal(pixels(run(executor, graph, tmp_path / "file"), ids["decode"]), expected)


@pytest.mark.slow  # the edit pipeline works at about 1024x1024 whatever the picture: about a minute on 2 cores
def test_edit_matches_longcat_image_edit_pipeline(tiny_longcat8, source_png, executor, tmp_path):
    """Text Encode (Qwen-Image Edit) on LongCat's text encoder, for the prompt and the empty negative, each
    with the picture: Qwen2.5-VL sees it at half the edit size inside the edit template, the transformer
    refers to its latents; guidance 4.5 mixed plainly, as LongCatImageEditPipeline does."""
    from diffusers.pipelines.longcat_image.pipeline_longcat_image_edit import calculate_dimensions
    from graphs import add, new_graph
    from PIL import Image

    source, _ = source_png
    picture = Image.open(source).convert("RGB")
    width, height = calculate_dimensions(1024 * 1024, picture.width / picture.height)
    g = new_graph()
    ckpt = add(g, "models.load_checkpoint", checkpoint=str(tiny_longcat8))
    loaded = add(g, "image.load", image=str(source))
    texts = [add(g, "qwen_image.text_encode_edit", {"clip": (ckpt, "clip"), "vae": (ckpt, "vae"),
                                                    "image": (loaded, "image")}, prompt=prompt)
             for prompt in ('make it "blue"', "")]
    latent = add(g, "latent.empty", width=width, height=height, batch_size=1)
    sampler = add(g, "sampling.sampler", {"model": (ckpt, "model"), "positive": (texts[0], "conditioning"),
                                          "negative": (texts[1], "conditioning"), "latent_image": (latent, "latent")},
                  seed=3, steps=2, cfg=4.5, sampler_name="euler", scheduler="normal")
    decode = add(g, "vae.decode", {"latent": (sampler, "latent"), "vae": (ckpt, "vae")})
    add(g, "image.preview", {"images": (decode, "image")})
    ours = pixels(run(executor, g, tmp_path), decode)

    pipe = reference("LongCatImageEditPipeline", tiny_longcat8)
    theirs = as_uint8(pipe(image=picture, prompt='make it "blue"', num_inference_steps=2, guidance_scale=4.5,
                           generator=torch.Generator("cpu").manual_seed(3)).images)
    meaningful(theirs)
    np.testing.assert_array_equal(ours, theirs)


@pytest.mark.parametrize("family", [None, "z-image", "qwen-image-2.1"])
def test_edit_encode_refuses_a_text_encoder_whose_family_edits_otherwise(family):
    """Text Encode (Qwen-Image Edit) encodes as the text encoder's family edits from one picture (Qwen-Image,
    LongCat-Image); any other text encoder is one line on 'clip', before any work."""
    from types import SimpleNamespace

    from nodeflow.core import NodeError
    from nodes.families import by_name
    from nodes.qwen_image.edit import TextEncodeQwenImageEdit

    clip = SimpleNamespace(spec=by_name(family) if family else None)
    with pytest.raises(NodeError) as caught:
        TextEncodeQwenImageEdit().run(None, clip, "make it blue")
    assert caught.value.field == "clip" and "Qwen-Image or LongCat-Image" in str(caught.value)
