"""img2img and inpaint graphs give the pixels of diffusers' img2img and inpaint pipelines."""

from __future__ import annotations

import numpy as np
import pytest
from graphs import img2img, inpaint, pixels, run
from PIL import Image
from pipelines import as_uint8, generator, with_scheduler

from nodeflow.engine import Executor


@pytest.fixture(scope="module")
def executor():
    return Executor(device="cpu")


def img2img_reference(folder, image, sampler, scheduler, *, strength, seed=0, steps=5, cfg=7.0,
                      prompt="a blue square"):
    pipe = with_scheduler("img2img", folder, sampler, scheduler, seed)
    out = pipe(prompt, image=Image.open(image).convert("RGB"), negative_prompt="", strength=strength,
               num_inference_steps=steps, guidance_scale=cfg, generator=generator(seed))
    return as_uint8(out.images)


def inpaint_reference(folder, image, mask, sampler, scheduler, *, strength=1.0, seed=0, steps=5, cfg=7.0,
                      prompt="a red circle"):
    pipe = with_scheduler("inpaint", folder, sampler, scheduler, seed)
    out = pipe(prompt, image=Image.open(image).convert("RGB"), mask_image=Image.open(mask),
               negative_prompt="", height=32, width=32, strength=strength, num_inference_steps=steps,
               guidance_scale=cfg, generator=generator(seed))
    return as_uint8(out.images)


@pytest.mark.parametrize("strength", [0.3, 0.8])
@pytest.mark.parametrize(("sampler", "scheduler"), [("euler", "normal"), ("euler_ancestral", "normal"),
                                                     ("dpmpp_2m", "karras"), ("ddim", "normal")])
def test_img2img_matches_pipeline(tiny_sd, source_png, executor, tmp_path, sampler, scheduler, strength):
    graph, ids = img2img(tiny_sd, source_png[0], sampler=sampler, scheduler=scheduler, denoise=strength, seed=7)
    ours = pixels(run(executor, graph, tmp_path), ids["decode"])
    theirs = img2img_reference(tiny_sd, source_png[0], sampler, scheduler, strength=strength, seed=7)
    np.testing.assert_array_equal(ours, theirs)


@pytest.mark.parametrize("strength", [0.3, 0.8])
def test_img2img_vprediction_zero_snr_matches_pipeline(tiny_vpred, source_png, executor, tmp_path, strength):
    graph, ids = img2img(tiny_vpred, source_png[0], denoise=strength, seed=2, cfg=4.0)
    ours = pixels(run(executor, graph, tmp_path), ids["decode"])
    theirs = img2img_reference(tiny_vpred, source_png[0], "euler", "normal", strength=strength, seed=2, cfg=4.0)
    np.testing.assert_array_equal(ours, theirs)


@pytest.mark.parametrize(("sampler", "strength"), [("euler", 1.0), ("euler_ancestral", 1.0), ("ddim", 0.6)])
def test_inpaint_4_channel_matches_pipeline(tiny_sd, source_png, executor, tmp_path, sampler, strength):
    graph, ids = inpaint(tiny_sd, *source_png, sampler=sampler, denoise=strength, seed=4)
    ours = pixels(run(executor, graph, tmp_path), ids["decode"])
    theirs = inpaint_reference(tiny_sd, *source_png, sampler, "normal", strength=strength, seed=4)
    np.testing.assert_array_equal(ours, theirs)


@pytest.mark.parametrize(("sampler", "strength"), [("euler", 1.0), ("euler_ancestral", 1.0), ("ddim", 0.6)])
def test_inpaint_9_channel_matches_pipeline(tiny_inpaint, source_png, executor, tmp_path, sampler, strength):
    graph, ids = inpaint(tiny_inpaint, *source_png, sampler=sampler, denoise=strength, seed=9)
    ours = pixels(run(executor, graph, tmp_path), ids["decode"])
    theirs = inpaint_reference(tiny_inpaint, *source_png, sampler, "normal", strength=strength, seed=9)
    np.testing.assert_array_equal(ours, theirs)


@pytest.mark.parametrize("which", ["4", "9"])
def test_inpaint_composite_keeps_unmasked_pixels_exactly(tiny_sd, tiny_inpaint, source_png, executor, tmp_path,
                                                         which):
    folder = tiny_sd if which == "4" else tiny_inpaint
    graph, ids = inpaint(folder, *source_png, composite=True, grow_mask_by=2, seed=1)
    result = run(executor, graph, tmp_path)
    out, decoded = pixels(result, ids["final"])[0], pixels(result, ids["decode"])[0]
    source = np.array(Image.open(source_png[0]).convert("RGB"))
    keep = np.array(Image.open(source_png[1])) < 128
    np.testing.assert_array_equal(out[keep], source[keep])
    np.testing.assert_array_equal(out[~keep], decoded[~keep])
    assert (decoded[keep] != source[keep]).any()  # without the composite they would differ
    saved = sorted(tmp_path.glob("*.png"))[-1]
    np.testing.assert_array_equal(np.array(Image.open(saved)), out)


