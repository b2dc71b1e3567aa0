"""Real-size model files without weights, for planning memory at the sizes users' files have.

Each family's parts are built on the meta device from the configs NodeFlow ships
(`resources/configs/<family>/`, the published config.json numbers; resources/configs/README.md names
where each comes from) and written as files that hold only their tensor tables: a safetensors header
(the plan reads nothing else) or a GGUF file whose data is a hole (a sparse file: no disk used). The
dtypes are those of the files ComfyUI's official templates name; the sizes those templates print for
them (in GiB) are in `TEMPLATE_GIB`, so a test can check the built files against the published ones.
"""

from __future__ import annotations

import json
import struct
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CONFIGS = ROOT / "resources" / "configs"
GIB = 1024 ** 3
#: Bytes per element of the safetensors dtypes written here.
DTYPE_BYTES = {"BF16": 2, "F16": 2, "F32": 4, "F8_E4M3": 1}
#: What the official templates (comfyui-workflow-templates-json's notes) say each file weighs, in GiB.
TEMPLATE_GIB = {
    "qwen_image_fp8_e4m3fn.safetensors": 19.03, "qwen_image_distill_full_bf16.safetensors": 38.05,
    "qwen_2.5_vl_7b_fp8_scaled.safetensors": 8.74, "mistral_3_small_flux2_bf16.safetensors": 33.14,
    "z_image_turbo_bf16.safetensors": 11.46, "qwen_3_4b.safetensors": 7.49,
}
#: FLUX.2 [dev] reads Mistral Small 3.1's hidden states after layers 10, 20 and 30 and never its head:
#: ComfyUI's file keeps 30 of the 40 layers and no lm_head (17.78 billion weights in bf16 are the
#: 33.14 GiB its template prints; all 40 layers would be 44 GiB).
MISTRAL_LAYERS_KEPT = 30


@dataclass
class Family:
    """One family's template and its files: {ComfyUI loader class: {variant: file}}."""

    template: str
    files: dict[str, dict[str, Path]] = field(default_factory=dict)
    params: dict[str, int] = field(default_factory=dict)  # weights of the transformer and the text encoder


def header_only(path: Path, tensors: dict[str, tuple[str, tuple[int, ...]]]) -> Path:
    """A .safetensors file listing `tensors` ({name: (dtype, shape)}) with no data after the header."""
    header, offset = {}, 0
    for name, (dtype, shape) in tensors.items():
        size = _numel(shape) * DTYPE_BYTES[dtype]
        header[name] = {"dtype": dtype, "shape": list(shape), "data_offsets": [offset, offset + size]}
        offset += size
    raw = json.dumps(header).encode()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(struct.pack("<Q", len(raw)) + raw)
    return path


def gguf_header_only(path: Path, shapes: dict[str, tuple[int, ...]], quantized: str) -> Path:
    """A GGUF file of `shapes`: matrices whose rows fit its blocks in GGML type `quantized` (e.g.
    "Q4_K"), the rest F32, as ComfyUI-GGUF's converter keeps vectors; the data is a hole."""
    import gguf
    import numpy as np

    qtype = gguf.GGMLQuantizationType[quantized]
    block, size = gguf.GGML_QUANT_SIZES[qtype]
    writer = gguf.GGUFWriter(str(path), arch="nodeflow-real-size")
    total = 0
    for name, shape in shapes.items():
        if len(shape) == 2 and shape[1] % block == 0:
            nbytes, kind = _numel(shape) // block * size, qtype
        else:
            nbytes, kind = _numel(shape) * 4, gguf.GGMLQuantizationType.F32
        writer.add_tensor_info(name, shape, np.dtype(np.float32), nbytes, raw_dtype=kind)
        total += writer.ggml_pad(nbytes, writer.data_alignment)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_ti_data_to_file()
    writer.close()
    start = writer.ggml_pad(path.stat().st_size, writer.data_alignment)
    with open(path, "r+b") as handle:
        handle.truncate(start + total)
    return path


def stored(shapes: dict[str, tuple[int, ...]], kind: str, keep: Iterable[str] = ()) -> dict[str, tuple]:
    """{name: (dtype, shape)} as a file of `kind` stores them: "bf16", "f32", or "fp8" / "fp8_scaled"
    (every matrix in float8 e4m3, with a per-tensor scale for "fp8_scaled"; names containing one of
    `keep` and the rest in bf16, as ComfyUI's fp8 files keep embeddings and vectors)."""
    if kind in ("bf16", "f32"):
        return {k: (kind.upper(), s) for k, s in shapes.items()}
    out: dict[str, tuple] = {}
    for key, shape in shapes.items():
        if key.endswith(".weight") and len(shape) == 2 and not any(part in key for part in keep):
            out[key] = ("F8_E4M3", shape)
            if kind == "fp8_scaled":
                out[key[: -len("weight")] + "scale_weight"] = ("F32", ())
        else:
            out[key] = ("BF16", shape)
    return out


