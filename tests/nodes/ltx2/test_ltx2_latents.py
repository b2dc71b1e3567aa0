"""LTX-2's latent and conditioning nodes: the latents have LTX2Pipeline's shapes, the joint audio-video
latent splits back into what it was made of, and bad inputs are one line naming the field."""

from __future__ import annotations

import pytest
import torch

from nodeflow.core import NodeError, RunContext
from nodes.ltx2.guides import CropGuides
from nodes.ltx2.latents import (
    ConcatAVLatent,
    Conditioning,
    EmptyLatentAudio,
    EmptyLatentVideo,
    SeparateAVLatent,
)
from nodes.values import CondEntry
from nodes.values import Conditioning as Cond

CTX = RunContext()


@pytest.fixture(scope="module")
def audio_vae(torch_threads):
    from tiny_ltx2 import audio_vae

    return audio_vae()


@pytest.fixture(scope="module")
def pipeline(audio_vae):
    """LTX2Pipeline with only the audio VAE: its own shape rules, nothing else loaded."""
    from diffusers import LTX2Pipeline

    return LTX2Pipeline(scheduler=None, vae=None, audio_vae=audio_vae.vae, text_encoder=None, tokenizer=None,
                        connectors=None, transformer=None, vocoder=audio_vae.vocoder)


@pytest.mark.parametrize(("width", "height", "length"), [(96, 64, 9), (64, 128, 2), (32 * 5, 64, 17)])
def test_an_empty_video_latent_has_the_pipelines_shape(pipeline, width, height, length):
    (latent,) = EmptyLatentVideo().run(CTX, width=max(width, 64), height=height, length=length, batch_size=2)
    packed = pipeline.prepare_latents(2, 128, height, max(width, 64), length,
                                      generator=torch.Generator().manual_seed(0))
    b, c, t, h, w = latent["samples"].shape
    assert (b, t * h * w, c) == tuple(packed.shape) and latent["downscale"] == 32
    assert not latent["samples"].any()


def test_a_width_off_the_grid_is_rounded_down_with_a_warning():
    said = []
    ctx = RunContext(on_message=lambda node, line: said.append(line))
    (latent,) = EmptyLatentVideo().run(ctx, width=100, height=64, length=9, batch_size=1)
    assert latent["samples"].shape[-1] == 3 and any("width 100" in line for line in said)


@pytest.mark.parametrize(("frames", "rate"), [(97, 25.0), (9, 24.0), (121, 24.0), (5, 30.0)])
def test_an_empty_audio_latent_is_as_long_as_the_pipelines(pipeline, audio_vae, frames, rate):
    (latent,) = EmptyLatentAudio().run(CTX, frames_number=frames, frame_rate=rate, batch_size=1,
                                       audio_vae=audio_vae)
    per_second = (pipeline.audio_sampling_rate / pipeline.audio_hop_length
                  / pipeline.audio_vae_temporal_compression_ratio)
    length = round(frames / rate * per_second)  # LTX2Pipeline.__call__'s audio_num_frames
    packed = pipeline.prepare_audio_latents(1, 4, length, pipeline.audio_vae.config.mel_bins,
                                            generator=torch.Generator().manual_seed(0))
    b, c, t, f = latent["samples"].shape
    assert (b, t, c * f) == tuple(packed.shape) and latent["type"] == "audio"


def test_a_picture_vae_is_refused_by_the_audio_latent(audio_vae):
    from nodes.values import Vae

    with pytest.raises(NodeError, match="audio VAE") as error:
        EmptyLatentAudio().run(CTX, frames_number=9, frame_rate=25.0, batch_size=1, audio_vae=Vae(None, "cpu", None))
    assert error.value.field == "audio_vae"


def _video(frames=3, mask=False):
    latent = {"samples": torch.randn(1, 128, frames, 2, 2), "downscale": 32}
    if mask:
        latent["noise_mask"] = torch.rand(1, 1, frames, 1, 1)
    return latent


def test_concat_then_separate_gives_back_both_streams():
    video, audio = _video(), {"samples": torch.randn(1, 4, 7, 4), "type": "audio"}
    (joined,) = ConcatAVLatent().run(CTX, video, audio)
    assert "noise_mask" not in joined and "audio_noise_mask" not in joined
    back_video, back_audio = SeparateAVLatent().run(CTX, joined)
    assert torch.equal(back_video["samples"], video["samples"]) and back_video["downscale"] == 32
    assert torch.equal(back_audio["samples"], audio["samples"]) and back_audio["type"] == "audio"