@pytest.mark.parametrize(("sampler", "strength"), [("euler", 0.6), ("ddim", 1.0)])
def test_set_latent_noise_mask_route_matches_inpaint_pipeline(tiny_sd, source_png, executor, tmp_path, sampler,
                                                             strength):
    """VAE Encode + Set Latent Noise Mask (ComfyUI's route) = the inpaint pipeline, for samplers that
    draw no per-step noise (the pipeline's extra masked-image draw comes after the start noise)."""
    from graphs import add

    graph, ids = img2img(tiny_sd, source_png[0], prompt="a red circle", sampler=sampler, denoise=strength, seed=4)
    load_mask = add(graph, "image.load", image=str(source_png[1]))
    mask = add(graph, "mask.from_image", {"image": (load_mask, "image")})
    noise_mask = add(graph, "latent.set_noise_mask", {"latent": (ids["encode"], "latent"), "mask": (mask, "mask")})
    graph.connect(noise_mask, "latent", ids["sampler"], "latent_image")
    ours = pixels(run(executor, graph, tmp_path), ids["decode"])
    theirs = inpaint_reference(tiny_sd, *source_png, sampler, "normal", strength=strength, seed=4)
    np.testing.assert_array_equal(ours, theirs)


def test_hires_fix_second_pass_is_img2img_of_the_upscaled_latent(tiny_sd, executor, tmp_path):
    """Upscale the first pass's latent (plain bilinear), then sample it again at denoise 0.5: the
    pixels of diffusers' img2img pipeline given that latent as its start (a 4-channel `image`)."""
    import torch
    from graphs import add, txt2img

    graph, ids = txt2img(tiny_sd, seed=1, steps=3)
    up = add(graph, "latent.upscale", {"latent": (ids["sampler"], "latent")}, scale_by=1.5, method="bilinear")
    second = add(graph, "sampling.sampler", {
        "model": (ids["ckpt"], "model"), "positive": (ids["pos"], "conditioning"),
        "negative": (ids["neg"], "conditioning"), "latent_image": (up, "latent")}, steps=4, denoise=0.5, seed=3)
    graph.connect(second, "latent", ids["decode"], "latent")
    result = run(executor, graph, tmp_path)
    first = result.values[ids["sampler"]]["latent"]["samples"]
    upscaled = result.values[up]["latent"]["samples"]
    assert upscaled.shape[-2:] == (round(first.shape[-2] * 1.5), round(first.shape[-1] * 1.5))
    expected = torch.nn.functional.interpolate(first, size=upscaled.shape[-2:], mode="bilinear", align_corners=False)
    assert torch.equal(upscaled, expected)
    ours = pixels(result, ids["decode"])
    assert ours.shape == (1, 48, 48, 3)
    pipe = with_scheduler("img2img", tiny_sd, "euler", "normal", 3)
    out = pipe("a red circle", image=upscaled.clone(), negative_prompt="", strength=0.5, num_inference_steps=4,
               guidance_scale=7.0, generator=generator(3))
    np.testing.assert_array_equal(ours, as_uint8(out.images))


def test_models_are_loaded_once_and_shared(tiny_sd, tmp_path):
    from graphs import add, txt2img

    ex = Executor(device="cpu")
    graph, ids = txt2img(tiny_sd, save=False)
    other = add(graph, "models.load_checkpoint", checkpoint=str(tiny_sd))
    graph.connect(other, "clip", ids["neg"], "clip")
    result = run(ex, graph, tmp_path)
    assert result.values[other]["model"].unet is result.values[ids["ckpt"]]["model"].unet
    assert len(ex.models) == 1


@pytest.mark.parametrize("strength", [1.0, 0.6])
def test_inpaint_vprediction_zero_snr_matches_pipeline(tiny_vpred, source_png, executor, tmp_path, strength):
    graph, ids = inpaint(tiny_vpred, *source_png, denoise=strength, seed=5, cfg=4.0)
    ours = pixels(run(executor, graph, tmp_path), ids["decode"])
    theirs = inpaint_reference(tiny_vpred, *source_png, "euler", "normal", strength=strength, seed=5, cfg=4.0)
    np.testing.assert_array_equal(ours, theirs)
