"""Flux graphs give FluxPipeline's / FluxKontextPipeline's / FluxImg2ImgPipeline's pixels, byte for byte
(tiny random weights, CPU, one thread: bit-exact by construction, the same operations in the same order)."""

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


def generator(seed: int) -> torch.Generator:
    return torch.Generator("cpu").manual_seed(seed)


@pytest.mark.parametrize(("steps", "guidance", "size"), [(3, 3.5, 32), (4, 6.0, 48)])
def test_txt2img_matches_flux_pipeline(tiny_flux, executor, tmp_path, steps, guidance, size):
    graph, ids = flux_txt2img(tiny_flux, steps=steps, guidance=guidance, size=size, seed=3)
    ours = pixels(run(executor, graph, tmp_path), ids["decode"])
    pipe = reference_pipe("FluxPipeline", tiny_flux)
    theirs = as_uint8(pipe("a red circle", height=size, width=size, num_inference_steps=steps,
                           guidance_scale=guidance, generator=generator(3)).images)
    meaningful(theirs)
    np.testing.assert_array_equal(ours, theirs)


def test_guidance_changes_the_picture(tiny_flux, executor, tmp_path):
    """The distilled guidance reaches the model (a test that could not fail otherwise)."""
    outputs = []
    for guidance in (1.0, 9.0):
        graph, ids = flux_txt2img(tiny_flux, guidance=guidance)
        outputs.append(pixels(run(executor, graph, tmp_path), ids["decode"]))
    low, high = outputs
    assert not np.array_equal(low, high)


def test_true_cfg_and_batch_match_flux_pipeline(tiny_flux, executor, tmp_path):
    graph, ids = flux_txt2img(tiny_flux, negative="blue", cfg=4.0, guidance=5.0, batch=2, seed=4)
    ours = pixels(run(executor, graph, tmp_path), ids["decode"])
    pipe = reference_pipe("FluxPipeline", tiny_flux)
    theirs = as_uint8(pipe("a red circle", negative_prompt="blue", true_cfg_scale=4.0, height=32, width=32,
                           num_inference_steps=3, guidance_scale=5.0, num_images_per_prompt=2,
                           generator=generator(4)).images)
    np.testing.assert_array_equal(ours, theirs)


def test_schnell_matches_flux_pipeline(tiny_schnell, executor, tmp_path):
    graph, ids = flux_txt2img(tiny_schnell, guidance=None, steps=2, seed=9)
    ours = pixels(run(executor, graph, tmp_path), ids["decode"])
    pipe = reference_pipe("FluxPipeline", tiny_schnell)
    theirs = as_uint8(pipe("a red circle", height=32, width=32, num_inference_steps=2, guidance_scale=0.0,
                           generator=generator(9)).images)
    meaningful(theirs)
    np.testing.assert_array_equal(ours, theirs)


def test_img2img_matches_flux_img2img_pipeline(tiny_flux, source_png, executor, tmp_path):
    from PIL import Image

    source, _ = source_png
    graph, ids = flux_txt2img(tiny_flux, image=source, denoise=0.6, steps=5, seed=2, prompt="a blue circle")
    ours = pixels(run(executor, graph, tmp_path), ids["decode"])
    pipe = reference_pipe("FluxImg2ImgPipeline", tiny_flux)
    theirs = as_uint8(pipe("a blue circle", image=Image.open(source), strength=0.6, height=32, width=32,
                           num_inference_steps=5, guidance_scale=3.5, generator=generator(2)).images)
    np.testing.assert_array_equal(ours, theirs)


def test_kontext_reference_matches_kontext_pipeline(tiny_flux, source_png, executor, tmp_path):
    from PIL import Image

    source, _ = source_png
    graph, ids = flux_txt2img(tiny_flux, reference=source, seed=6, prompt="make it blue")
    ours = pixels(run(executor, graph, tmp_path), ids["decode"])
    pipe = reference_pipe("FluxKontextPipeline", tiny_flux)
    theirs = as_uint8(pipe(image=Image.open(source), prompt="make it blue", height=32, width=32,
                           num_inference_steps=3, guidance_scale=3.5, generator=generator(6),
                           _auto_resize=False, max_area=32 * 32).images)
    meaningful(theirs)
    np.testing.assert_array_equal(ours, theirs)
    graph, ids = flux_txt2img(tiny_flux, seed=6, prompt="make it blue")
    plain = pixels(run(executor, graph, tmp_path), ids["decode"])
    assert not np.array_equal(ours, plain)  # the reference reaches the model


def test_fill_matches_flux_fill_pipeline(tiny_fill, source_png, executor, tmp_path):
    from graphs import add, new_graph
    from PIL import Image

    source, mask_png = source_png
    g = new_graph()
    ckpt = add(g, "models.load_checkpoint", checkpoint=str(tiny_fill))
    pos = add(g, "conditioning.text_encode", {"clip": (ckpt, "clip")}, text="a red circle")
    guided = add(g, "flux.guidance", {"conditioning": (pos, "conditioning")}, guidance=30.0)
    image = add(g, "image.load", image=str(source))
    mask_image = add(g, "image.load", image=str(mask_png))
    mask = add(g, "mask.from_image", {"image": (mask_image, "image")}, channel="red")
    inpaint = add(g, "conditioning.inpaint_model", {
        "positive": (guided, "conditioning"), "negative": (guided, "conditioning"), "vae": (ckpt, "vae"),
        "pixels": (image, "image"), "mask": (mask, "mask")}, noise_mask=False)
    sampler = add(g, "sampling.sampler", {"model": (ckpt, "model"), "positive": (inpaint, "positive"),
                                          "negative": (inpaint, "negative"), "latent_image": (inpaint, "latent")},
                  seed=8, steps=3, cfg=1.0, sampler_name="euler", scheduler="normal", denoise=1.0)
    decode = add(g, "vae.decode", {"latent": (sampler, "latent"), "vae": (ckpt, "vae")})
    add(g, "image.preview", {"images": (decode, "image")})
    ours = pixels(run(executor, g, tmp_path), decode)
    pipe = reference_pipe("FluxFillPipeline", tiny_fill)
    theirs = as_uint8(pipe("a red circle", image=Image.open(source), mask_image=Image.open(mask_png), height=32,
                           width=32, num_inference_steps=3, guidance_scale=30.0, generator=generator(8)).images)
    meaningful(theirs)
    np.testing.assert_array_equal(ours, theirs)


