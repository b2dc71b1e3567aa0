"""Qwen Image 2.1's prefix key/value cache, kept where and how QwenImage21Cache says.

The transformer's text and reference tokens attend only to what comes before them (and within
their own picture), and with `causal_condition` they are modulated as at t = 0, so their keys and
values are the same at every step: the first call computes and stores them ("extract"), later
calls compute only the picture's tokens and attend to the stored prefix ("cached"), as
QwenImage21Pipeline does with diffusers' QwenImage21KVCache. This module is that cache with the
storage choice QwenImage21Cache makes (`nodes.qwen_image21.nodes`):

- device: "auto" keeps it beside the model on a GPU while it fits in half the free memory, else
  in RAM; "gpu" beside the model; "cpu" in RAM (moved to the model for each step); "off" keeps no
  cache (every step recomputes the prefix, the pipeline's use_kv_cache=False).
- dtype: "default" stores the tensors as computed (lossless); "int8" stores them as int8 with one
  scale per token and head (half of bf16's bytes); "int4" as two 4-bit values a byte (a quarter).
"""

from __future__ import annotations

from typing import Any

import torch
from diffusers.models.transformers.transformer_qwenimage21 import QwenImage21KVCache, QwenImage21KVLayerCache


def _quantize(x: torch.Tensor, bits: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Symmetric per-(token, head) quantization over the head's features: (codes, scale)."""
    top = 2 ** (bits - 1) - 1
    scale = x.float().abs().amax(dim=-1, keepdim=True).clamp_min(1e-12) / top
    codes = torch.round(x.float() / scale).clamp(-top, top).to(torch.int8)
    if bits == 4:  # two signed nibbles a byte: the even feature low, the odd one high
        low, high = (codes[..., 0::2] & 0x0F), (codes[..., 1::2] & 0x0F)
        codes = (low | (high << 4)).to(torch.uint8)
    return codes, scale


def _dequantize(codes: torch.Tensor, scale: torch.Tensor, bits: int, dtype: torch.dtype) -> torch.Tensor:
    if bits == 4:
        low = (codes & 0x0F).to(torch.int8)
        high = (codes >> 4).to(torch.int8)
        low, high = torch.where(low > 7, low - 16, low), torch.where(high > 7, high - 16, high)
        codes = torch.stack([low, high], dim=-1).flatten(-2)
    return (codes.float() * scale.float()).to(dtype)


class _StoredLayer(QwenImage21KVLayerCache):
    """One block's prefix keys and values, stored on `place` in `bits` (0: as computed)."""

    def __init__(self, device: str, bits: int) -> None:
        super().__init__()
        self.device_choice, self.bits = device, bits
        self.home: torch.device | None = None
        self.dtype: torch.dtype | None = None

    def _place(self, tensor: torch.Tensor) -> torch.device:
        if self.device_choice == "cpu" or tensor.device.type == "cpu":
            return torch.device("cpu")
        if self.device_choice == "auto" and tensor.device.type == "cuda":
            free, _ = torch.cuda.mem_get_info(tensor.device)
            if tensor.numel() * tensor.element_size() * 2 > free // 2:
                return torch.device("cpu")
        return tensor.device

    def _stored(self, tensor: torch.Tensor) -> Any:
        place = self._place(tensor)
        if self.bits:
            codes, scale = _quantize(tensor, self.bits)
            return codes.to(place), scale.to(place)
        return tensor.to(place)

    def _back(self, stored: Any) -> torch.Tensor:
        if self.bits:
            codes, scale = stored
            return _dequantize(codes.to(self.home), scale.to(self.home), self.bits, self.dtype)
        return stored.to(self.home, non_blocking=True)

    def store(self, k: torch.Tensor, v: torch.Tensor) -> None:
        self.home, self.dtype = k.device, k.dtype
        self.k, self.v = self._stored(k), self._stored(v)

    def get(self) -> tuple[torch.Tensor, torch.Tensor]:
        if self.k is None:
            raise RuntimeError("the prefix cache was read before the first step filled it")
        return self._back(self.k), self._back(self.v)


class StoredPrefixCache(QwenImage21KVCache):
    """diffusers' prefix cache for every block, each stored as `device` and `dtype` say."""

    def __init__(self, num_layers: int, device: str = "auto", dtype: str = "default") -> None:
        bits = {"default": 0, "int8": 8, "int4": 4}[dtype]
        self.layer_caches = [_StoredLayer(device, bits) for _ in range(num_layers)]


def prefix_cache(model: Any) -> StoredPrefixCache | None:
    """The cache a run of `model` keeps (None: "off", or a transformer without causal_condition,
    whose prefix depends on the step)."""
    device, dtype = model.prefix_cache or ("auto", "default")
    if device == "off" or not getattr(model.unet.config, "causal_condition", False):
        return None
    return StoredPrefixCache(len(model.unet.transformer_blocks), device, dtype)
