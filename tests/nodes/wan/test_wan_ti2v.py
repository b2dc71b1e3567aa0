"""Wan 2.2 5B (TI2V: 48-channel latents on the Wan 2.2 VAE, one model for text- and image-to-video) gives
diffusers' frames at tolerance 0 on tiny random weights: text-to-video as WanPipeline with
expand_timesteps, image-to-video through Wan 2.2 Image To Video Latent as WanImageToVideoPipeline with
expand_timesteps (the start picture's latent frame kept clean, its tokens told timestep 0)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from graphs import pixels, run
from wan_graphs import frames_uint8, meaningful, prompt_embeds, reference_pipe, wan_ti2v

from nodeflow.core import NodeError, RunContext
from nodeflow.engine import Executor
from nodes.wan.video import Wan22ImageToVideoLatent


@pytest.fixture(scope="module")
def executor():
    return Executor(device="cpu")


@pytest.fixture(scope="module")
def start_png(tmp_path_factory):
    """A 64x64 picture: the video's size, so neither side resizes it."""
    from PIL import Image, ImageDraw

    y, x = np.mgrid[0:64, 0:64]
    image = Image.fromarray(np.stack([x * 4, y * 4, (x + y) * 2], axis=-1).clip(0, 255).astype("uint8"))
    ImageDraw.Draw(image).ellipse((16, 12, 48, 44), fill=(220, 40, 40))
    path = tmp_path_factory.mktemp("wan_ti2v") / "start.png"
    image.save(path)
    return path


def _call(pipe, negative, cfg, batch, seed, **extra):
    frames = pipe(**extra, **prompt_embeds(pipe, "a red circle", negative, batch), height=64, width=64, num_frames=5,
                  num_inference_steps=2, guidance_scale=cfg, generator=torch.Generator("cpu").manual_seed(seed),
                  output_type="np").frames
    return frames_uint8(frames)


@pytest.mark.parametrize(("cfg", "batch"), [(1.0, 1), (4.0, 2)])
def test_text_to_video_matches_the_pipeline(tiny_wan_ti2v, executor, tmp_path, cfg, batch):
    negative = "a blue circle" if cfg > 1 else None
    graph, ids = wan_ti2v(tiny_wan_ti2v, negative=negative, cfg=cfg, batch=batch, seed=3)
    ours = pixels(run(executor, graph, tmp_path), ids["decode"])
    theirs = _call(reference_pipe("WanPipeline", tiny_wan_ti2v), negative, cfg, batch, 3)
    assert ours.shape == (5 * batch, 64, 64, 3)
    meaningful(theirs)
    np.testing.assert_array_equal(ours, theirs)


def test_image_to_video_matches_the_pipeline(tiny_wan_ti2v, start_png, executor, tmp_path):
    from PIL import Image

    graph, ids = wan_ti2v(tiny_wan_ti2v, start_png, negative="a blue circle", cfg=4.0, batch=2, seed=5)
    ours = pixels(run(executor, graph, tmp_path), ids["decode"])
    pipe = reference_pipe("WanImageToVideoPipeline", tiny_wan_ti2v)
    assert pipe.config.expand_timesteps
    theirs = _call(pipe, "a blue circle", 4.0, 2, 5, image=Image.open(start_png).convert("RGB"))
    meaningful(theirs)
    np.testing.assert_array_equal(ours, theirs)


@pytest.mark.parametrize("convention", ["diffusers", "comfyui"])
def test_the_start_frame_is_kept_in_both_conventions(tiny_wan_ti2v, start_png, executor, tmp_path, convention):
    """The start picture's latent frame comes out as it went in; the others are made."""
    graph, ids = wan_ti2v(tiny_wan_ti2v, start_png, seed=1, convention=convention)
    result = run(executor, graph, tmp_path)
    start = result.values[ids["latent"]]["latent"]["samples"]
    out = result.values[ids["sampler"]]["latent"]["samples"]
    # the comfyui convention's last Euler step to sigma 0 gives the kept latent back up to rounding
    torch.testing.assert_close(out[:, :, :1], start[:, :, :1], rtol=0, atol=0 if convention == "diffusers" else 1e-6)
    assert not torch.allclose(out[:, :, 1:], start[:, :, 1:], atol=1e-2)


