"""ControlNet on conditioning: what Apply ControlNet attaches to a prompt, and the residuals it adds.

A `Control` travels inside a CondEntry (`controls`). While that prompt is used, the ControlNet
sees the same latents, timestep and text as the UNet plus the control picture, and its residuals
(times `strength`) are added to the UNet's skip connections, as diffusers'
StableDiffusionControlNetPipeline does: the picture is taken as [0, 1] RGB (not normalised),
repeated for the batch, and for a batched [negative, positive] call the ControlNet runs on the
same batch.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from nodes._lazy import lazy

torch = lazy("torch")


@dataclass(eq=False)
class Control:
    """One ControlNet with its picture, strength and active part of the schedule (fractions)."""

    net: Any  # diffusers ControlNetModel
    image: Any  # IMAGE [B, H, W, 3] in [0, 1]
    strength: float
    start: float = 0.0
    end: float = 1.0
    #: The picture as latents, for ControlNets that read it so (Qwen-Image's InstantX: `nodes.qwen_image._instantx`).
    latents: Any = None


def control_rows(control: Control, rows: int, height: int, width: int, box: tuple[int, int, int, int] | None,
                 device: str, dtype: Any) -> Any:
    """The control picture as the ControlNet's input for `rows` latents of a (height, width)-pixel
    picture, cut to `box` (top, bottom, left, right, pixels) when the prompt has an area."""
    from nodes.image._resize import fit_image

    image = control.image
    if tuple(image.shape[1:3]) != (height, width):
        image = fit_image(image, height, width)
    pixels = image[..., :3].permute(0, 3, 1, 2)  # channels-last view, as diffusers' processor makes it
    if box is not None:
        top, bottom, left, right = box
        pixels = pixels[..., top:bottom, left:right]
    if pixels.shape[0] == 1:
        pixels = pixels.repeat_interleave(rows, dim=0)
    elif pixels.shape[0] != rows:
        pixels = pixels.repeat(-(-rows // pixels.shape[0]), 1, 1, 1)[:rows]
    return pixels.to(device=device, dtype=dtype)


def residuals(parts: list[tuple[tuple[Control, ...], int]], x: Any, t: Any, context: Any, added: Any,
              size: tuple[int, int], box: tuple[int, int, int, int] | None, active: Any) -> Any:
    """Summed (down, mid) residuals for a batched model call, or None when no control applies.

    `parts` lists, in batch order, each part's controls and its row count; `active(control)` says
    whether a control is in its time range now.
    A control shared by every part runs once on the whole batch at its strength (the pipeline's
    call); otherwise it runs on the whole batch and rows that do not use it get a zero scale.
    """
    height, width = size
    distinct: list[Control] = []
    for controls, _ in parts:
        for control in controls:
            if control not in distinct and active(control):
                distinct.append(control)
    if not distinct:
        return None
    total_down, total_mid = None, None
    for control in distinct:
        images = []
        scales = []
        for controls, rows in parts:
            images.append(control_rows(control, rows, height, width, box, x.device, control.net.dtype))
            scales += [float(control.strength) if control in controls else 0.0] * rows
        image = images[0] if len(images) == 1 else torch.cat(images)
        uniform = len(set(scales)) == 1
        scale = scales[0] if uniform else 1.0
        down, mid = control.net(x.to(control.net.dtype), t, encoder_hidden_states=context.to(control.net.dtype),
                                controlnet_cond=image, conditioning_scale=scale, guess_mode=False,
                                added_cond_kwargs=added, return_dict=False)
        if not uniform:
            weights = torch.tensor(scales, dtype=mid.dtype, device=mid.device)[:, None, None, None]
            down = [d * weights for d in down]
            mid = mid * weights
        if total_down is None:
            total_down, total_mid = list(down), mid
        else:
            total_down = [a + b for a, b in zip(total_down, down, strict=True)]
            total_mid = total_mid + mid
    return total_down, total_mid


def load_controlnet(path: Any, device: str, dtype: Any, place: str | None = None) -> Any:
    """A diffusers ControlNetModel from a diffusers folder or a single file, its weights at `place`
    (default: `device`); a Qwen-Image InstantX file is a QwenImageControlNetModel (`nodes.qwen_image._instantx`).

    A single file carries no config; it is made from the shipped UNet config of the SD its weights
    show (`nodes.models._sd_configs.sd_config`, as for a UNet), the way diffusers' `ControlNetModel.from_unet`
    derives one, then diffusers converts the weights.
    """
    from diffusers import ControlNetModel, UNet2DConditionModel
    from diffusers.loaders.single_file_utils import convert_controlnet_checkpoint

    from nodeflow.core import NodeError
    from nodes.models import _checkpoint
    from nodes.models._sd_configs import sd_config
    from nodes.qwen_image import _instantx

    if path.is_file() and path.suffix.lower() == ".safetensors" and _instantx.is_instantx(_keys(path)):
        return _instantx.load(path, dtype, place or device)
    try:
        if path.is_dir():
            net = ControlNetModel.from_pretrained(path, torch_dtype=dtype, local_files_only=True)
        else:
            state = _checkpoint.read_state_dict(path)
            config = UNet2DConditionModel.load_config(_checkpoint.configs_dir() / sd_config(state),
                                                      subfolder="unet")
            with torch.device("meta"):
                shape = UNet2DConditionModel.from_config(config)
            net = ControlNetModel.from_unet(shape, load_weights_from_unet=False)
            converted = {k: v for k, v in convert_controlnet_checkpoint(state, net.config).items() if v is not None}
            missing, unexpected = net.load_state_dict(converted, strict=False)
            if missing:
                raise NodeError(f"{path.name} is not a ControlNet for this architecture (missing e.g. "
                                f"{missing[0]})", "control_net")
            net.to(dtype=dtype)
    except NodeError as exc:
        raise NodeError(str(exc), "control_net") from None
    except (OSError, ValueError, KeyError, RuntimeError) as exc:
        raise NodeError(f"cannot load {path.name} as a ControlNet: {exc}", "control_net") from None
    from nodes.models._precision import settle

    return settle(net, place or device)


def _keys(path: Any) -> set[str]:
    """A file's tensor names (none when it is not a readable safetensors file: the loader then says why)."""
    from safetensors import SafetensorError, safe_open

    try:
        with safe_open(str(path), framework="pt") as handle:
            return set(handle.keys())
    except (OSError, ValueError, RuntimeError, SafetensorError):
        return set()
