"""LTX-2's audio VAE and vocoder from a file, and the soundtrack latent decoded to a waveform.

LTX-2's single-file checkpoints (and ComfyUI's) keep the audio autoencoder under `audio_vae.` and
the vocoder under `vocoder.`, in the original key names, with the architecture in the file's
`config` metadata (JSON, sections "audio_vae" and "vocoder", read where ComfyUI reads them). The
diffusers configs are built from the tensors' sizes plus those numbers; the vocoder's upsampling
strides are not in any tensor, so a vocoder without its metadata must be LTX-2.0's (its kernels say so).
LTX-2.3's vocoder (a BigVGAN stage and a bandwidth-extending one, `bwe_generator.`; diffusers'
LTX2VocoderWithBWE) is told by its second stage: its widths are read off the tensors, its kernels must be
LTX-2.3's, whose strides and rates are diffusers' class defaults.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any

from nodeflow.core import NodeError

AUDIO_PREFIX, VOCODER_PREFIX = "audio_vae.", "vocoder."
#: The original vocoder's module names -> diffusers' LTX2Vocoder's.
_VOCODER_NAMES = (("conv_pre.", "conv_in."), ("conv_post.", "conv_out."), ("ups.", "upsamplers."),
                  ("resblocks.", "resnets."))
#: LTX-2.0's vocoder (diffusers' conversion of Lightricks/LTX-2): its kernels identify it.
LTX2_VOCODER = {"upsample_kernel_sizes": [16, 15, 8, 4, 4], "upsample_factors": [6, 5, 2, 2, 2],
                "resnet_dilations": [[1, 3, 5], [1, 3, 5], [1, 3, 5]], "output_sampling_rate": 24000}


def file_config(metadata: Mapping[str, str]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The ("audio_vae", "vocoder") sections of a file's `config` metadata ({} where absent)."""
    raw = metadata.get("config")
    try:
        parsed = json.loads(raw) if isinstance(raw, str) else {}
    except ValueError:
        parsed = {}
    parsed = parsed if isinstance(parsed, dict) else {}
    sections = (parsed.get("audio_vae"), parsed.get("vocoder"))
    return tuple(s if isinstance(s, dict) else {} for s in sections)  # type: ignore[return-value]


def _dig(config: Mapping[str, Any], *paths: tuple[str, ...], default: Any) -> Any:
    """The value at the first of `paths` (key sequences) that `config` has."""
    for path in paths:
        node: Any = config
        for key in path:
            node = node.get(key) if isinstance(node, Mapping) else None
        if node is not None:
            return node
    return default


