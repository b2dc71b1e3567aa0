"""Load VAE (ComfyUI's VAELoader: no family named) reads the Wan VAEs from one file in Wan's original key
names, as ComfyUI's wan_2.1_vae.safetensors and wan2.2_vae.safetensors keep them, and decodes as the
diffusers model they were written from at tolerance 0.

The files are written here from tiny random AutoencoderKLWan models (the real block layout at a twelfth
of the width, so the shipped configs fit) by renaming diffusers' keys to Wan's module paths
(`original_names`), worked out from Wan's VAE modules (the Encoder3d / Decoder3d lists, and Wan 2.2's
Down_ResidualBlock / Up_ResidualBlock nesting), not from the converters under test."""

from __future__ import annotations

import json
import re

import pytest
import torch

from nodeflow.core import NodeError, RunContext

_LAYERS = {"norm1": "residual.0", "conv1": "residual.2", "norm2": "residual.3", "conv2": "residual.6",
           "conv_shortcut": "shortcut"}
_RESNETS_PER_LEVEL = 2  # num_res_blocks of both shipped Wan VAE configs


def _layer(tail: str) -> str:
    """A residual block's layer in Wan's nn.Sequential(RMS_norm, SiLU, conv, RMS_norm, SiLU, Dropout, conv)."""
    head, rest = tail.split(".", 1)
    return f"{_LAYERS.get(head, head)}.{rest}"


def _original(key: str, nested: bool) -> str:
    n = _RESNETS_PER_LEVEL
    side, rest = key.split(".", 1) if key.startswith(("encoder.", "decoder.")) else ("", key)
    if not side:
        return {"quant_conv": "conv1", "post_quant_conv": "conv2"}[rest.split(".")[0]] + "." + rest.split(".", 1)[1]
    if rest.startswith("conv_in."):
        return f"{side}.conv1.{rest[len('conv_in.'):]}"
    if rest.startswith(("norm_out.", "conv_out.")):
        return f"{side}.head.{0 if rest.startswith('norm_out.') else 2}.{rest.split('.', 1)[1]}"
    if (found := re.match(r"mid_block\.(resnets|attentions)\.(\d)\.(.+)", rest)):
        kind, index, tail = found.groups()
        return f"{side}.middle.{1 if kind == 'attentions' else 2 * int(index)}." + \
            (tail if kind == "attentions" else _layer(tail))
    if (found := re.match(r"down_blocks\.(\d+)\.resnets\.(\d+)\.(.+)", rest)):  # Wan 2.2's levels
        return f"{side}.downsamples.{found[1]}.downsamples.{found[2]}.{_layer(found[3])}"
    if (found := re.match(r"down_blocks\.(\d+)\.downsampler\.(.+)", rest)):
        return f"{side}.downsamples.{found[1]}.downsamples.{n}.{found[2]}"
    if (found := re.match(r"down_blocks\.(\d+)\.(.+)", rest)):  # Wan 2.1's one flat list
        tail = found[2]
        return f"{side}.downsamples.{found[1]}.{tail if tail.startswith(('resample.', 'time_conv.')) else _layer(tail)}"
    if (found := re.match(r"up_blocks\.(\d+)\.resnets\.(\d+)\.(.+)", rest)):
        level, index, tail = int(found[1]), int(found[2]), found[3]
        # Wan 2.2: a list per level; Wan 2.1: one list, each level n + 1 blocks and a resampler
        place = f"upsamples.{level}.upsamples.{index}" if nested else f"upsamples.{level * (n + 2) + index}"
        return f"{side}.{place}.{_layer(tail)}"
    if (found := re.match(r"up_blocks\.(\d+)\.(?:upsampler|upsamplers\.0)\.(.+)", rest)):
        level = int(found[1])
        place = f"upsamples.{level}.upsamples.{n + 1}" if nested else f"upsamples.{level * (n + 2) + n + 1}"
        return f"{side}.{place}.{found[2]}"
    raise AssertionError(f"no original name for {key}")


def original_names(state: dict, nested: bool) -> dict:
    """An AutoencoderKLWan state dict in Wan's original key names (`nested`: Wan 2.2's residual levels)."""
    out = {_original(k, nested): v.contiguous() for k, v in state.items()}
    assert len(out) == len(state)
    return out


def _shipped(config: str, **sizes) -> torch.nn.Module:
    """A random AutoencoderKLWan of the shipped `config`'s layout and statistics at these widths."""
    from diffusers import AutoencoderKLWan

    from nodes.models._checkpoint import configs_dir

    shipped = json.loads((configs_dir() / config / "vae" / "config.json").read_text("utf-8"))
    torch.manual_seed(0)
    vae = AutoencoderKLWan(**{k: v for k, v in shipped.items() if not k.startswith("_")} | sizes).eval()
    with torch.no_grad():  # RMS norm scales away from their ones, so a misplaced one shows
        for name, value in vae.named_parameters():
            if name.endswith("gamma"):
                value.uniform_(0.5, 1.5)
    return vae


@pytest.mark.parametrize(("config", "sizes", "named", "loaded_as", "latent"), [
    # Wan 2.1's VAE has Qwen-Image's layout and statistics: without a family named it loads as the first
    # declared family's (Qwen-Image's AutoencoderKLQwenImage, the same maths); Load VAE's family "wan" picks Wan's
    ("wan", dict(base_dim=8), "sd", ("AutoencoderKLQwenImage", ""), (1, 16, 2, 4, 4)),
    ("wan", dict(base_dim=8), "wan", ("AutoencoderKLWan", "wan"), (1, 16, 2, 4, 4)),
    ("wan22", dict(base_dim=8, decoder_base_dim=12), "sd", ("AutoencoderKLWan", "wan22"), (1, 48, 2, 2, 2)),
])
def test_a_wan_vae_in_the_original_names_decodes_as_diffusers(tmp_path, torch_threads, config, sizes, named,
                                                              loaded_as, latent):
    from safetensors.torch import save_file

    from nodes.models.loaders import LoadVAE

    reference = _shipped(config, **sizes)
    nested = config == "wan22"
    path = tmp_path / f"{config}_vae.safetensors"
    save_file(original_names(reference.state_dict(), nested), str(path))
    assert ("decoder.upsamples.0.upsamples.0.residual.2.weight" in original_names(reference.state_dict(), nested)) \
        == nested  # the key ComfyUI tells the two layouts by

    vae = LoadVAE().run(RunContext(), vae=str(path), family=named)[0]
    assert (type(vae.vae).__name__, vae.family) == loaded_as
    assert vae.vae.config.get("decoder_base_dim") == sizes.get("decoder_base_dim")
    z = torch.randn(latent, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        ours = vae.vae.decode(z.to(vae.dtype), return_dict=False)[0]
        theirs = reference.decode(z, return_dict=False)[0]
    assert ours.shape == theirs.shape and theirs.std() > 0.01
    torch.testing.assert_close(ours, theirs, rtol=0, atol=0)


def test_a_vae_file_of_unknown_layout_is_one_line(tmp_path):
    from safetensors.torch import save_file

    from nodes.models.loaders import LoadVAE

    path = tmp_path / "mystery_vae.safetensors"
    save_file({"decoder.mystery.weight": torch.zeros(4, 4)}, str(path))
    with pytest.raises(NodeError) as caught:
        LoadVAE().run(RunContext(), vae=str(path), family="sd")
    assert caught.value.field == "vae" and "\n" not in str(caught.value) and path.name in str(caught.value)
