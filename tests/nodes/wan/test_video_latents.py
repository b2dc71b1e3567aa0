"""Latents with a frame axis through NodeFlow's sampling path (`nodes.latent._frames`), on a tiny Wan:
empty video latents, VAE encode of frames and decode to frames on the batch axis, previews of a frame,
noise masks over every frame, and the one-line refusals before heavy work."""

from __future__ import annotations

import pytest
import torch

from nodeflow.core import NodeError, RunContext
from nodes.latent.video import EmptyVideoLatent


@pytest.fixture(scope="module")
def parts(tiny_wan):
    from nodes.models.checkpoint import LoadCheckpoint

    return LoadCheckpoint().run(RunContext(), checkpoint=str(tiny_wan))


def _frames(count: int, size: int = 32) -> torch.Tensor:
    """`count` frames of a bright square moving right, [F, H, W, 3] in [0, 1]."""
    frames = torch.full((count, size, size, 3), 0.2)
    for i in range(count):
        frames[i, 8:20, 4 + 2 * i:16 + 2 * i] = torch.tensor([0.9, 0.3, 0.1])
    return frames


def test_empty_video_latent_has_a_frame_axis():
    latent = EmptyVideoLatent().run(RunContext(), width=48, height=32, length=9, batch_size=2)[0]
    assert tuple(latent["samples"].shape) == (2, 16, 3, 4, 6)  # 9 frames: the first alone, then 2 x 4


@pytest.mark.parametrize(("params", "field"), [({"length": 6}, "length"), ({"width": 40}, "width"),
                                               ({"height": 8}, "height")])
def test_empty_video_latent_refuses_sizes_it_cannot_fold(params, field):
    values = {"width": 32, "height": 32, "length": 5, "batch_size": 1} | params
    with pytest.raises(NodeError) as caught:
        EmptyVideoLatent().run(RunContext(), **values)
    assert caught.value.field == field
    assert "\n" not in str(caught.value)


def test_an_empty_video_latent_is_fitted_to_the_model(parts):
    """Made without a VAE (ComfyUI's 16-channel layout), refitted to the sampling model's VAE: the
    tiny Wan's 8x and 4 frames a latent frame keep the shape."""
    from nodes.latent._sizes import fit_empty_latent

    model = parts[0]
    latent = EmptyVideoLatent().run(RunContext(), width=32, height=64, length=13, batch_size=1)[0]
    fitted = fit_empty_latent(RunContext(), model, latent)
    assert tuple(fitted["samples"].shape) == (1, 16, 4, 8, 4)
    assert "empty_length" not in fitted


def test_frames_encode_to_one_video_and_decode_to_frames(parts):
    from nodes.vae.codec import decode, encode

    vae = parts[2]
    assert vae.temporal == 4
    latent = encode(RunContext(), _frames(5), vae)
    assert tuple(latent["samples"].shape) == (1, 16, 2, 4, 4)
    frames = decode(vae, latent)
    assert tuple(frames.shape) == (5, 32, 32, 3)
    warned: list[str] = []
    six = encode(RunContext(on_message=lambda node, line: warned.append(line)), _frames(6), vae)
    assert tuple(six["samples"].shape) == (1, 16, 2, 4, 4)
    assert warned and "the last 1 are not encoded" in warned[0]


def test_a_preview_shows_one_frame(parts):
    from nodes.sampling._preview import latent_preview

    picture = latent_preview(parts[0], torch.randn(1, 16, 2, 4, 6))
    assert picture.size == (6, 4)


def test_a_picture_latent_is_refused_by_a_video_model(parts):
    from nodes.latent.latents import EmptyLatent
    from nodes.sampling.sampler import Sampler

    model, clip = parts[0], parts[1]
    positive = _conditioning(clip)
    picture = EmptyLatent().run(RunContext(), width=32, height=32, batch_size=1, vae=parts[2])[0]
    with pytest.raises(NodeError) as caught:
        Sampler().run(RunContext(), model=model, positive=positive, negative=None, latent_image=picture, seed=0,
                      steps=1, cfg=1.0, sampler_name="euler", scheduler="normal", denoise=1.0)
    assert caught.value.field == "latent_image" and "frame axis" in str(caught.value)


def _conditioning(clip):
    from nodes.conditioning.prompts import TextEncode

    return TextEncode().run(RunContext(), clip=clip, text="a red circle")[0]


@pytest.mark.parametrize("convention", ["comfyui", "diffusers"])
def test_a_noise_mask_holds_on_every_frame(parts, convention):
    """Set Latent Noise Mask on encoded frames: the left half repaints, the right half of every frame
    stays the source's (the comfyui convention puts the source's latents back exactly; the diffusers
    one, as its inpaint pipelines, the source drawn from the encoder's posterior)."""
    from nodes.latent.latents import SetLatentNoiseMask
    from nodes.sampling.sampler import Sampler
    from nodes.vae.codec import encode

    model, clip, vae = parts
    source = encode(RunContext(), _frames(5), vae)
    mask = torch.zeros(1, 32, 32)
    mask[:, :, :16] = 1.0
    masked = SetLatentNoiseMask().run(RunContext(), latent=source, mask=mask)[0]
    out = Sampler().run(RunContext(), model=model, positive=_conditioning(clip), negative=None, latent_image=masked,
                        seed=1, steps=2, cfg=1.0, sampler_name="euler", scheduler="normal", denoise=1.0,
                        convention=convention)[0]["samples"]
    assert tuple(out.shape) == (1, 16, 2, 4, 4)
    kept = source["samples"]
    if convention == "diffusers":  # the pipelines' first draw from the seed's generator
        from nodes.values import stored_latents

        dist = source["latent_dist"]
        noise = torch.randn(dist["mean"].shape, generator=torch.Generator("cpu").manual_seed(1))
        kept = stored_latents(dist["mean"] + dist["std"] * noise, dist)
    torch.testing.assert_close(out[..., 2:], kept[..., 2:], rtol=0, atol=1e-6)
    assert not torch.allclose(out[..., :2], kept[..., :2], atol=1e-3)
