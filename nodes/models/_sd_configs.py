"""The configs NodeFlow ships for Stable Diffusion's UNets, and which one a set of weights takes.

A single file (checkpoint, UNet or ControlNet) carries no config. Which SD its weights are is
`core.family_detection.sd_architecture`'s answer, the rule the model library files it by too; this
maps that answer to the folder under `resources/configs/` the loaders hand diffusers. Plain data,
no torch, so the memory estimate (`_weights.native_side`) reads the same table.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from nodeflow.core import NodeError
from nodeflow.core.family_detection import SdArchitecture, sd_architecture

#: Which SD (`sd_architecture`) -> its shipped config folder under resources/configs/.
SD_CONFIGS = {
    SdArchitecture("sd1", False): "sd15",
    SdArchitecture("sd1", True): "sd15-inpainting",
    SdArchitecture("sd2", False): "sd21",
    SdArchitecture("sd2", True): "sd2-inpainting",
    SdArchitecture("sdxl", False): "sdxl",
}


def sd_config(tensors: Mapping[str, Any]) -> str:
    """The shipped config folder for the SD UNet in these {key: tensor} (anything with a `shape`),
    or a one-line refusal of an SD no shipped config serves."""
    sd = sd_architecture({key: tuple(value.shape) for key, value in tensors.items()})
    if sd not in SD_CONFIGS:
        raise NodeError(f"unsupported single-file checkpoint architecture '{sd.generation}"
                        f"{' inpainting' if sd.inpainting else ''}' "
                        f"(supported: {', '.join(sorted(SD_CONFIGS.values()))})", "checkpoint")
    return SD_CONFIGS[sd]
