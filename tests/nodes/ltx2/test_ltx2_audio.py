"""LTX-2's audio VAE from an LTX-2 file (original key names, config metadata) and the soundtrack decoded
as LTX2Pipeline decodes it: packed statistics undone, the VAE's mel spectrogram, the vocoder."""

from __future__ import annotations

import pytest
import torch

from nodeflow.core import NodeError, RunContext
from nodes.ltx2.audio import AudioVAEDecode, LoadAudioVAE

CTX = RunContext()


@pytest.fixture(scope="module")
def audio_file(tmp_path_factory, torch_threads):
    from tiny_ltx2 import write_audio_file

    return write_audio_file(tmp_path_factory.mktemp("ltx2_audio") / "ltx-2-tiny.safetensors")


def _pipeline_audio(vae, vocoder, latents):
    """LTX2Pipeline.__call__'s ending for these (normalised, unpacked) soundtrack latents."""
    from diffusers import LTX2Pipeline

    packed = LTX2Pipeline._pack_audio_latents(latents)
    raw = LTX2Pipeline._denormalize_audio_latents(packed, vae.latents_mean, vae.latents_std)
    raw = LTX2Pipeline._unpack_audio_latents(raw, latents.shape[2], num_mel_bins=latents.shape[3])
    with torch.no_grad():
        return vocoder(vae.decode(raw, return_dict=False)[0])


def test_a_checkpoints_audio_vae_decodes_as_the_pipeline_does(audio_file):
    path, vae, vocoder = audio_file
    (loaded,) = LoadAudioVAE().run(CTX, str(path))
    assert (loaded.latent_channels, loaded.frequency_bins, loaded.sample_rate) == (4, 4, 24000)
    latents = torch.randn(2, 4, 5, 4, generator=torch.Generator().manual_seed(1))
    (audio,) = AudioVAEDecode().run(CTX, {"samples": latents, "type": "audio"}, loaded)
    expected = _pipeline_audio(vae, vocoder, latents)
    assert audio["sample_rate"] == 24000 and audio["waveform"].shape == expected.shape == (2, 2, 68)
    assert torch.allclose(audio["waveform"], expected, atol=1e-6)
    (from_av,) = AudioVAEDecode().run(CTX, {"samples": torch.zeros(2, 128, 2, 1, 1), "audio_samples": latents},
                                      loaded)
    assert torch.equal(from_av["waveform"], audio["waveform"])


def test_bad_inputs_are_one_line_naming_the_field(audio_file, tmp_path):
    from safetensors.torch import save_file
    from tiny_ltx2 import write_audio_file

    from nodes.values import Vae

    path, _, _ = audio_file
    (loaded,) = LoadAudioVAE().run(CTX, str(path))
    with pytest.raises(NodeError) as error:
        AudioVAEDecode().run(CTX, {"samples": torch.zeros(1, 16, 4, 4)}, Vae(None, "cpu", None))
    assert error.value.field == "audio_vae"
    with pytest.raises(NodeError, match="soundtrack latent") as error:
        AudioVAEDecode().run(CTX, {"samples": torch.zeros(1, 128, 2, 4, 4)}, loaded)
    assert error.value.field == "samples"
    no_audio = tmp_path / "picture.safetensors"
    save_file({"vae.encoder.conv_in.weight": torch.zeros(4, 3, 3, 3)}, str(no_audio))
    with pytest.raises(NodeError, match="no LTX-2 audio VAE and vocoder") as error:
        LoadAudioVAE().run(CTX, str(no_audio))
    assert error.value.field == "ckpt_name"
    bare, _, _ = write_audio_file(tmp_path / "bare.safetensors", metadata=False)
    with pytest.raises(NodeError, match="upsampling strides") as error:
        LoadAudioVAE().run(CTX, str(bare))
    assert error.value.field == "ckpt_name"
    with pytest.raises(NodeError, match="no checkpoint chosen"):
        LoadAudioVAE().run(CTX, "")


def test_ltx23s_two_stage_vocoder_loads_off_its_tensors(tmp_path):
    """LTX-2.3's vocoder (BigVGAN stage + bandwidth extension, LTX2VocoderWithBWE) in LTX-2's original names,
    narrow but with LTX-2.3's kernels, loads with its widths read off the tensors and decodes as it does."""
    from diffusers.pipelines.ltx2.vocoder import LTX2VocoderWithBWE
    from safetensors.torch import save_file
    from tiny_ltx2 import AUDIO_FILE_CONFIG, audio_parts, original_audio_state

    vae, _ = audio_parts(seed=3)
    torch.manual_seed(3)
    vocoder = LTX2VocoderWithBWE(in_channels=32, hidden_channels=64, bwe_hidden_channels=32).eval()
    state = {k: v for k, v in original_audio_state(vae, torch.nn.Module()).items() if k.startswith("audio_vae.")}
    names = ((".resnets.", ".resblocks."), (".conv_in.", ".conv_pre."), (".conv_out.", ".conv_post."),
             (".act_out.", ".act_post."), (".upsamplers.", ".ups."))
    for key, value in vocoder.state_dict().items():
        if key.endswith(".filter") or key.startswith("mel_stft."):
            continue  # fixed tables a file need not keep
        key = "." + key
        for new, old in names:
            key = key.replace(new, old)
        state["vocoder" + key] = value.contiguous().clone()
    path = tmp_path / "ltx-2.3-audio.safetensors"
    save_file(state, str(path), metadata={"config": __import__("json").dumps({"audio_vae":
                                                                              AUDIO_FILE_CONFIG["audio_vae"]})})
    (loaded,) = LoadAudioVAE().run(CTX, str(path))
    assert type(loaded.vocoder).__name__ == "LTX2VocoderWithBWE" and loaded.sample_rate == 48000
    latents = torch.randn(1, 4, 5, 4, generator=torch.Generator().manual_seed(2))
    (audio,) = AudioVAEDecode().run(CTX, {"samples": latents, "type": "audio"}, loaded)
    expected = _pipeline_audio(vae, vocoder, latents)
    assert audio["waveform"].shape == expected.shape and expected.abs().max() > 0
    assert torch.allclose(audio["waveform"], expected, atol=1e-6)
