"""Qwen-Image's DiffSynth ControlNets (Comfy-Org/Qwen-Image-DiffSynth-ControlNets: canny, depth and
inpaint, ComfyUI's model_patches folder): DiffSynth-Studio's "block-wise" ControlNet.

diffusers has no class for it; the maths, as DiffSynth-Studio's QwenImagePipeline runs it and ComfyUI
follows it:

- the control picture is encoded by the VAE (the posterior mean, normalised as Qwen-Image's latents
  are); the inpaint file's extra channel is 1 where the picture is kept (1 - mask, resized bilinearly
  to the latent; all ones without a mask). Those latents are packed into 2x2-cell tokens as the
  transformer's are and projected to its width once: c = img_in(pack(latents));
- after transformer block k, the picture's tokens h (not an edit's reference tokens) become
  h + strength * out_k(gelu(in_k(rms_x,k(h) + rms_y,k(c)))), with RMSNorms (eps 1e-6, a learned
  weight) and linear maps of the transformer's width. Block k of the file belongs to layer k (60 in
  the published files, as Qwen-Image has).

The additions are made by forward hooks on the transformer's blocks, attached for one call only, so
the stored transformer is never changed.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Iterator, Mapping
from typing import Any

import torch

from nodeflow.core import NodeError

#: A key only the DiffSynth block-wise ControlNets have (ComfyUI tells them apart by it too).
MARKER = "controlnet_blocks.0.y_rms.weight"
#: Latent channels of Qwen-Image; a file's img_in takes them packed 2x2 (64), plus the inpaint mask's 4.
_PACKED = 64


class _ControlBlock(torch.nn.Module):
    """One block: both streams RMS-normalised, summed, then linear, GELU, linear."""

    def __init__(self, dim: int) -> None:
        super().__init__()
        self.x_rms = torch.nn.RMSNorm(dim, eps=1e-6)
        self.y_rms = torch.nn.RMSNorm(dim, eps=1e-6)
        self.input_proj = torch.nn.Linear(dim, dim)
        self.act = torch.nn.GELU()
        self.output_proj = torch.nn.Linear(dim, dim)

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return self.output_proj(self.act(self.input_proj(self.x_rms(x) + self.y_rms(y))))


class BlockwiseControlNet(torch.nn.Module):
    """The file's modules in its own key names: `img_in` and one `controlnet_blocks` entry per layer."""

    def __init__(self, blocks: int, dim: int, in_features: int) -> None:
        super().__init__()
        self.img_in = torch.nn.Linear(in_features, dim)
        self.controlnet_blocks = torch.nn.ModuleList(_ControlBlock(dim) for _ in range(blocks))

    @property
    def dim(self) -> int:
        return self.img_in.out_features

    @property
    def mask_channels(self) -> int:
        """Latent channels after the picture's: 1 for the inpaint file (its mask), 0 for the others."""
        return (self.img_in.in_features - _PACKED) // 4


@dataclasses.dataclass(eq=False)
class QwenImageControl:
    """A block-wise ControlNet bound to one control picture: its latents [B, C (+1), h, w] and strength."""

    net: BlockwiseControlNet
    latents: Any
    strength: float


def load(name: str, state: Mapping[str, Any], dtype: Any, place: str) -> BlockwiseControlNet:
    """The ControlNet of a DiffSynth file, its sizes read off the tensors."""
    from nodes.models._family_loader import ready
    from nodes.models._quantized import load_into

    dim, features = state["img_in.weight"].shape
    extra = int(features) - _PACKED
    if extra < 0 or extra % 4:
        raise NodeError(f"{name}: its img_in takes {features} features, not Qwen-Image's {_PACKED} packed latent "
                        "channels (plus 4 per mask channel)", "name")
    blocks = len({k.split(".")[1] for k in state if k.startswith("controlnet_blocks.")})
    with torch.device("meta"):
        net = BlockwiseControlNet(blocks, int(dim), int(features))
    net = net.to_empty(device="cpu")
    load_into(net, dict(state), dtype, "name")
    return ready(net.eval(), place)


def accepts(patch: Any) -> bool:
    return isinstance(patch, BlockwiseControlNet)


def bind(model: Any, net: BlockwiseControlNet, encode: Any, strength: float, mask: Any) -> QwenImageControl:
    """The ControlNet with its picture's latents (`encode()`: the VAE's, called once the inputs are checked)
    and keep-mask channel, refused in one line when it does not fit the transformer."""
    import torch.nn.functional as F

    layers = len(model.unet.transformer_blocks)
    width = int(model.unet.config.num_attention_heads) * int(model.unet.config.attention_head_dim)
    if net.dim != width or len(net.controlnet_blocks) < layers:
        raise NodeError(f"this ControlNet ({net.dim} wide, {len(net.controlnet_blocks)} blocks) does not fit the "
                        f"transformer ({width} wide, {layers} layers)", "model_patch")
    if mask is not None and not net.mask_channels:
        raise NodeError("a mask is for the inpaint ControlNet (qwen_image_inpaint_diffsynth_controlnet); this one "
                        "takes none", "mask")
    latents = encode()
    if latents.dim() == 5:  # the video VAE's one frame
        latents = latents[:, :, 0]
    if net.mask_channels:
        if mask is None:
            keep = torch.ones_like(latents[:, :1])
        else:
            keep = 1.0 - mask.reshape(-1, 1, *mask.shape[-2:]).to(latents.device, torch.float32)
            keep = F.interpolate(keep, size=latents.shape[-2:], mode="bilinear", align_corners=False)
            keep = keep.to(latents.dtype)
        latents = torch.cat([latents, keep.expand(latents.shape[0], -1, -1, -1)], dim=1)
    return QwenImageControl(net, latents, float(strength))


@contextlib.contextmanager
def attached(model: Any, packed: Any, count: int) -> Iterator[None]:
    """The ControlNet's additions on the first `count` tokens after each transformer block, for the calls
    made inside; `packed` is the control latents in 2x2-cell tokens (the adapter's `pack`)."""
    control = model.control
    net = control.net
    weight = net.img_in.weight
    with torch.no_grad():
        cond = net.img_in(packed.to(device=weight.device, dtype=weight.dtype))

    def hook(index: int) -> Any:
        block = net.controlnet_blocks[index]

        def add(module: Any, args: Any, kwargs: Any, output: tuple[Any, Any]) -> tuple[Any, Any]:
            text, hidden = output
            picture = hidden[:, :count]
            rows = torch.arange(picture.shape[0], device=cond.device) % cond.shape[0]
            extra = block(picture.to(weight.dtype), cond[rows]) * control.strength
            return text, torch.cat([picture + extra.to(hidden.dtype), hidden[:, count:]], dim=1)

        return add

    handles = [layer.register_forward_hook(hook(i), with_kwargs=True)
               for i, layer in enumerate(model.unet.transformer_blocks)]
    try:
        yield
    finally:
        for handle in handles:
            handle.remove()
