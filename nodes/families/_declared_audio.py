"""The sound model families (Stable Audio 3), each declared once, as `_declared` does for the picture
families: their latents are [batch, channels, latent steps] (`LatentFormat.sample_rate`: an audio family's
rate, `downscale` its samples per latent step), and their VAE turns latents into sound, not pictures
(`Family.audio_vae` names it; VAE Decode Audio decodes through it). `FAMILIES` in `_declared` lists these
after the video families."""

from __future__ import annotations

from nodes.families._spec import Family, LatentFormat, TextEncoder

STABLE_AUDIO_3 = Family(
    name="stable-audio-3",
    title="Stable Audio 3 (Medium, Medium Base)",
    denoiser="StableAudio3DiTModel",
    encoders=(TextEncoder("text_encoder", "T5GemmaEncoderModel", "GemmaTokenizer", 256,
                          "last hidden states, the prompt padded to 256 tokens with its mask (padded positions "
                          "take the DiT's learned padding embedding)", "t5gemma_b_b_ul2"),),
    # SAME-L: 256 channels, 4096 samples (a 256-sample patch, then stride 16) a latent step, 44.1 kHz stereo
    latent=LatentFormat(channels=256, scaling_factor=1.0, downscale=4096, sample_rate=44100),
    prediction="flow",
    pipeline="StableAudio3Pipeline",
    config="stable-audio-3",
    adapter="nodes.stable_audio3._adapter",
    cfg="batched",
    vae="AutoencoderSAME",
    sigmas="own",
    comfy_clip_types=("stable_audio",),
    comfy_shift=2.0,
    audio_vae="AutoencoderSAME",
    notes=("the duration the DiT is told is the latent's length (latent steps x 4096 / 44100 s); the pipeline's "
           "requested duration when that is a whole number of steps",
           "the distilled Medium steps stochastically (its scheduler's stochastic_sampling: fresh noise from the "
           "run's generator each step), the Base deterministically"),
)

AUDIO_FAMILIES: tuple[Family, ...] = (STABLE_AUDIO_3,)
