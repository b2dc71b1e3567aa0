"""Quantized weights as a storage format: read as stored, computed in the compute dtype.

Three storage formats reach NodeFlow from ComfyUI users' folders:

- **fp8** safetensors (`F8_E4M3` / `F8_E5M2` weights), optionally **scaled**: a per-tensor (or
  per-row) `<layer>.scale_weight` or `<layer>.weight_scale` beside each weight, so that
  weight = stored * scale;
- **int8** safetensors: `I8` weights, always with such a scale; ComfyUI's ConvRot layers (their
  `.comfy_quant` entry says so) are stored rotated and turned back as they are dequantized
  (`nodes.models._convrot`);
- **GGUF** (the `gguf` package reads it; diffusers' GGUF support dequantizes its block types).

`read_state_dict` returns a state dict whose quantized weights are `StoredWeight`s (fp8/int8) or
diffusers' `GGUFParameter`s. Both are tensor subclasses that keep their storage facts through the
reshapes and splits a key conversion does (diffusers' converters from original key names), so a
file with ComfyUI's key names goes through the same converters as a plain one. `load_into` then
puts them in a model: each `nn.Linear` whose weight is stored becomes a `StoredLinear` that keeps
the stored bytes and dequantizes its weight to the compute dtype for each call; other stored
tensors (embeddings, convolutions) are dequantized once at load. How much memory that is, read
without torch, is `nodes.models._quantized_headers`.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from nodeflow.core import NodeError
from nodes._lazy import lazy
from nodes.models import _convrot
from nodes.models._quantized_headers import STORED_DTYPES, is_marker_key, is_scale_key

torch = lazy("torch")

#: safetensors dtype name -> torch dtype name, for the stored formats.
_TORCH_DTYPES = {"F8_E4M3": "float8_e4m3fn", "F8_E5M2": "float8_e5m2", "I8": "int8"}


def _stored_weight_class() -> type:
    """`StoredWeight`, defined on first use (it subclasses torch.Tensor, and torch loads lazily)."""
    global StoredWeight
    if "StoredWeight" in globals():
        return StoredWeight

    class _StoredWeight(torch.Tensor):
        """An fp8 or int8 weight as stored, with its scale (weight = stored * scale).

        Raw fp8 bytes are held as uint8, so that `module.to(dtype)` never casts them; `stored`
        names the real dtype. Reshapes, splits and concatenations keep the scale (a per-row scale
        only while the rows stay together, or split and joined with them: `_along_rows`); a cast
        is refused: it would read the bytes as numbers.
        """

        @staticmethod
        def __new__(cls, data: Any, stored: str, scale: Any) -> Any:
            self = torch.Tensor._make_subclass(cls, data, False)
            self.stored = stored
            self.scale = scale
            return self

        def as_tensor(self) -> Any:
            return torch.Tensor._make_subclass(torch.Tensor, self, False)

        @classmethod
        def __torch_function__(cls, func: Any, types: Any, args: tuple = (), kwargs: Any = None) -> Any:
            rows = _along_rows(func, args, kwargs or {}, cls)
            if rows is not None:
                return rows
            with torch._C.DisableTorchFunctionSubclass():
                result = func(*args, **(kwargs or {}))
            source = _first_stored(args)
            return result if source is None else _rewrap(result, source, cls)

    StoredWeight = _StoredWeight
    return StoredWeight


StoredWeight: Any  # the class, once `_stored_weight_class()` has made it


def _first_stored(args: Any) -> Any:
    """The stored weight among an op's arguments (one level into lists: `torch.cat`'s), None if
    there is none; several must share one scale, or joining them would change their values."""
    found = [a for arg in args for a in (arg if isinstance(arg, list | tuple) else (arg,)) if hasattr(a, "stored")]
    for other in found[1:]:
        if other.stored != found[0].stored or not torch.equal(other.scale, found[0].scale):
            raise NodeError("weights stored with different scales cannot be joined while they stay quantized")
    return found[0] if found else None


def _along_rows(func: Any, args: tuple, kwargs: dict, cls: type) -> Any:
    """A per-row scaled weight split into row blocks (chunk, split) or row blocks joined (cat), with
    their scales split and joined alike: what converters do to fused q/k/v and gate/up projections.
    None for any other operation."""
    name = getattr(func, "__name__", "")
    if name in ("chunk", "split"):
        source, rest = args[0], args[1:]
        dim = kwargs.get("dim", rest[1] if len(rest) > 1 else 0)
        if not hasattr(source, "stored") or source.scale.numel() <= 1 or dim != 0:
            return None
        with torch._C.DisableTorchFunctionSubclass():
            pieces = func(source, rest[0], dim=0)
            scales = func(source.scale, rest[0], dim=0)
        return tuple(cls(p, source.stored, q) for p, q in zip(pieces, scales, strict=True))
    if name in ("cat", "concat", "concatenate") and isinstance(args[0], list | tuple):
        pieces = list(args[0])
        dim = kwargs.get("dim", args[1] if len(args) > 1 else 0)
        if dim != 0 or not pieces or not all(hasattr(p, "stored") and p.scale.numel() > 1 for p in pieces):
            return None
        if len({p.stored for p in pieces}) != 1:
            raise NodeError("weights stored in different formats cannot be joined while they stay quantized")
        with torch._C.DisableTorchFunctionSubclass():
            data = torch.cat([p.as_tensor() for p in pieces], dim=0)
        return cls(data, pieces[0].stored, torch.cat([p.scale for p in pieces]))
    return None


def _rewrap(result: Any, source: Any, cls: type) -> Any:
    if isinstance(result, torch.Tensor):
        if result.dtype != source.dtype:
            raise NodeError(f"a {source.stored} weight cannot be cast to {result.dtype} while it stays quantized")
        if source.scale.numel() > 1 and (result.dim() == 0 or result.shape[0] != source.shape[0]):
            raise NodeError(f"a per-row scaled weight of shape {tuple(source.shape)} cannot be split or "
                            "joined along its rows while it stays quantized")
        return cls(result, source.stored, source.scale)
    if isinstance(result, list | tuple) and any(isinstance(r, torch.Tensor) for r in result):
        return type(result)(_rewrap(r, source, cls) for r in result)
    return result


def make_stored(data: Any, stored: str, scale: Any = None) -> Any:
    """A `StoredWeight` holding `data` (an fp8 or int8 tensor) with `scale` (1 when None)."""
    cls = _stored_weight_class()
    scale = torch.ones((), dtype=torch.float32) if scale is None else scale.to(torch.float32)
    if data.dtype.is_floating_point:
        data = data.view(torch.uint8)
    return cls(data, stored, scale)


def is_stored(value: Any) -> bool:
    """Whether a state-dict value is a quantized weight (fp8/int8 stored, or GGUF blocks)."""
    return hasattr(value, "stored") or hasattr(value, "quant_type")


def _plain(value: Any) -> Any:
    return value.as_tensor() if hasattr(value, "as_tensor") else value


def dequantize_raw(raw: Any, kind: str, scale: Any, dtype: Any) -> Any:
    """Stored bytes `raw` of storage `kind` ("float8_e4m3fn", "float8_e5m2", "int8", ConvRot's
    "int8+rot<G>" or a GGML type number as "gguf:<n>") as values in `dtype`."""
    if kind.startswith("gguf:"):
        from diffusers.quantizers.gguf.utils import GGUFParameter, dequantize_gguf_tensor

        return dequantize_gguf_tensor(GGUFParameter(raw, quant_type=int(kind[5:]))).to(dtype)
    values = raw if kind.startswith("int8") else raw.view(getattr(torch, kind))
    scale = scale.to(device=raw.device)
    if scale.numel() > 1:
        scale = scale.reshape(-1, *([1] * (raw.dim() - 1)))
    weight = values.to(torch.float32) * scale
    if kind.startswith(_convrot.PREFIX):
        weight = _convrot.unrotate(weight, kind)
    return weight.to(dtype)


def storage_kind(value: Any) -> str:
    """The storage kind of a quantized state-dict value (see `dequantize_raw`)."""
    return value.stored if hasattr(value, "stored") else f"gguf:{int(value.quant_type)}"


def dequantize(value: Any, dtype: Any) -> Any:
    """A state-dict value's values in `dtype`: stored weights dequantized, plain ones cast."""
    if not is_stored(value):
        return value.to(dtype)
    return dequantize_raw(_plain(value), storage_kind(value), getattr(value, "scale", None), dtype)