def test_a_mask_on_one_stream_gives_the_other_a_full_one():
    video, audio = _video(mask=True), {"samples": torch.randn(1, 4, 7, 4)}
    (joined,) = ConcatAVLatent().run(CTX, video, audio)
    assert torch.equal(joined["noise_mask"], video["noise_mask"])
    assert torch.equal(joined["audio_noise_mask"], torch.ones(1, 4, 7, 4))
    back_video, back_audio = SeparateAVLatent().run(CTX, joined)
    assert torch.equal(back_video["noise_mask"], video["noise_mask"])
    assert torch.equal(back_audio["noise_mask"], torch.ones(1, 4, 7, 4))


def test_a_new_soundtrack_for_a_joint_latent_is_fitted_to_the_old_length():
    (joined,) = ConcatAVLatent().run(CTX, _video(), {"samples": torch.randn(1, 4, 7, 4)})
    longer = torch.randn(1, 4, 9, 4)
    (swapped,) = ConcatAVLatent().run(CTX, joined, {"samples": longer})
    assert torch.equal(swapped["audio_samples"], longer[:, :, :7])
    shorter = torch.randn(1, 4, 5, 4)
    (padded,) = ConcatAVLatent().run(CTX, joined, {"samples": shorter, "noise_mask": torch.zeros(1, 4, 5, 4)})
    assert torch.equal(padded["audio_samples"][:, :, :5], shorter) and not padded["audio_samples"][:, :, 5:].any()
    assert not padded["audio_noise_mask"][:, :, :5].any() and padded["audio_noise_mask"][:, :, 5:].eq(1).all()
    with pytest.raises(NodeError) as error:
        ConcatAVLatent().run(CTX, joined, {"samples": torch.randn(1, 4, 7, 8)})
    assert error.value.field == "audio_latent"


def test_streams_of_the_wrong_rank_and_a_latent_without_sound_are_refused():
    with pytest.raises(NodeError) as error:
        ConcatAVLatent().run(CTX, {"samples": torch.zeros(1, 4, 8, 8)}, {"samples": torch.zeros(1, 4, 7, 4)})
    assert error.value.field == "video_latent"
    with pytest.raises(NodeError) as error:
        ConcatAVLatent().run(CTX, _video(), {"samples": torch.zeros(1, 4, 7)})
    assert error.value.field == "audio_latent"
    with pytest.raises(NodeError, match="no soundtrack") as error:
        SeparateAVLatent().run(CTX, _video())
    assert error.value.field == "av_latent"


def test_ltxv_conditioning_sets_the_frame_rate_on_both_prompts():
    positive, negative = Cond([CondEntry(torch.zeros(1, 2, 4), text="a")]), Cond([CondEntry(torch.zeros(1, 2, 4))])
    out_positive, out_negative = Conditioning().run(CTX, positive, negative, 24.0)
    assert [e.frame_rate for e in out_positive.entries + out_negative.entries] == [24.0, 24.0]
    assert out_positive.entries[0].text == "a" and positive.entries[0].frame_rate is None
    with pytest.raises(NodeError) as error:
        Conditioning().run(CTX, positive, negative, 0.0)
    assert error.value.field == "frame_rate"


def test_crop_guides_passes_a_latent_without_guides_with_its_mask_made_explicit():
    positive, negative = Cond(), Cond()
    video = _video(frames=4)
    out_positive, out_negative, latent = CropGuides().run(CTX, positive, negative, video)
    assert out_positive is positive and out_negative is negative
    assert torch.equal(latent["samples"], video["samples"]) and latent["samples"] is not video["samples"]
    assert torch.equal(latent["noise_mask"], torch.ones(1, 1, 4, 1, 1))
    masked = _video(frames=4, mask=True)
    assert torch.equal(CropGuides().run(CTX, positive, negative, masked)[2]["noise_mask"], masked["noise_mask"])
    with pytest.raises(NodeError) as error:
        CropGuides().run(CTX, positive, negative, {"samples": torch.zeros(1, 4, 8, 8)})
    assert error.value.field == "latent"