@pytest.fixture(scope="module")
def flux_file(tmp_path_factory, torch_threads):
    from tiny_flow import build_flux_file

    return build_flux_file(tmp_path_factory.mktemp("flux_file") / "tiny_flux_aio")


def test_all_in_one_file_gives_the_folders_pixels(flux_file, executor, tmp_path):
    """Load Checkpoint on one .safetensors in ComfyUI's checkpoint layout == on the diffusers folder."""
    folder, file = flux_file
    results = []
    for checkpoint in (folder, file):
        graph, ids = flux_txt2img(checkpoint, seed=5)
        results.append(pixels(run(executor, graph, tmp_path), ids["decode"]))
    meaningful(results[0])
    np.testing.assert_array_equal(results[1], results[0])


def test_split_single_files_give_the_folders_pixels(flux_file, executor, tmp_path):
    """ComfyUI's split files: the transformer, clip_l.safetensors and t5xxl.safetensors (transformers key
    names, tokenizers beside them) and the VAE, through Load Diffusion Model / Load CLIP (flux) / Load VAE."""
    import shutil

    from graphs import add, new_graph
    from safetensors.torch import load_file, save_file

    folder, _ = flux_file
    files = tmp_path / "text_encoders"
    files.mkdir()
    for part, name in (("text_encoder", "clip_l"), ("text_encoder_2", "t5xxl")):
        state = load_file(str(next((folder / part).glob("*.safetensors"))))
        save_file(state, str(files / f"{name}.safetensors"))
        tokenizer = part.replace("text_encoder", "tokenizer")
        shutil.copytree(folder / tokenizer, files / f"{name}.{tokenizer}")
    g = new_graph()
    unet = add(g, "models.load_unet", unet=str(folder / "transformer"))
    clip = add(g, "models.load_clip", clip_name=str(files / "t5xxl.safetensors"), family="flux",
               clip_name_2=str(files / "clip_l.safetensors"))
    vae = add(g, "models.load_vae", vae=str(folder / "vae"), family="flux")
    text = add(g, "conditioning.text_encode", {"clip": (clip, "clip")}, text="a red circle")
    latent = add(g, "latent.empty", width=32, height=32, batch_size=1)
    sampler = add(g, "sampling.sampler", {"model": (unet, "model"), "positive": (text, "conditioning"),
                                          "latent_image": (latent, "latent")},
                  seed=5, steps=3, cfg=1.0, sampler_name="euler", scheduler="normal", denoise=1.0)
    decode = add(g, "vae.decode", {"latent": (sampler, "latent"), "vae": (vae, "vae")})
    add(g, "image.preview", {"images": (decode, "image")})
    split = pixels(run(executor, g, tmp_path), decode)
    graph, ids = flux_txt2img(folder, seed=5, guidance=None)
    whole = pixels(run(executor, graph, tmp_path), ids["decode"])
    meaningful(whole)
    np.testing.assert_array_equal(split, whole)


def test_control_picture_matches_flux_control_pipeline(tiny_control, source_png, executor, tmp_path):
    from graphs import add, new_graph
    from PIL import Image

    source, _ = source_png
    g = new_graph()
    ckpt = add(g, "models.load_checkpoint", checkpoint=str(tiny_control))
    pos = add(g, "conditioning.text_encode", {"clip": (ckpt, "clip")}, text="a red circle")
    guided = add(g, "flux.guidance", {"conditioning": (pos, "conditioning")}, guidance=10.0)
    image = add(g, "image.load", image=str(source))
    control = add(g, "conditioning.control_picture", {"positive": (guided, "conditioning"),
                                                      "negative": (guided, "conditioning"), "vae": (ckpt, "vae"),
                                                      "pixels": (image, "image")})
    sampler = add(g, "sampling.sampler", {"model": (ckpt, "model"), "positive": (control, "positive"),
                                          "negative": (control, "negative"), "latent_image": (control, "latent")},
                  seed=4, steps=3, cfg=1.0, sampler_name="euler", scheduler="normal", denoise=1.0)
    decode = add(g, "vae.decode", {"latent": (sampler, "latent"), "vae": (ckpt, "vae")})
    add(g, "image.preview", {"images": (decode, "image")})
    ours = pixels(run(executor, g, tmp_path), decode)
    pipe = reference_pipe("FluxControlPipeline", tiny_control)
    theirs = as_uint8(pipe("a red circle", control_image=Image.open(source), height=32, width=32,
                           num_inference_steps=3, guidance_scale=10.0, generator=generator(4)).images)
    meaningful(theirs)
    np.testing.assert_array_equal(ours, theirs)
