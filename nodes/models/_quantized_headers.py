"""What a quantized weights file stores, read from its header without torch.

Quantized files (fp8 and fp8 "scaled" or int8 safetensors as ComfyUI-era tools write them, GGUF
files as ComfyUI-GGUF loads them) keep their weights in a storage format of their own. NodeFlow
keeps them so in memory and turns each layer's weight into the compute dtype only while the layer
runs (`nodes.models._quantized`). So the memory plan counts them at their stored size, and
validation names a quantization this machine cannot run before anything is loaded.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from stat import S_ISREG
from typing import Any

from nodeflow.core.spec import Weights
from nodes.models._weights import safetensors_header, weight_count

#: safetensors dtypes of weights kept as stored: fp8 (plain or scaled) and int8 (always scaled).
STORED_DTYPES = {"F8_E4M3": 1, "F8_E5M2": 1, "I8": 1, "U8": 1}
#: Key suffixes of the per-tensor (or per-row) scale beside a stored weight: ComfyUI's fp8 scaled
#: files write `<layer>.scale_weight`, newer ones and compressed-tensors `<layer>.weight_scale`.
SCALE_SUFFIXES = (".scale_weight", ".weight_scale")
#: Entries that describe how a file was quantized but hold no weights the model loads: ComfyUI's
#: `scaled_fp8` marker, activation scales (NodeFlow computes activations in the compute dtype).
MARKER_SUFFIXES = ("scaled_fp8", ".scale_input", ".input_scale", ".comfy_quant")
#: The GGML block types diffusers' GGUF support dequantizes
#: (`diffusers.quantizers.gguf.utils.SUPPORTED_GGUF_QUANT_TYPES`, checked equal by the tests).
GGUF_TYPES = frozenset({
    "F32", "F16", "BF16", "Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q8_0", "Q2_K", "Q3_K", "Q4_K", "Q5_K", "Q6_K",
    "IQ4_NL", "IQ4_XS",
})
#: GGML types that are plain floats: loaded in the compute dtype like any unquantized weight.
GGUF_PLAIN = frozenset({"F32", "F16"})
#: Devices whose torch can hold float8 tensors (Apple's MPS cannot).
FP8_DEVICES = ("cpu", "cuda")


@dataclass(frozen=True)
class Storage:
    """How a weights file keeps its tensors."""

    kind: str  # "" (plain floats), "fp8", "fp8_scaled", "int8", "fp4" (packed, unrunnable) or "gguf"
    stored_bytes: int  # bytes held in the storage format (quantized weights and their scales)
    plain_count: int  # weights (elements) loaded in the compute dtype: everything else
    types: tuple[str, ...] = ()  # the storage types present, e.g. ("F8_E4M3",) or ("Q4_K", "Q6_K")

    @property
    def quantized(self) -> bool:
        return bool(self.kind)


def _numel(shape: object) -> int:
    count = 1
    for dim in shape if isinstance(shape, list | tuple) else ():
        count *= int(dim)
    return count


def is_scale_key(key: str) -> bool:
    return key.endswith(SCALE_SUFFIXES)


def is_marker_key(key: str) -> bool:
    return key.endswith(MARKER_SUFFIXES)


def safetensors_storage(header: dict[str, dict]) -> Storage:
    """The storage of a safetensors file from its header entries."""
    stored = plain = 0
    types: set[str] = set()
    scaled = False
    for key, entry in header.items():
        dtype, count = entry.get("dtype"), _numel(entry.get("shape", ()))
        if is_scale_key(key) or is_marker_key(key):
            stored += count * 4
            scaled = scaled or is_scale_key(key)
        elif dtype in STORED_DTYPES and key.endswith(".weight"):
            stored += count * STORED_DTYPES[dtype]
            types.add(dtype)
        else:
            plain += count
    if not types:
        return Storage("", stored, plain)
    # packed 4-bit weights (ComfyUI's NVFP4 files: two values a byte, fp8 block scales) before the rest
    kind = "fp4" if "U8" in types else "int8" if "I8" in types else "fp8_scaled" if scaled else "fp8"
    return Storage(kind, stored, plain, tuple(sorted(types)))


def gguf_storage(path: Path) -> Storage | None:
    """The storage of a GGUF file (None if it cannot be read as one)."""
    from gguf import GGUFReader

    try:
        reader = GGUFReader(path)
    except (OSError, ValueError, KeyError, IndexError, EOFError):
        return None
    stored = plain = 0
    types: set[str] = set()
    for tensor in reader.tensors:
        name = tensor.tensor_type.name
        if name in GGUF_PLAIN:
            plain += int(tensor.n_elements)
        else:
            stored += int(tensor.n_bytes)
            types.add(name)
    return Storage("gguf", stored, plain, tuple(sorted(types)))


def storage(path: Path) -> Storage | None:
    """How the weights file at `path` stores its tensors (None: not a readable weights file)."""
    try:
        if not S_ISREG(path.stat().st_mode):
            return None
    except OSError:
        return None
    if path.suffix.lower() == ".gguf":
        return gguf_storage(path)
    header = safetensors_header(path)
    return safetensors_storage(header) if header else None


def device_problem(found: Storage, device: str) -> str:
    """Why this machine cannot run weights stored as `found` ("" when it can)."""
    if found.kind == "fp4":
        return ("packed 4-bit (NVFP4) weights need NVIDIA's FP4 kernels, which NodeFlow does not have on any "
                "device; use a bf16, fp8 or GGUF file of this model")
    if found.kind == "gguf":
        unknown = sorted(set(found.types) - GGUF_TYPES)
        if unknown:
            return (f"GGUF quantization {', '.join(unknown)} cannot be dequantized here "
                    f"(supported: {', '.join(sorted(GGUF_TYPES - GGUF_PLAIN))})")
    elif found.kind.startswith("fp8") and device.split(":")[0] not in FP8_DEVICES:
        return f"fp8 weights cannot be held on {device} (torch has no float8 there); use a bf16 or GGUF file"
    return ""


def part_weights(path: Path, component: str, output: str) -> list[Weights]:
    """The memory a loader of one model file or folder holds, for the memory plan: quantized
    weights at their stored size, the rest in the device's dtype ([] if it holds nothing)."""
    found = storage(path) if path.is_file() else None
    if found is not None and found.quantized:
        return [Weights(component, output, found.plain_count, stored=found.stored_bytes)]
    count = weight_count(path)
    return [Weights(component, output, count)] if count else []