def stored_nbytes(value: Any) -> int:
    """Bytes a state-dict value holds as stored (with its scale)."""
    scale = getattr(value, "scale", None)
    return value.numel() * value.element_size() + (0 if scale is None else scale.numel() * 4)


def read_state_dict(path: Path, field: str) -> dict[str, Any]:
    """Every tensor of a .safetensors or .gguf file, quantized ones as stored (see module doc).

    Scale entries are folded into their weights and quantization markers dropped. Errors are one
    line naming `field`.
    """
    try:
        if path.suffix.lower() == ".gguf":
            return _read_gguf(path)
        return _read_safetensors(path)
    except NodeError as exc:
        raise NodeError(str(exc), field) from None
    except (OSError, ValueError, KeyError, RuntimeError, EOFError) as exc:
        raise NodeError(f"cannot read {path.name}: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}",
                        field) from None


def _read_gguf(path: Path) -> dict[str, Any]:
    from diffusers.models.model_loading_utils import load_gguf_checkpoint

    return load_gguf_checkpoint(str(path))


def _read_safetensors(path: Path) -> dict[str, Any]:
    from safetensors import safe_open

    from nodes.models._weights import safetensors_header

    header = safetensors_header(path)
    if not header:
        raise NodeError(f"{path.name} is not a safetensors file")
    stored_keys = {k for k, e in header.items() if e.get("dtype") in STORED_DTYPES and k.endswith(".weight")}
    state: dict[str, Any] = {}
    with safe_open(str(path), framework="pt") as handle:
        for key in handle.keys():  # noqa: SIM118 - safe_open has no iterator
            if is_scale_key(key) or is_marker_key(key):
                continue
            tensor = handle.get_tensor(key)
            if key in stored_keys:
                scale = _scale_of(handle, header, key)
                dtype = header[key]["dtype"]
                if dtype not in _TORCH_DTYPES:  # packed 4-bit: validation refuses the file first
                    raise NodeError(f"{path.name}: {key} is packed 4-bit (NVFP4), which NodeFlow cannot compute")
                if dtype == "I8" and scale is None:
                    raise NodeError(f"{path.name}: int8 weight {key} has no scale beside it")
                kind = _TORCH_DTYPES[dtype]
                marker = key[: -len("weight")] + "comfy_quant"
                if dtype == "I8" and marker in header:  # ComfyUI's per-layer format: ConvRot or plain
                    kind = _convrot.stored_kind(handle.get_tensor(marker), key, int(tensor.shape[-1]))
                tensor = make_stored(tensor, kind, scale)
            state[key] = tensor
    return state


