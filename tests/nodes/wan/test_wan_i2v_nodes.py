"""Wan Image To Video and Wan First-Last Frame To Video (`nodes.wan.video`): the condition they put on the
prompts (the known-frame mask's layout, the guide video's latents), pictures fitted to the frame size, and
the one-line refusals before any encoding or sampling."""

from __future__ import annotations

import pytest
import torch

from nodeflow.core import NodeError, RunContext
from nodes.wan.video import WanFirstLastFrameToVideo, WanImageToVideo


@pytest.fixture(scope="module")
def parts(tiny_wan_i2v):
    from nodes.models.checkpoint import LoadCheckpoint

    return LoadCheckpoint().run(RunContext(), checkpoint=str(tiny_wan_i2v))


@pytest.fixture(scope="module")
def prompt(parts):
    from nodes.conditioning.prompts import TextEncode

    return TextEncode().run(RunContext(), clip=parts[1], text="a red circle")[0]


def _pictures(count: int, height: int = 32, width: int = 32) -> torch.Tensor:
    pictures = torch.linspace(0.1, 0.9, count * height * width * 3).reshape(count, height, width, 3)
    return pictures.flip(-1) if count % 2 else pictures


def _sizes(**changes):
    return {"width": 32, "height": 32, "length": 9, "batch_size": 1} | changes


def test_start_frames_fix_every_latent_frame_they_reach(parts, prompt):
    """Five start frames of nine reach latent frames 0 and 1: both known on all four mask channels."""
    positive, negative, latent = WanImageToVideo().run(RunContext(), positive=prompt, negative=prompt, vae=parts[2],
                                                       start_image=_pictures(5), **_sizes(batch_size=2))
    concat = positive.entries[0].concat
    assert tuple(concat.shape) == (1, 4 + 16, 3, 4, 4)
    assert concat[:, :4, :2].eq(1).all() and concat[:, :4, 2].eq(0).all()
    assert negative.entries[0].concat is concat
    assert tuple(latent["samples"].shape) == (2, 16, 3, 4, 4) and latent["samples"].eq(0).all()


def test_the_guide_video_is_the_start_padded_with_grey(parts, prompt):
    from nodes.vae.codec import encode

    start = _pictures(1)
    positive, _, _ = WanImageToVideo().run(RunContext(), positive=prompt, negative=prompt, vae=parts[2],
                                           start_image=start, **_sizes())
    video = torch.cat([start, torch.full((8, 32, 32, 3), 0.5)])
    torch.testing.assert_close(positive.entries[0].concat[:, 4:], encode(RunContext(), video, parts[2])["samples"],
                               rtol=0, atol=1e-6)


def test_first_and_last_frames_mark_frames(parts, prompt):
    """A start and an end picture: latent frame 0 known whole, the last latent frame only on its last
    channel (the last of the four frames it stands for), as the pipeline's last_image mask."""
    positive, _, _ = WanFirstLastFrameToVideo().run(RunContext(), positive=prompt, negative=prompt, vae=parts[2],
                                                    start_image=_pictures(1), end_image=_pictures(2), **_sizes())
    mask = positive.entries[0].concat[0, :4, :, 0, 0]
    # the end batch's last picture is the video's last frame, its first the frame before
    expected = torch.tensor([[1, 0, 0], [1, 0, 0], [1, 0, 1], [1, 0, 1]], dtype=mask.dtype)
    torch.testing.assert_close(mask, expected, rtol=0, atol=0)


def test_no_start_picture_leaves_the_prompts_as_they_are(parts, prompt):
    positive, negative, latent = WanImageToVideo().run(RunContext(), positive=prompt, negative=prompt, vae=parts[2],
                                                       **_sizes(length=5))
    assert positive is prompt and negative is prompt
    assert tuple(latent["samples"].shape) == (1, 16, 2, 4, 4)


def test_pictures_of_another_size_are_fitted(parts, prompt):
    positive, _, _ = WanImageToVideo().run(RunContext(), positive=prompt, negative=prompt, vae=parts[2],
                                           start_image=_pictures(1, 48, 40), **_sizes(width=64, length=5))
    assert tuple(positive.entries[0].concat.shape[-2:]) == (4, 8)


@pytest.mark.parametrize(("changes", "field"), [({"length": 6}, "length"), ({"width": 40}, "width"),
                                                ({"height": 8}, "height")])
def test_sizes_the_vae_cannot_fold_are_refused(parts, prompt, changes, field):
    with pytest.raises(NodeError) as caught:
        WanFirstLastFrameToVideo().run(RunContext(), positive=prompt, negative=prompt, vae=parts[2],
                                       start_image=_pictures(1), **_sizes(**changes))
    assert caught.value.field == field and "\n" not in str(caught.value)


def test_a_picture_vae_is_refused(tiny_sd, prompt):
    from nodes.models.checkpoint import LoadCheckpoint

    vae = LoadCheckpoint().run(RunContext(), checkpoint=str(tiny_sd))[2]
    with pytest.raises(NodeError) as caught:
        WanImageToVideo().run(RunContext(), positive=prompt, negative=prompt, vae=vae, start_image=_pictures(1),
                              **_sizes())
    assert caught.value.field == "vae" and "Wan VAE" in str(caught.value)


def _sample(model, positive, latent):
    from nodes.sampling.sampler import Sampler

    return Sampler().run(RunContext(), model=model, positive=positive, negative=None, latent_image=latent, seed=0,
                         steps=1, cfg=1.0, sampler_name="euler", scheduler="normal", denoise=1.0)


def test_an_image_to_video_model_needs_a_start_picture(parts, prompt):
    positive, _, latent = WanImageToVideo().run(RunContext(), positive=prompt, negative=prompt, vae=parts[2],
                                                **_sizes(length=5))
    with pytest.raises(NodeError) as caught:
        _sample(parts[0], positive, latent)
    assert caught.value.field == "positive" and "give it a start picture" in str(caught.value)


def test_a_text_to_video_model_takes_no_start_picture(tiny_wan, parts, prompt):
    from nodes.models.checkpoint import LoadCheckpoint

    text_model = LoadCheckpoint().run(RunContext(), checkpoint=str(tiny_wan))[0]
    positive, _, latent = WanImageToVideo().run(RunContext(), positive=prompt, negative=prompt, vae=parts[2],
                                                start_image=_pictures(1), **_sizes(length=5))
    with pytest.raises(NodeError) as caught:
        _sample(text_model, positive, latent)
    assert caught.value.field == "positive" and "takes no start picture" in str(caught.value)


def test_ref_pad_image_fills_the_padding_frames(parts, prompt):
    """The padding frames show ref_pad_image (its first picture) instead of grey; the start frames stay."""
    from nodes.vae.codec import encode

    start, pad = _pictures(1), _pictures(2)
    positive, _, _ = WanImageToVideo().run(RunContext(), positive=prompt, negative=prompt, vae=parts[2],
                                           start_image=start, ref_pad_image=pad, **_sizes(length=5))
    video = torch.cat([start, pad[:1].expand(4, -1, -1, -1)])
    torch.testing.assert_close(positive.entries[0].concat[:, 4:], encode(RunContext(), video, parts[2])["samples"],
                               rtol=0, atol=1e-6)


def test_the_memory_plan_sees_the_whole_video():
    from nodeflow.core.flow_size import FlowSize

    size = WanImageToVideo.output_size(_sizes(batch_size=2), {"positive": FlowSize(tokens=512),
                                                             "start_image": FlowSize(1, 48 * 40)})
    assert size == FlowSize(2 * 9, 32 * 32, 512, "length")
