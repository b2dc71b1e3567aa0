"""Tiny random LTX-2 parts, built from configs: the audio VAE and vocoder (16 mel bins, 4 latent
channels, so a packed audio token has the 16 features its statistics cover, as the real 8 x 16 = 128)."""

from __future__ import annotations

AUDIO_VAE = dict(base_channels=16, output_channels=2, ch_mult=(1, 2, 4), num_res_blocks=1, in_channels=2,
                 latent_channels=4, mel_bins=16, sample_rate=16000, mel_hop_length=160)
VOCODER = dict(in_channels=32, hidden_channels=16, out_channels=2, upsample_kernel_sizes=[4, 4],
               upsample_factors=[2, 2], resnet_kernel_sizes=[3], resnet_dilations=[[1, 3]],
               output_sampling_rate=24000)


def audio_parts(seed: int = 0):
    """(AutoencoderKLLTX2Audio, LTX2Vocoder), random, in eval mode, with non-trivial latent statistics."""
    import torch
    from diffusers import AutoencoderKLLTX2Audio
    from diffusers.pipelines.ltx2.vocoder import LTX2Vocoder

    torch.manual_seed(seed)
    vae = AutoencoderKLLTX2Audio(**AUDIO_VAE).eval()
    with torch.no_grad():
        vae.latents_mean.copy_(torch.randn_like(vae.latents_mean) * 0.1)
        vae.latents_std.copy_(torch.rand_like(vae.latents_std) + 0.5)
    return vae, LTX2Vocoder(**VOCODER).eval()


def audio_vae(seed: int = 0):
    """The parts as NodeFlow's AudioVae value (CPU, float32)."""
    import torch

    from nodes.values import AudioVae

    vae, vocoder = audio_parts(seed)
    return AudioVae(vae, vocoder, "cpu", torch.float32)


#: The tiny parts' architecture as LTX-2's files record it in their `config` metadata (ComfyUI's reading).
AUDIO_FILE_CONFIG = {
    "audio_vae": {"model": {"params": {"sampling_rate": 16000,
                                       "ddconfig": {"mel_bins": 16, "causality_axis": "height"}}},
                  "preprocessing": {"stft": {"hop_length": 160}}},
    "vocoder": {"upsample_rates": [2, 2], "upsample_kernel_sizes": [4, 4], "resblock_kernel_sizes": [3],
                "resblock_dilation_sizes": [[1, 3]], "upsample_initial_channel": 16, "stereo": True,
                "output_sample_rate": 24000},
}


def original_audio_state(vae, vocoder) -> dict:
    """The parts' weights as an LTX-2 checkpoint keeps them (original names under audio_vae. / vocoder.)."""
    state = {}
    for key, value in vae.state_dict().items():
        key = key.replace("latents_mean", "per_channel_statistics.mean-of-means")
        state["audio_vae." + key.replace("latents_std", "per_channel_statistics.std-of-means")] = value
    names = (("conv_in.", "conv_pre."), ("conv_out.", "conv_post."), ("upsamplers.", "ups."),
             ("resnets.", "resblocks."))
    for key, value in vocoder.state_dict().items():
        for new, old in names:
            key = old + key[len(new):] if key.startswith(new) else key
        state["vocoder." + key] = value
    return {k: v.contiguous().clone() for k, v in state.items()}


def write_audio_file(path, seed: int = 0, metadata: bool = True):
    """An LTX-2-style .safetensors holding the tiny audio VAE and vocoder; returns (path, vae, vocoder)."""
    import json

    from safetensors.torch import save_file

    vae, vocoder = audio_parts(seed)
    save_file(original_audio_state(vae, vocoder), str(path),
              metadata={"config": json.dumps(AUDIO_FILE_CONFIG)} if metadata else None)
    return path, vae, vocoder