def _scale_of(handle: Any, header: Mapping[str, Any], key: str) -> Any:
    layer = key[: -len("weight")]
    for name in (layer + "scale_weight", layer + "weight_scale"):
        if name in header:
            return handle.get_tensor(name).reshape(-1)
    return None


def _stored_linear_class() -> type:
    """`StoredLinear`, defined on first use (torch loads lazily)."""
    global StoredLinear
    if "StoredLinear" in globals():
        return StoredLinear

    class _StoredLinear(torch.nn.Module):
        """A linear layer whose weight stays stored (fp8, int8 or GGUF blocks, a byte-typed
        buffer that `.to(dtype)` leaves alone) and is dequantized to the compute dtype for each
        call: the memory holds the stored bytes, the maths is the compute dtype's."""

        def __init__(self, weight: Any, bias: Any, in_features: int, out_features: int, compute_dtype: Any) -> None:
            super().__init__()
            self.in_features, self.out_features = in_features, out_features
            self.compute_dtype = compute_dtype
            self.kind = storage_kind(weight)
            self.register_buffer("qweight", _plain(weight))
            scale = getattr(weight, "scale", None)
            self.register_buffer("scale", None if scale is None else scale.clone())
            self.bias = None if bias is None else torch.nn.Parameter(bias.to(compute_dtype), requires_grad=False)

        @property
        def weight(self) -> Any:
            """The weight in the compute dtype (made on each read, for code that asks a layer's
            weight for its dtype or device)."""
            return dequantize_raw(self.qweight, self.kind, self.scale, self.compute_dtype)

        def forward(self, x: Any) -> Any:
            return torch.nn.functional.linear(x.to(self.compute_dtype), self.weight, self.bias)

        def extra_repr(self) -> str:
            return f"in_features={self.in_features}, out_features={self.out_features}, stored={self.kind}"

    StoredLinear = _StoredLinear
    return StoredLinear


StoredLinear: Any  # the class, once `_stored_linear_class()` has made it