def audio_vae_config(shapes: Mapping[str, tuple[int, ...]], original: Mapping[str, Any], field: str) -> dict[str, Any]:
    """AutoencoderKLLTX2Audio's config: widths, levels, blocks and channels off the tensors; sample
    rate, hop, mel bins and causality from the file's config (LTX-2's 16000, 160, 64, "height")."""
    params = _dig(original, ("model", "params"), default={})
    encoder = _dig(params, ("encoder",), ("ddconfig",), default={})
    base, in_channels = shapes["encoder.conv_in.conv.weight"][:2]
    levels = []
    while f"encoder.down.{len(levels)}.block.0.conv1.conv.weight" in shapes:
        levels.append(shapes[f"encoder.down.{len(levels)}.block.0.conv1.conv.weight"][0] // base)
    latent = shapes["decoder.conv_in.conv.weight"][1]
    if any(".attn" in k for k in shapes):
        raise NodeError("this audio VAE has attention layers; LTX-2's has none, and NodeFlow knows no other", field)
    return {
        "base_channels": base, "in_channels": in_channels, "ch_mult": tuple(levels),
        "num_res_blocks": len({k.split(".")[4] for k in shapes if k.startswith("encoder.down.0.block.")}),
        "latent_channels": latent, "output_channels": shapes["decoder.conv_out.conv.weight"][0],
        "double_z": shapes["encoder.conv_out.conv.weight"][0] == 2 * latent,
        "sample_rate": int(_dig(original, ("variables", "sampling_rate"), ("model", "params", "sampling_rate"),
                                ("sampling_rate",), default=16000)),
        "mel_hop_length": int(_dig(original, ("preprocessing", "stft", "hop_length"),
                                   ("model", "params", "preprocessing", "stft", "hop_length"), default=160)),
        "mel_bins": int(encoder.get("mel_bins", 64)),
        "causality_axis": str(encoder.get("causality_axis", "height")),
    }


def vocoder_config(shapes: Mapping[str, tuple[int, ...]], original: Mapping[str, Any],
                   audio: Mapping[str, Any], field: str) -> dict[str, Any]:
    """LTX2Vocoder's config from the (diffusers-named) tensors and the file's vocoder section."""
    if "bwe" in original or original.get("resblock", "1") != "1":
        raise NodeError("this vocoder is LTX-2.3's (BigVGAN blocks with bandwidth extension); NodeFlow loads "
                        "LTX-2.0's HiFi-GAN vocoder only", field)
    hidden, in_channels = shapes["conv_in.weight"][:2]
    ups = []
    while f"upsamplers.{len(ups)}.weight" in shapes:
        ups.append(shapes[f"upsamplers.{len(ups)}.weight"][2])
    per_level = len({k.split(".")[1] for k in shapes if k.startswith("resnets.")}) // max(len(ups), 1)
    config = {"in_channels": in_channels, "hidden_channels": hidden, "out_channels": shapes["conv_out.weight"][0],
              "upsample_kernel_sizes": ups,
              "resnet_kernel_sizes": [shapes[f"resnets.{j}.convs1.0.weight"][2] for j in range(per_level)],
              "final_bias": "conv_out.bias" in shapes,
              "final_act_fn": "tanh" if original.get("use_tanh_at_final", True) else None}
    if "upsample_rates" in original:
        factors = [int(r) for r in original["upsample_rates"]]
        rate = (original.get("output_sample_rate")
                or audio["sample_rate"] * math.prod(factors) // audio["mel_hop_length"])
        config |= {"upsample_factors": factors, "output_sampling_rate": int(rate),
                   "resnet_dilations": original.get("resblock_dilation_sizes", [[1, 3, 5]] * per_level)}
    elif ups == LTX2_VOCODER["upsample_kernel_sizes"]:
        config |= {k: v for k, v in LTX2_VOCODER.items() if k != "upsample_kernel_sizes"}
    else:
        raise NodeError("this vocoder's file does not say its upsampling strides (no config metadata), and its "
                        "kernels are not LTX-2.0's", field)
    return config


#: LTX-2.3's original vocoder names -> LTX2VocoderWithBWE's (inside both stages).
_BWE_NAMES = ((".resblocks.", ".resnets."), (".conv_pre.", ".conv_in."), (".conv_post.", ".conv_out."),
              (".act_post.", ".act_out."), (".downsample.lowpass.", ".downsample."), (".ups.", ".upsamplers."))


def is_bwe(state: Mapping[str, Any]) -> bool:
    """Whether vocoder weights (without their `vocoder.` prefix) are LTX-2.3's two-stage vocoder."""
    return any(k.startswith("bwe_generator.") for k in state)


def bwe_vocoder(state: Mapping[str, Any], dtype: Any, field: str) -> Any:
    """LTX2VocoderWithBWE from LTX-2.3's vocoder weights (original or diffusers' names): each stage's widths
    off its tensors, its kernels checked against LTX-2.3's (the class defaults); the fixed resampling filters
    and mel tables a file need not keep are the ones the class computes."""
    import inspect

    from diffusers.pipelines.ltx2.vocoder import LTX2VocoderWithBWE

    renamed = {}
    for key, value in state.items():
        key = "." + key
        for old, new in _BWE_NAMES:
            key = key.replace(old, new)
        renamed[key[1:]] = value
    shapes = {k: tuple(v.shape) for k, v in renamed.items()}
    config = {name: p.default for name, p in inspect.signature(LTX2VocoderWithBWE.__init__).parameters.items()
              if p.default is not inspect.Parameter.empty}
    for stage, prefix in (("", "vocoder."), ("bwe_", "bwe_generator.")):
        kernels = []
        while f"{prefix}upsamplers.{len(kernels)}.weight" in shapes:
            kernels.append(shapes[f"{prefix}upsamplers.{len(kernels)}.weight"][2])
        if kernels != list(config[f"{stage}upsample_kernel_sizes"]):
            raise NodeError(f"this two-stage vocoder's {'second' if stage else 'first'} stage has upsampling kernels "
                            f"{kernels}, not LTX-2.3's {list(config[stage + 'upsample_kernel_sizes'])}", field)
        hidden, channels = shapes[f"{prefix}conv_in.weight"][:2]
        config |= {f"{stage}in_channels": channels, f"{stage}hidden_channels": hidden,
                   f"{stage}out_channels": shapes[f"{prefix}conv_out.weight"][0]}
    model = LTX2VocoderWithBWE(**config)
    missing, unexpected = model.load_state_dict(renamed, strict=False)
    kept = [k for k in missing if not (k.endswith(".filter") or k.startswith("mel_stft."))]
    if kept or unexpected:
        raise NodeError(f"this two-stage vocoder's weights do not fit LTX-2.3's: {(kept + unexpected)[0]}", field)
    return model.to(dtype=dtype)


def vocoder_state(state: Mapping[str, Any]) -> dict[str, Any]:
    """The vocoder's weights in diffusers' names (the original's renamed; diffusers' kept)."""
    out = {}
    for key, value in state.items():
        for old, new in _VOCODER_NAMES:
            if key.startswith(old):
                key = new + key[len(old):]
        out[key] = value
    return out


def pipeline_model(cls: Any, config: Mapping[str, Any], state: dict[str, Any], dtype: Any, field: str) -> Any:
    """A model class that lives in diffusers' LTX-2 pipeline package (the vocoder, the latent upsampler,
    the text connectors: not exported at diffusers' top level), built on the meta device and filled
    with `state` in its own key names."""
    from accelerate import init_empty_weights

    from nodes.models._quantized import load_into

    with init_empty_weights():
        model = cls.from_config(dict(config))
    return load_into(model, state, dtype, field)


def load_audio_vae(path: Any, device: str, dtype: Any, place: str, field: str) -> Any:
    """The AudioVae of an LTX-2 file: its `audio_vae.` and `vocoder.` weights and its config metadata."""
    from diffusers.pipelines.ltx2.vocoder import LTX2Vocoder

    from nodes.models._family_loader import _metadata, ready
    from nodes.models._quantized import load_diffusers_model, read_state_dict
    from nodes.values import AudioVae

    state = read_state_dict(path, field)
    audio = {k[len(AUDIO_PREFIX):]: v for k, v in state.items() if k.startswith(AUDIO_PREFIX)}
    raw_vocoder = {k[len(VOCODER_PREFIX):]: v for k, v in state.items() if k.startswith(VOCODER_PREFIX)}
    vocoder = vocoder_state(raw_vocoder)
    if not audio or not vocoder:
        missing = " and ".join(n for n, part in (("audio VAE", audio), ("vocoder", vocoder)) if not part)
        raise NodeError(f"{path.name} has no LTX-2 {missing} (keys under {AUDIO_PREFIX} and {VOCODER_PREFIX})", field)
    audio_original, vocoder_original = file_config(_metadata(path))
    try:
        config = audio_vae_config({k: tuple(v.shape) for k, v in audio.items()}, audio_original, field)
        audio = {k: v for k, v in audio.items() if not k.startswith("per_channel_statistics.")
                 or k.endswith(("mean-of-means", "std-of-means"))}
        vae = load_diffusers_model("AutoencoderKLLTX2Audio", config, audio, dtype, field)
        if is_bwe(raw_vocoder):
            voc = bwe_vocoder(raw_vocoder, dtype, field)
        else:
            voc_config = vocoder_config({k: tuple(v.shape) for k, v in vocoder.items()}, vocoder_original, config,
                                        field)
            voc = pipeline_model(LTX2Vocoder, voc_config, vocoder, dtype, field)
    except (KeyError, ValueError, RuntimeError) as exc:
        raise NodeError(f"cannot load {path.name}'s LTX-2 audio VAE: {exc}", field) from None
    return AudioVae(ready(vae.eval(), place), ready(voc.eval(), place), device, dtype)


def decode(audio_vae: Any, samples: Any) -> Any:
    """Waveforms [B, channels, samples] of soundtrack latents [B, C, L, F] as a LATENT keeps them
    (normalised per packed channel): LTX2Pipeline's ending, its packing, statistics and unpacking,
    the VAE's mel spectrogram, then the vocoder."""
    import torch
    from diffusers import LTX2Pipeline

    vae = audio_vae.vae
    device = next(vae.parameters()).device
    latents = samples.to(device=device, dtype=audio_vae.dtype)
    packed = LTX2Pipeline._pack_audio_latents(latents)
    raw = LTX2Pipeline._denormalize_audio_latents(packed, vae.latents_mean, vae.latents_std)
    raw = LTX2Pipeline._unpack_audio_latents(raw, latents.shape[2], num_mel_bins=latents.shape[3])
    with torch.no_grad():
        mel = vae.decode(raw, return_dict=False)[0]
        return audio_vae.vocoder(mel.to(next(audio_vae.vocoder.parameters()).device))