def part_problems(params: Mapping[str, Any], fields: tuple[str, ...], resolve: Callable[[str], Path],
                  device: str) -> list[tuple[str, str]]:
    """(field, reason) for each model file named in `fields` whose storage `device` cannot run."""
    problems = []
    for field in fields:
        name = params.get(field)
        if not isinstance(name, str) or not name.strip():
            continue
        path = resolve(name)
        found = storage(path) if path.is_file() else None
        reason = device_problem(found, device) if found is not None else ""
        if reason:
            problems.append((field, f"{path.name}: {reason}"))
    return problems


def tensor_shapes(path: Path) -> dict[str, list[int]]:
    """{key: shape as the model sees it} of a .safetensors or .gguf file, read from its header
    ({} if it is neither): what family detection and config reading look at. A GGUF file lists its
    dimensions innermost first; they are turned to torch's order here."""
    if path.suffix.lower() != ".gguf":
        return {k: list(v.get("shape", [])) for k, v in safetensors_header(path).items()}
    from gguf import GGUFReader

    try:
        if not S_ISREG(path.stat().st_mode):
            return {}
        reader = GGUFReader(path)
    except (OSError, ValueError, KeyError, IndexError, EOFError):
        return {}
    return {t.name: [int(d) for d in reversed(t.shape.tolist())] for t in reader.tensors}