def load_into(model: Any, state: dict[str, Any], compute_dtype: Any, field: str, extra: str = "refuse") -> Any:
    """Load `state` (diffusers or transformers key names of `model`) into `model`, keeping stored
    weights of linear layers stored (see module doc). Every parameter must be in `state` (or tied
    to one that is); tensors the model lacks are an error, or left out with `extra="ignore"`."""
    linear_cls = _stored_linear_class()
    state = dict(state)
    for name, module in list(model.named_modules()):
        for child_name, child in list(module.named_children()):
            key = f"{name}.{child_name}" if name else child_name
            weight = state.get(key + ".weight")
            if isinstance(child, torch.nn.Linear) and weight is not None and is_stored(weight):
                bias = state.pop(key + ".bias", None)
                if tuple(_logical_shape(weight)) != (child.out_features, child.in_features):
                    raise NodeError(f"{key}.weight has shape {tuple(_logical_shape(weight))}, the model expects "
                                    f"{(child.out_features, child.in_features)}", field)
                setattr(module, child_name, linear_cls(state.pop(key + ".weight"), bias, child.in_features,
                                                       child.out_features, compute_dtype))
    plain = {k: dequantize(v, compute_dtype) if is_stored(v) else v.to(compute_dtype) if v.is_floating_point() else v
             for k, v in state.items()}
    own = dict(model.state_dict(keep_vars=True))
    if extra == "ignore":
        plain = {k: v for k, v in plain.items() if k in own}
    wrong = next((k for k, v in plain.items() if k in own and own[k] is not None and own[k].shape != v.shape), None)
    if wrong is not None:
        raise NodeError(f"{wrong} has shape {tuple(plain[wrong].shape)}, the model expects {tuple(own[wrong].shape)}",
                        field)
    result = model.load_state_dict(plain, strict=False, assign=True)
    if hasattr(model, "tie_weights"):
        model.tie_weights()  # a language model's head shares its embedding when its config says so
    own = dict(model.state_dict(keep_vars=True))
    missing = [k for k in result.missing_keys if own[k] is not None and own[k].is_meta]
    if missing:
        raise NodeError(f"the weights lack {len(missing)} tensor(s) the model needs, e.g. {missing[0]}", field)
    if result.unexpected_keys:
        raise NodeError(f"the weights hold {len(result.unexpected_keys)} tensor(s) the model does not have, "
                        f"e.g. {result.unexpected_keys[0]}", field)
    return model.requires_grad_(False)


def _logical_shape(value: Any) -> tuple[int, ...]:
    """A stored weight's shape as the model sees it (GGUF holds bytes per row)."""
    return tuple(getattr(value, "quant_shape", value.shape))


def load_diffusers_model(class_name: str, config: Mapping[str, Any], state: dict[str, Any], compute_dtype: Any,
                         field: str) -> Any:
    """A diffusers model of `class_name` built from `config`, with `state` in diffusers' key names
    or in the original ones that diffusers' single-file converter of that class knows (ComfyUI's
    files), quantized weights kept stored. Built on the meta device: no weight is made twice."""
    import diffusers
    from accelerate import init_empty_weights
    from diffusers.loaders.single_file_model import SINGLE_FILE_LOADABLE_CLASSES

    with init_empty_weights():
        model = getattr(diffusers, class_name).from_config(dict(config))
    if not set(model.state_dict()) <= set(state):
        entry = SINGLE_FILE_LOADABLE_CLASSES.get(class_name)
        if entry is None:
            raise NodeError(f"the weights do not use {class_name}'s key names, and diffusers has no converter "
                            "from another naming for it", field)
        try:
            state = entry["checkpoint_mapping_fn"](checkpoint=dict(state), config=model.config)
        except (KeyError, ValueError, RuntimeError) as exc:
            raise NodeError(f"the weights are not a {class_name} ({type(exc).__name__}: {exc})", field) from None
    return load_into(model, state, compute_dtype, field)


#: ComfyUI's UNETLoader weight_dtype -> the stored kind its linear weights are kept in.
WEIGHT_DTYPES = {"default": None, "fp8_e4m3fn": "float8_e4m3fn", "fp8_e4m3fn_fast": "float8_e4m3fn",
                 "fp8_e5m2": "float8_e5m2"}


def store_linears(model: Any, weight_dtype: str, compute_dtype: Any) -> Any:
    """Keep every plain linear layer's weight stored in `weight_dtype` (ComfyUI's UNETLoader choice:
    fp8 storage, computed in the compute dtype); "default" leaves the model as it is."""
    kind = WEIGHT_DTYPES[weight_dtype]
    if kind is None:
        return model
    linear_cls = _stored_linear_class()
    for module in list(model.modules()):
        for name, child in list(module.named_children()):
            if type(child) is torch.nn.Linear:
                weight = make_stored(child.weight.detach().to(getattr(torch, kind)), kind)
                setattr(module, name, linear_cls(weight, child.bias, child.in_features, child.out_features,
                                                 compute_dtype))
    return model
