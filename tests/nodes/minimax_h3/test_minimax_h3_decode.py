"""MiniMax H3's decoders against MiniMaxH3ModularPipeline's: VAE Decode of a video latent (per-channel
statistics undone, the ImageNet pixel statistics undone) gives the pipeline's frames, and VAE Decode
Audio of the soundtrack latent its stereo waveform, both at tolerance 0; the audio VAE loads from a
diffusers folder through Load VAE as the value VAE Decode Audio takes."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from test_minimax_h3_parity import FRAMES, PROMPT, SEED, SIDE
from tiny_minimax_h3 import parts, pipeline

from nodeflow.core import NodeError, RunContext
from nodes.audio.vae import VAEDecodeAudio
from nodes.vae.codec import decode
from nodes.values import Vae


@pytest.fixture(scope="module")
def run():
    tiny = parts()
    out = pipeline(tiny)(prompt=PROMPT, height=SIDE, width=SIDE, num_frames=FRAMES, num_inference_steps=2,
                         generator=torch.Generator().manual_seed(SEED), output_type="np",
                         output=["latents", "audio_latents", "videos", "audio"])
    return tiny, out


def test_vae_decode_gives_the_pipelines_frames(run):
    tiny, out = run
    frames = decode(Vae(tiny["vae"], "cpu", torch.float32, family="minimax-h3"), {"samples": out["latents"]})
    want = np.asarray(out["videos"])[0]
    assert frames.shape == (FRAMES, SIDE, SIDE, 3)
    assert np.array_equal(frames.numpy(), want)


def test_vae_decode_audio_gives_the_pipelines_waveform(run, tmp_path):
    from nodes.models._split_loaders import load_vae

    tiny, out = run
    tiny["audio_vae"].save_pretrained(str(tmp_path / "audio_vae"))
    vae = load_vae(tmp_path / "audio_vae", "sd", "cpu", torch.float32)
    latents = out["audio_latents"].permute(1, 0, 2)[None]  # the pipeline's [left/right, 32, T] as a LATENT's
    (audio,) = VAEDecodeAudio().run(RunContext(), {"samples": torch.zeros(1, 24, 7, 2, 2), "audio_samples": latents},
                                    vae)
    assert audio["sample_rate"] == 32000
    assert torch.equal(audio["waveform"], torch.as_tensor(out["audio"]).reshape(1, 2, -1).float())
    with pytest.raises(NodeError, match="not an audio VAE"):
        VAEDecodeAudio().run(RunContext(), {"samples": latents}, Vae(tiny["vae"], "cpu", torch.float32))


def test_vae_encode_gives_the_vae_imagenet_normalised_frames(run):
    """VAE Encode of frames with MiniMax H3's VAE: the pixels normalised by ImageNet's statistics, as its
    pipeline encodes (the inverse of the decode's), the batch as one video's frames."""
    from nodes.vae.codec import encode

    tiny, _ = run
    frames = torch.rand(5, SIDE, SIDE, 3, generator=torch.Generator().manual_seed(0))  # 5: the shortest clip
    got = encode(RunContext(), frames, Vae(tiny["vae"], "cpu", torch.float32, family="minimax-h3"))
    mean = torch.tensor((0.485, 0.456, 0.406)).view(1, 3, 1, 1, 1)
    std = torch.tensor((0.229, 0.224, 0.225)).view(1, 3, 1, 1, 1)
    with torch.no_grad():
        want = tiny["vae"].encode((frames.permute(3, 0, 1, 2)[None] - mean) / std).latent_dist.mean
    assert torch.allclose(got["latent_dist"]["mean"], want, atol=1e-5, rtol=0)
