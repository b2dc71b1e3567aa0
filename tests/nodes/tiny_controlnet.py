"""A tiny random ControlNet made from a tiny model's UNet, written as a diffusers folder."""

from __future__ import annotations

from pathlib import Path


def build_controlnet(model: Path, folder: Path, seed: int = 0, channels: tuple[int, ...] = (8, 16)) -> Path:
    """diffusers' `ControlNetModel.from_unet`, then random (not zero) output convolutions, so the
    ControlNet's residuals are large enough to change the picture."""
    import torch
    from diffusers import ControlNetModel, UNet2DConditionModel

    unet = UNet2DConditionModel.from_pretrained(model, subfolder="unet", local_files_only=True)
    torch.manual_seed(seed)
    net = ControlNetModel.from_unet(unet, conditioning_embedding_out_channels=channels)
    with torch.no_grad():
        for module in [*net.controlnet_down_blocks, net.controlnet_mid_block, net.controlnet_cond_embedding.conv_out]:
            module.weight.normal_(0.0, 0.3)
            module.bias.normal_(0.0, 0.1)
    net.save_pretrained(folder)
    return folder