def qwen_image(folder: Path) -> Family:
    """Qwen-Image (20.4 billion weights) and Qwen2.5-VL 7B with its vision tower (8.3 billion)."""
    from accelerate import init_empty_weights
    from diffusers import AutoencoderKLQwenImage, QwenImageTransformer2DModel
    from transformers import AutoConfig, Qwen2_5_VLForConditionalGeneration
    from transformers.core_model_loading import revert_weight_conversion

    config = CONFIGS / "qwen-image"
    with init_empty_weights():
        transformer = _diffusers(QwenImageTransformer2DModel, config / "transformer")
        encoder = Qwen2_5_VLForConditionalGeneration(AutoConfig.from_pretrained(config / "text_encoder"))
        vae = _diffusers(AutoencoderKLQwenImage, config / "vae")
    unet = {"model.diffusion_model." + k: s for k, s in _shapes(transformer.state_dict()).items()}
    text = _shapes(revert_weight_conversion(encoder, encoder.state_dict()))
    keep = ("embed_tokens", "lm_head")
    return Family("image_qwen_image", {
        "UNETLoader": {"fp8": header_only(folder / "qwen_image_fp8_e4m3fn.safetensors", stored(unet, "fp8")),
                       "bf16": header_only(folder / "qwen_image_distill_full_bf16.safetensors", stored(unet, "bf16")),
                       "Q4_K": gguf_header_only(folder / "qwen-image-Q4_K.gguf", unet, "Q4_K")},
        "CLIPLoader": {"fp8": header_only(folder / "qwen_2.5_vl_7b_fp8_scaled.safetensors",
                                          stored(text, "fp8_scaled", keep)),
                       "bf16": header_only(folder / "qwen_2.5_vl_7b_bf16.safetensors", stored(text, "bf16"))},
        "VAELoader": {"bf16": header_only(folder / "qwen_image_vae.safetensors", stored(_shapes(vae.state_dict()),
                                                                                        "bf16"))},
    }, {"transformer": _count(unet), "text_encoder": _count(text)})


def flux2_dev(folder: Path) -> Family:
    """FLUX.2 [dev] (32.2 billion weights) and Mistral Small 3.1 as ComfyUI keeps it (see
    MISTRAL_LAYERS_KEPT: 17.8 billion with its Pixtral tower)."""
    from accelerate import init_empty_weights
    from diffusers import AutoencoderKLFlux2, Flux2Transformer2DModel
    from transformers import AutoConfig, Mistral3ForConditionalGeneration

    config = CONFIGS / "flux2-dev"
    text_config = AutoConfig.from_pretrained(config / "text_encoder")
    text_config.text_config.num_hidden_layers = MISTRAL_LAYERS_KEPT
    with init_empty_weights():
        transformer = _diffusers(Flux2Transformer2DModel, config / "transformer")
        encoder = Mistral3ForConditionalGeneration(text_config)
        vae = _diffusers(AutoencoderKLFlux2, config / "vae")
    unet = {"model.diffusion_model." + k: s for k, s in _shapes(transformer.state_dict()).items()}
    text = {k: s for k, s in _shapes(encoder.state_dict()).items() if not k.startswith("lm_head")}
    return Family("image_flux2_fp8", {
        "UNETLoader": {"fp8": header_only(folder / "flux2_dev_fp8.safetensors", stored(unet, "fp8")),
                       "bf16": header_only(folder / "flux2_dev_bf16.safetensors", stored(unet, "bf16"))},
        "CLIPLoader": {"fp8": header_only(folder / "mistral_3_small_flux2_fp8.safetensors",
                                          stored(text, "fp8_scaled", ("embed_tokens",))),
                       "bf16": header_only(folder / "mistral_3_small_flux2_bf16.safetensors", stored(text, "bf16"))},
        "VAELoader": {"bf16": header_only(folder / "flux2-vae.safetensors", stored(_shapes(vae.state_dict()), "bf16"))},
    }, {"transformer": _count(unet), "text_encoder": _count(text)})


def z_image(folder: Path) -> Family:
    """Z-Image Turbo (6.2 billion weights) and Qwen3-4B (4.0 billion, its head tied to its embedding)."""
    from accelerate import init_empty_weights
    from diffusers import AutoencoderKL, ZImageTransformer2DModel
    from transformers import AutoConfig, Qwen3ForCausalLM

    config = CONFIGS / "z-image"
    with init_empty_weights():
        transformer = _diffusers(ZImageTransformer2DModel, config / "transformer")
        encoder = Qwen3ForCausalLM(AutoConfig.from_pretrained(config / "text_encoder"))
        vae = _diffusers(AutoencoderKL, config / "vae")
    unet = {"model.diffusion_model." + k: s for k, s in _shapes(transformer.state_dict()).items()}
    text = {k: s for k, s in _shapes(encoder.state_dict()).items() if not k.startswith("lm_head")}
    return Family("image_z_image_turbo", {
        "UNETLoader": {"bf16": header_only(folder / "z_image_turbo_bf16.safetensors", stored(unet, "bf16")),
                       "Q4_K": gguf_header_only(folder / "z-image-turbo-Q4_K.gguf", unet, "Q4_K")},
        "CLIPLoader": {"bf16": header_only(folder / "qwen_3_4b.safetensors", stored(text, "bf16"))},
        "VAELoader": {"f32": header_only(folder / "ae.safetensors", stored(_shapes(vae.state_dict()), "f32"))},
    }, {"transformer": _count(unet), "text_encoder": _count(text)})


def _diffusers(cls, folder: Path):
    """A diffusers model of `cls` from the config in `folder` (call inside init_empty_weights)."""
    return cls.from_config(cls.load_config(folder))


def _shapes(state: dict) -> dict[str, tuple[int, ...]]:
    return {k: tuple(v.shape) for k, v in state.items()}


def _numel(shape: Iterable[int]) -> int:
    count = 1
    for dim in shape:
        count *= int(dim)
    return count


def _count(shapes: dict[str, tuple[int, ...]]) -> int:
    return sum(_numel(s) for s in shapes.values())