def test_the_latent_and_its_mask(tiny_wan_ti2v):
    from nodes.models.checkpoint import LoadCheckpoint

    vae = LoadCheckpoint().run(RunContext(), checkpoint=str(tiny_wan_ti2v))[2]
    pictures = torch.rand(5, 64, 96, 3)
    latent = Wan22ImageToVideoLatent().run(RunContext(), vae=vae, width=96, height=64, length=9, batch_size=2,
                                           start_image=pictures)[0]
    assert tuple(latent["samples"].shape) == (2, 48, 3, 4, 6)
    mask = latent["noise_mask"]
    assert tuple(mask.shape) == (2, 1, 3, 4, 6)
    assert mask[:, :, :2].eq(0).all() and mask[:, :, 2].eq(1).all()  # five pictures: two latent frames kept
    assert latent["samples"][:, :, 2].eq(0).all() and not latent["samples"][:, :, :2].eq(0).all()
    blank = Wan22ImageToVideoLatent().run(RunContext(), vae=vae, width=96, height=64, length=9, batch_size=1)[0]
    assert "noise_mask" not in blank and blank["samples"].eq(0).all()
    with pytest.raises(NodeError) as caught:
        Wan22ImageToVideoLatent().run(RunContext(), vae=vae, width=80, height=64, length=9, batch_size=1)
    assert caught.value.field == "width" and "multiple of 32" in str(caught.value)


def test_a_lone_wan22_vae_file_loads_in_diffusers_names(tmp_path):
    """A Wan 2.2 VAE file (12 patched channels in, 48 out) in diffusers' names is told from Wan 2.1's by its
    first convolution and loads with the shipped Wan 2.2 config (widths read off the tensors); Wan's
    original names: test_wan_vae_files."""
    from diffusers import AutoencoderKLWan
    from safetensors.torch import save_file

    from nodes.models.loaders import LoadVAE

    torch.manual_seed(0)
    shipped_layout = AutoencoderKLWan(base_dim=8, decoder_base_dim=8, z_dim=48, is_residual=True, in_channels=12,
                                      out_channels=12, patch_size=2, scale_factor_spatial=16)
    path = tmp_path / "wan2.2_vae.safetensors"
    save_file({k: v.contiguous() for k, v in shipped_layout.state_dict().items()}, str(path))
    vae = LoadVAE().run(RunContext(), vae=str(path), family="sd")[0]
    assert (vae.family, vae.scale_factor, vae.latent_channels, vae.temporal) == ("wan22", 16, 48, 4)
    torch.testing.assert_close(vae.vae.state_dict()["encoder.conv_in.weight"],
                               shipped_layout.state_dict()["encoder.conv_in.weight"], rtol=0, atol=0)


@pytest.mark.parametrize("convention", ["diffusers", "comfyui"])
def test_a_picture_noise_mask_keeps_its_area_on_every_frame(tiny_wan_ti2v, convention):
    """Set Latent Noise Mask (a mask without frames) on Wan 2.2 5B: the kept area stays the source's on
    every frame (its tokens told timestep 0), the rest is made."""
    from nodes.conditioning.prompts import TextEncode
    from nodes.latent.latents import SetLatentNoiseMask
    from nodes.models.checkpoint import LoadCheckpoint
    from nodes.sampling.sampler import Sampler

    model, clip, vae = LoadCheckpoint().run(RunContext(), checkpoint=str(tiny_wan_ti2v))
    source = Wan22ImageToVideoLatent().run(RunContext(), vae=vae, width=64, height=64, length=5, batch_size=1,
                                           start_image=torch.rand(5, 64, 64, 3))[0]
    source = {"samples": source["samples"], "downscale": source["downscale"]}
    mask = torch.zeros(1, 64, 64)
    mask[:, :, :32] = 1.0
    masked = SetLatentNoiseMask().run(RunContext(), latent=source, mask=mask)[0]
    positive = TextEncode().run(RunContext(), clip=clip, text="a red circle")[0]
    out = Sampler().run(RunContext(), model=model, positive=positive, negative=None, latent_image=masked, seed=2,
                        steps=2, cfg=1.0, sampler_name="euler", scheduler="normal" if convention == "diffusers"
                        else "simple", denoise=1.0, convention=convention)[0]["samples"]
    torch.testing.assert_close(out[..., 2:], source["samples"][..., 2:], rtol=0, atol=1e-6)
    assert not torch.allclose(out[..., :2], source["samples"][..., :2], atol=1e-2)
