"""Key layouts of lone VAE files that diffusers' single-file converters do not read, renamed to
diffusers' names.

The Wan 2.2 VAE (ComfyUI's wan2.2_vae.safetensors, Wan's Wan2.2_VAE.pth) keeps Wan's original
names, like Wan 2.1's, but its residual down and up blocks nest their layers one level deeper:
`encoder.downsamples.<level>.downsamples.<n>` is the level's n-th residual block, or its resampler
after the last one; `decoder.upsamples.<level>.upsamples.<n>` likewise. diffusers 0.42's Wan VAE
converter reads only Wan 2.1's flat lists, so the nested blocks are renamed here and the rest
(convolutions in and out, middle blocks, heads, quant convolutions), which both VAEs name alike,
goes through diffusers' converter.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

#: A Wan residual block's original layers (an nn.Sequential and a shortcut) -> diffusers' names.
_RESIDUAL = (("residual.0.", "norm1."), ("residual.2.", "conv1."), ("residual.3.", "norm2."),
             ("residual.6.", "conv2."), ("shortcut.", "conv_shortcut."))
_NESTED = re.compile(r"^(encoder\.downsamples|decoder\.upsamples)\.(\d+)\.(?:downsamples|upsamples)\.(\d+)\.(.+)$")
#: The key that tells a Wan 2.2 VAE in the original names (ComfyUI tells it by the same nesting).
WAN22_ORIGINAL_KEY = "decoder.upsamples.0.upsamples.0.residual.2.weight"


def is_wan22_original(keys: Any) -> bool:
    """Whether weights with these keys are the Wan 2.2 VAE in Wan's original names."""
    return WAN22_ORIGINAL_KEY in keys


def wan22_vae_to_diffusers(state: Mapping[str, Any]) -> dict[str, Any]:
    """The Wan 2.2 VAE's weights in AutoencoderKLWan's names (see module doc)."""
    from diffusers.loaders.single_file_utils import convert_wan_vae_to_diffusers

    nested, flat = {}, {}
    for key, value in state.items():
        found = _NESTED.match(key)
        if found is None:
            flat[key] = value
            continue
        side, level, index, tail = found.groups()
        encoder = side.startswith("encoder")
        blocks = "encoder.down_blocks" if encoder else "decoder.up_blocks"
        if tail.startswith(("resample.", "time_conv.")):
            nested[f"{blocks}.{level}.{'downsampler' if encoder else 'upsampler'}.{tail}"] = value
            continue
        for old, new in _RESIDUAL:
            if tail.startswith(old):
                tail = new + tail[len(old):]
                break
        nested[f"{blocks}.{level}.resnets.{index}.{tail}"] = value
    return convert_wan_vae_to_diffusers(flat) | nested
