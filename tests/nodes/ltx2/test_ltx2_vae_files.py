"""Load VAE (ComfyUI's VAELoader, no family named) reads LTX-2's lone VAE files in LTX-2's original key names:
the video VAE (its weights bare, as the separate video VAE files keep them, or under an all-in-one file's
`vae.`), LTX-2.0's and LTX-2.3's (a fourth decoder level), and the audio VAE with its vocoder (under
`audio_vae.` / `vocoder.`, the architecture in the file's config metadata). Each decodes as the diffusers
models it was written from at tolerance 0. The files are written by tiny_ltx2's renaming of diffusers' keys
to LTX-2's (`_original_vae_key`, `original_audio_state`), not by the converters under test."""

from __future__ import annotations

import json

import pytest
import torch

from nodeflow.core import RunContext

#: Tiny widths of the two video VAE layouts (LTX-2.0: 3 decoder levels; LTX-2.3: 4).
_SIZES = {"2.0": dict(block_out_channels=(4, 8, 16, 32), decoder_block_out_channels=(8, 16, 32),
                      layers_per_block=(1, 2, 1, 1, 1), decoder_layers_per_block=(1, 1, 2, 1)),
          "2.3": dict(block_out_channels=(4, 8, 16, 32), decoder_block_out_channels=(8, 16, 16, 32),
                      layers_per_block=(1, 2, 1, 1, 1), decoder_layers_per_block=(1, 1, 2, 1, 1))}


def _video_vae(version: str):
    from diffusers import AutoencoderKLLTX2Video

    from nodes.models._checkpoint import configs_dir

    folder = "vae" if version == "2.0" else "vae_2_3"
    shipped = json.loads((configs_dir() / "ltx2" / folder / "config.json").read_text("utf-8"))
    torch.manual_seed(0)
    vae = AutoencoderKLLTX2Video(**{k: v for k, v in shipped.items() if not k.startswith("_")} | _SIZES[version]
                                 | {"latent_channels": 32}).eval()
    with torch.no_grad():
        vae.latents_mean.copy_(torch.randn_like(vae.latents_mean) * 0.1)
        vae.latents_std.copy_(torch.rand_like(vae.latents_std) + 0.5)
    return vae


@pytest.mark.parametrize(("version", "prefix"), [("2.0", ""), ("2.3", ""), ("2.0", "vae.")])
def test_a_video_vae_file_decodes_as_diffusers(tmp_path, torch_threads, version, prefix):
    from safetensors.torch import save_file
    from tiny_ltx2 import _original_vae_key

    from nodes.models.loaders import LoadVAE

    reference = _video_vae(version)
    path = tmp_path / "LTX2_video_vae_bf16.safetensors"
    save_file({prefix + _original_vae_key(k): v.contiguous() for k, v in reference.state_dict().items()}, str(path))
    vae = LoadVAE().run(RunContext(), vae=str(path), family="sd")[0]
    assert (type(vae.vae).__name__, vae.family, vae.scale_factor, vae.temporal) == \
        ("AutoencoderKLLTX2Video", "ltx2", 32, 8)
    assert list(vae.vae.config.decoder_block_out_channels) == list(reference.config.decoder_block_out_channels)
    torch.testing.assert_close(vae.vae.latents_std, reference.latents_std, rtol=0, atol=0)
    z = torch.randn(1, 32, 2, 2, 2, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        ours = vae.vae.decode(z.to(vae.dtype), return_dict=False)[0]
        theirs = reference.decode(z, return_dict=False)[0]
    assert ours.shape == theirs.shape == (1, 3, 9, 64, 64) and theirs.std() > 0.01
    torch.testing.assert_close(ours, theirs, rtol=0, atol=0)


def test_an_audio_vae_file_decodes_as_diffusers(tmp_path, torch_threads):
    from tiny_ltx2 import write_audio_file

    from nodes.ltx2._audio import decode
    from nodes.models.loaders import LoadVAE
    from nodes.values import AudioVae

    path, vae, vocoder = write_audio_file(tmp_path / "LTX2_audio_vae_bf16.safetensors")
    loaded = LoadVAE().run(RunContext(), vae=str(path), family="sd")[0]
    assert isinstance(loaded, AudioVae) and loaded.sample_rate == 24000
    latents = torch.randn(1, 4, 5, 4, generator=torch.Generator().manual_seed(1))
    ours = decode(loaded, latents)
    theirs = decode(AudioVae(vae, vocoder, "cpu", torch.float32), latents)
    assert ours.shape == theirs.shape and theirs.std() > 0
    torch.testing.assert_close(ours, theirs, rtol=0, atol=0)
