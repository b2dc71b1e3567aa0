"""Qwen Image 2.1 graphs give QwenImage21Pipeline's pixels (tiny random weights, CPU, 64x64, 2 steps):
text to image (plain Text Encode, and Text Encode (Qwen Image 2.1) with true CFG), the prefix cache
on and off, and an edit with a reference picture; bad inputs stop with one line naming node and field.

The VAE is RGBA: the pipeline's pictures have four channels, NodeFlow's IMAGE the first three.
References are used at 256x256: Qwen3-VL's processor never shows a picture smaller than 65536
pixels, and the VAE's latents must fill the picture slots it makes.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from flow_graphs import as_uint8, meaningful
from graphs import add, new_graph, pixels, run

from nodeflow.engine import Executor


@pytest.fixture(scope="module")
def tiny21(tmp_path_factory, torch_threads):
    from tiny_qwen21 import build_qwen_image21

    return build_qwen_image21(tmp_path_factory.mktemp("tiny_qwen_image21"))


@pytest.fixture(scope="module")
def pipe(tiny21):
    from tiny_qwen21 import reference_pipeline

    return reference_pipeline(tiny21)


@pytest.fixture(scope="module")
def executor():
    return Executor(device="cpu")


def _graph(folder, *, prompt: str, negative: str = "", cfg: float = 1.0, cache: str | None = None,
           picture=None, plain: bool = False, resolution: int = 64):
    """Load Checkpoint (-> Prefix Cache) -> Text Encode (Qwen Image 2.1) -> Sampler -> VAE Decode; the
    sampled latent is 64x64 pixels (an Empty Latent when the references are larger)."""
    g = new_graph()
    ckpt = add(g, "models.load_checkpoint", checkpoint=str(folder))
    model = (ckpt, "model")
    if cache is not None:
        model = (add(g, "qwen_image21.cache", {"model": model}, device=cache, dtype="default"), "model")
    links = {"clip": (ckpt, "clip")}
    if picture is not None:
        links |= {"vae": (ckpt, "vae"), "image_1": (add(g, "image.load", image=str(picture)), "image")}
    if plain:
        text = add(g, "conditioning.text_encode", {"clip": (ckpt, "clip")}, text=prompt)
        positive, negative_link = (text, "conditioning"), None
        latent = (add(g, "latent.empty", width=64, height=64, batch_size=1), "latent")
    else:
        text = add(g, "qwen_image21.text_encode", links, prompt=prompt, negative_prompt=negative,
                   resolution=resolution)
        positive, negative_link = (text, "positive"), (text, "negative")
        latent = (text, "latent") if resolution == 64 else (add(g, "latent.empty", width=64, height=64,
                                                                    batch_size=1), "latent")
    sampler_links = {"model": model, "positive": positive, "latent_image": latent}
    if negative_link is not None:
        sampler_links["negative"] = negative_link
    sampler = add(g, "sampling.sampler", sampler_links, seed=3, steps=2, cfg=cfg, sampler_name="euler",
                  scheduler="normal")
    decode = add(g, "vae.decode", {"latent": (sampler, "latent"), "vae": (ckpt, "vae")})
    add(g, "image.preview", {"images": (decode, "image")})
    return g, decode, text


def _theirs(pipe, **kwargs) -> np.ndarray:
    images = pipe(height=64, width=64, num_inference_steps=2, generator=torch.Generator("cpu").manual_seed(3),
                  **kwargs).images
    return as_uint8(images)[..., :3]


def test_text_encode_matches_the_pipeline(tiny21, pipe, executor, tmp_path):
    graph, decode, _ = _graph(tiny21, prompt="a red circle", plain=True)
    ours = pixels(run(executor, graph, tmp_path), decode)
    theirs = _theirs(pipe, prompt="a red circle")
    meaningful(theirs)
    np.testing.assert_array_equal(ours, theirs)


@pytest.mark.parametrize("cache", ["auto", "off"])
def test_true_cfg_with_and_without_the_prefix_cache_matches_the_pipeline(tiny21, pipe, executor, tmp_path, cache):
    graph, decode, _ = _graph(tiny21, prompt="a red circle", negative="a green square", cfg=2.5, cache=cache)
    ours = pixels(run(executor, graph, tmp_path), decode)
    theirs = _theirs(pipe, prompt="a red circle", negative_prompt="a green square", true_cfg_scale=2.5,
                     use_kv_cache=cache != "off")
    meaningful(theirs)
    np.testing.assert_array_equal(ours, theirs)


def test_a_turbo_folders_own_noise_levels_match_the_pipeline(tiny21, executor, tmp_path):
    """model_index.json's sample_sigmas (a Turbo's few levels) are the levels the graph samples, as the
    pipeline samples them; another step count is one line naming steps."""
    import json
    import shutil

    from tiny_qwen21 import reference_pipeline

    turbo = shutil.copytree(tiny21, tmp_path / "turbo")
    index = json.loads((turbo / "model_index.json").read_text("utf-8")) | {"sample_sigmas": [1.0, 0.45]}
    (turbo / "model_index.json").write_text(json.dumps(index), "utf-8")
    graph, decode, _ = _graph(turbo, prompt="a red circle", plain=True)
    ours = pixels(run(executor, graph, tmp_path / "out"), decode)
    theirs = _theirs(reference_pipeline(turbo), prompt="a red circle")
    meaningful(theirs)
    np.testing.assert_array_equal(ours, theirs)
    sampler = next(n for n, node in graph.nodes.items() if node.type == "sampling.sampler")
    graph.nodes[sampler].params["steps"] = 3
    result = executor.run(graph, output_dir=tmp_path / "three")
    message = str(next(iter(result.errors.values())))
    assert not result.ok and "'steps'" in message and "must be 2" in message


def test_int8_prefix_cache_stays_close_to_the_lossless_one(tiny21, executor, tmp_path):
    """int8 storage (one scale per token and head) changes the pixels by a few levels at most."""
    graph, decode, _ = _graph(tiny21, prompt="a red circle", cache="auto")
    lossless = pixels(run(executor, graph, tmp_path / "a"), decode).astype(int)
    cache = next(n for n, node in graph.nodes.items() if node.type == "qwen_image21.cache")
    graph.nodes[cache].params["dtype"] = "int8"
    stored = pixels(run(executor, graph, tmp_path / "b"), decode).astype(int)
    assert np.abs(stored - lossless).max() <= 3


def test_edit_with_a_reference_matches_the_pipeline(tiny21, pipe, executor, tmp_path, source_png):
    """One reference at 256x256: Qwen3-VL sees it in the prompt's picture slots, its latents fill them in
    the transformer's sequence before the picture's tokens; the node's latent is the reference's size."""
    from PIL import Image

    source, _ = source_png
    graph, decode, text = _graph(tiny21, prompt="make <image1> blue", picture=source, resolution=256)
    result = run(executor, graph, tmp_path)
    assert tuple(result.values[text]["latent"]["samples"].shape) == (1, 16, 16, 16)
    ours = pixels(result, decode)
    theirs = _theirs(pipe, prompt="make <image1> blue", image=Image.open(source), output_resolution=256)
    meaningful(theirs)
    np.testing.assert_array_equal(ours, theirs)


def test_a_prompt_naming_a_picture_not_connected_is_one_line_naming_the_field(tiny21, executor, tmp_path,
                                                                               source_png):
    source, _ = source_png
    graph, _, text = _graph(tiny21, prompt="put <image1> into <image2>", picture=source, resolution=256)
    result = executor.run(graph, output_dir=tmp_path)
    assert not result.ok
    message = str(next(iter(result.errors.values())))
    assert "\n" not in message and f"node {text}" in message and "'image_2'" in message
    assert "<image2>" in message


def test_a_clip_of_another_family_is_one_line_naming_the_field(tiny_sd, executor, tmp_path):
    g = new_graph()
    ckpt = add(g, "models.load_checkpoint", checkpoint=str(tiny_sd))
    text = add(g, "qwen_image21.text_encode", {"clip": (ckpt, "clip")}, prompt="a red circle")
    add(g, "basic.show", {"value": (text, "positive")})
    result = executor.run(g, output_dir=tmp_path)
    assert not result.ok
    message = str(next(iter(result.errors.values())))
    assert "\n" not in message and f"node {text}" in message and "'clip'" in message and "Qwen3-VL" in message
