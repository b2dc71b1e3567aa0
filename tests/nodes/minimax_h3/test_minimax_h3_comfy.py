"""MiniMax H3 in the ComfyUI convention: the packed video + soundtrack, stepped by Euler over the video's
shift-12 sigmas, lands where diffusers' pipeline lands with its two schedules (shift 12 and 3), from the
same noise: the soundtrack kept in the video's sigmas by its noise scale (`nodes.minimax_h3._denoise`).
Equal within float rounding (the two orders of arithmetic differ), not at tolerance 0."""

from __future__ import annotations

import pytest
import torch
from test_minimax_h3_parity import FRAMES, PROMPT, SEED, STEPS, as_model, empty_latent
from tiny_minimax_h3 import parts

from nodes.latent import _streams
from nodes.minimax_h3 import _adapter as ad
from nodes.minimax_h3._denoise import Denoise
from nodes.values import CondEntry


@pytest.fixture(scope="module")
def tiny():
    return parts()


@pytest.mark.parametrize("shift", [12.0, 10.0])
def test_one_schedule_with_a_scaled_soundtrack_equals_the_pipelines_two(tiny, shift):
    """At the released shifts (12 and 3) and at FastH3's (10 and 3, set by MiniMax H3 Sigma Shift)."""
    from nodeflow.core import RunContext
    from nodes.minimax_h3.nodes import SigmaShift

    (model,) = SigmaShift().run(RunContext(), as_model(tiny["transformer"]), shift, 3.0)
    states, tags = ad.prompt_states(tiny["tokenizer"], tiny["text_encoder"], PROMPT, "cpu")
    entry = CondEntry(embeds=states, extra=ad.Prompt(tags))
    latent = empty_latent()
    want = ad.sample(model, entry, latent, SEED, STEPS, ad.shifts_of(model))
    assert ad.shifts_of(model) == (shift, 3.0)

    streams = _streams.of(latent, model)
    assert streams.scales == (1.0, 3.0 / shift)
    generator = torch.Generator().manual_seed(SEED)  # the pipeline's draws: the video's, then the audio rows
    video = torch.randn(streams.video, generator=generator)
    frames = streams.shapes[1][-1]
    sound = torch.randn((2 * frames, 32), generator=generator)
    x = streams.join([video, ad.audio_latents(sound, frames) * streams.scales[1]])
    u = torch.linspace(1.0, 0.0, STEPS)
    sigmas = shift * u / (1 + (shift - 1) * u)
    denoise = Denoise(model, entry, 1, (2, 2))
    denoise.streams = streams
    for sigma, after in zip(sigmas[:-1], sigmas[1:], strict=True):
        x = x + (after - sigma) * denoise(x, sigma * 1000)
    got_video, got_audio = streams.split(x)
    assert torch.allclose(got_video, want["samples"], atol=1e-5, rtol=0)
    assert torch.allclose(got_audio, want["audio_samples"], atol=1e-5, rtol=0)
    assert FRAMES == 22 and got_audio.abs().max() > 0.1  # a real soundtrack, not zeros


def test_the_comfyui_sampler_runs_the_pair_from_the_scaled_noise(tiny):
    """Sample (comfyui convention) with Euler over the video's sigmas: the joined noise's soundtrack drawn
    after the video and scaled by 3/12, every step the family's denoiser; equal to the loop above."""
    from nodeflow.core import RunContext
    from nodes.sampling._comfy_sampling import sample
    from nodes.values import Conditioning, Guider, NoiseSource, SamplerChoice

    model = as_model(tiny["transformer"])
    states, tags = ad.prompt_states(tiny["tokenizer"], tiny["text_encoder"], PROMPT, "cpu")
    entry = CondEntry(embeds=states, extra=ad.Prompt(tags))
    latent = empty_latent()
    u = torch.linspace(1.0, 0.0, STEPS)
    sigmas = 12.0 * u / (1 + 11.0 * u)
    got = sample(RunContext(), Guider(model, Conditioning([entry]), None, 1.0), SamplerChoice("euler"), sigmas,
                 NoiseSource(SEED), latent)

    streams = _streams.of(latent, model)
    x = streams.randn(torch.Generator().manual_seed(SEED), "cpu", torch.float32)
    denoise = Denoise(model, entry, 1, (2, 2))
    denoise.streams = streams
    for sigma, after in zip(sigmas[:-1], sigmas[1:], strict=True):
        x = x + (after - sigma) * denoise(x, sigma * 1000)
    video, audio = streams.split(x)
    assert torch.allclose(got["samples"], video, atol=1e-6, rtol=0)
    assert torch.allclose(got["audio_samples"], audio, atol=1e-6, rtol=0)
