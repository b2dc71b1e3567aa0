"""ConvRot int8 weights: ComfyUI's `int8_tensorwise` layers stored in a rotated basis.

Such a layer's `.comfy_quant` entry (JSON bytes) says `"convrot": true` and a group size G (a
power of 4, commonly 256). The weight was rotated before it was quantized: every contiguous group
of G input features multiplied by the normalised regular Hadamard matrix H_G, the Kronecker power
of H4 = [[1, 1, 1, -1], [1, 1, -1, 1], [1, -1, 1, 1], [-1, 1, 1, 1]] / 2, and the runtime rotates
the activations the same way (x H)(W H)^T = x W^T, as H_G is orthogonal. H_G is also symmetric,
so the stored weight times H_G, group by group, is the layer's own weight: that is how NodeFlow
dequantizes it (ConvRot, arXiv:2512.03673; the file format as stable-diffusion.cpp's
docs/int8_convrot.md describes ComfyUI's). The storage kind of such a weight is "int8+rot<G>".
"""

from __future__ import annotations

import json
from typing import Any

from nodeflow.core import NodeError
from nodes._lazy import lazy

torch = lazy("torch")

PREFIX = "int8+rot"


def hadamard(size: int) -> Any:
    """The normalised regular Hadamard matrix of `size` (a power of 4), float32."""
    base = torch.tensor([[1, 1, 1, -1], [1, 1, -1, 1], [1, -1, 1, 1], [-1, 1, 1, 1]], dtype=torch.float32) / 2
    matrix = torch.ones((1, 1), dtype=torch.float32)
    while matrix.shape[0] < size:
        matrix = torch.kron(matrix, base)
    if matrix.shape[0] != size:
        raise NodeError(f"a ConvRot group size of {size} is not a power of 4")
    return matrix


def stored_kind(config_bytes: Any, key: str, in_features: int) -> str:
    """The storage kind of an int8 weight from its layer's `.comfy_quant` bytes: "int8", or
    "int8+rot<G>" for a ConvRot layer (its group size checked against the weight's input width)."""
    try:
        config = json.loads(bytes(config_bytes.flatten().tolist()).decode("utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise NodeError(f"{key}: its .comfy_quant entry is not JSON ({exc})") from None
    if not config.get("convrot"):
        return "int8"
    group = int(config.get("convrot_groupsize", 256))
    if group <= 0 or in_features % group:
        raise NodeError(f"{key}: a ConvRot group size of {group} does not divide its {in_features} input features")
    hadamard(group)  # a group size that is not a power of 4 is refused here
    return f"{PREFIX}{group}"


def unrotate(weight: Any, kind: str) -> Any:
    """A dequantized ConvRot weight [out, in] back in the layer's own basis (see module doc)."""
    group = int(kind[len(PREFIX):])
    matrix = hadamard(group).to(device=weight.device, dtype=weight.dtype)
    out, width = weight.shape
    return (weight.reshape(out, width // group, group) @ matrix).reshape(out, width)
