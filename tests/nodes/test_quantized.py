"""Quantized weights (fp8, fp8 scaled, int8, GGUF) load stored and compute in the compute dtype.

Every file is written here: GGUF by the `gguf` package, fp8/int8 safetensors by safetensors, in
ComfyUI's layout (`<layer>.scale_weight` / `<layer>.weight_scale` beside each weight). Agreement
with the unquantized weights is held to each format's rounding bound, stated per test.
"""

from __future__ import annotations

import gguf
import numpy as np
import pytest
import torch
from safetensors.torch import save_file

from nodeflow.core import NodeError
from nodes.models import _quantized as q
from nodes.models._quantized_headers import GGUF_PLAIN, GGUF_TYPES, device_problem, storage

IN, HIDDEN = 256, 64  # a multiple of every block size (K-quants pack 256 weights)


def _model() -> torch.nn.Module:
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(IN, HIDDEN), torch.nn.GELU(), torch.nn.Linear(HIDDEN, 32),
                                torch.nn.LayerNorm(32))
    return model.requires_grad_(False)


def _empty() -> torch.nn.Module:
    with torch.device("meta"):
        return torch.nn.Sequential(torch.nn.Linear(IN, HIDDEN), torch.nn.GELU(), torch.nn.Linear(HIDDEN, 32),
                                   torch.nn.LayerNorm(32))


def _write_gguf(path, state: dict[str, torch.Tensor], qtypes: dict[str, gguf.GGMLQuantizationType]) -> None:
    writer = gguf.GGUFWriter(str(path), arch="nodeflow-test")
    for key, value in state.items():
        data = value.detach().float().numpy()
        qtype = qtypes.get(key, gguf.GGMLQuantizationType.F32)
        writer.add_tensor(key, gguf.quants.quantize(data, qtype), raw_dtype=qtype)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()


def _relative_error(a: torch.Tensor, b: torch.Tensor) -> float:
    return float((a - b).norm() / b.norm())


@pytest.mark.parametrize(("qtype", "output_tolerance"), [
    (gguf.GGMLQuantizationType.Q8_0, 0.01),
    (gguf.GGMLQuantizationType.Q4_0, 0.1),
    (gguf.GGMLQuantizationType.Q5_1, 0.05),
    (gguf.GGMLQuantizationType.BF16, 0.005),
])
def test_gguf_weights_stay_stored_and_match_the_file(tmp_path, qtype, output_tolerance):
    reference = _model()
    state = reference.state_dict()
    path = tmp_path / "unet.gguf"
    _write_gguf(path, state, {"0.weight": qtype, "2.weight": gguf.GGMLQuantizationType.Q8_0})

    loaded = q.load_into(_empty(), q.read_state_dict(path, "unet"), torch.float32, "unet")

    stored = [m for m in loaded.modules() if isinstance(m, q.StoredLinear)]
    assert len(stored) == 2 and all(m.qweight.dtype == torch.uint8 for m in stored)
    # the dequantized weight is the file's own (gguf's numpy dequantizer) to float16 rounding of
    # the largest weight: diffusers' dequantizers work in the blocks' float16 scales and offsets
    raw = gguf.GGUFReader(str(path)).tensors[0]
    expected = torch.from_numpy(gguf.quants.dequantize(raw.data, raw.tensor_type).copy()).reshape(HIDDEN, IN)
    assert torch.allclose(loaded[0].weight, expected, rtol=0, atol=float(expected.abs().max()) * 2**-10)
    x = torch.randn(4, IN, generator=torch.Generator().manual_seed(1))
    assert _relative_error(loaded(x), reference(x)) < output_tolerance


def test_fp8_scaled_file_in_comfyui_layout(tmp_path):
    reference = _model()
    state = {}
    for key, value in reference.state_dict().items():
        if key.endswith(".weight") and value.dim() == 2:
            scale = value.abs().max() / 448.0  # e4m3's largest finite value
            state[key] = (value / scale).to(torch.float8_e4m3fn)
            state[key[: -len("weight")] + "scale_weight"] = scale.reshape(())
        else:
            state[key] = value.to(torch.bfloat16)
    state["scaled_fp8"] = torch.empty(0, dtype=torch.float8_e4m3fn)
    path = tmp_path / "encoder_fp8_scaled.safetensors"
    save_file(state, str(path))

    found = storage(path)
    assert found.kind == "fp8_scaled" and found.types == ("F8_E4M3",)
    assert found.stored_bytes == IN * HIDDEN + HIDDEN * 32 + 2 * 4  # one byte a weight, two float32 scales
    loaded = q.load_into(_empty(), q.read_state_dict(path, "clip_name"), torch.float32, "clip_name")

    assert isinstance(loaded[0], q.StoredLinear) and loaded[0].kind == "float8_e4m3fn"
    # by construction: stored value times scale, exactly
    assert torch.equal(loaded[0].weight, state["0.weight"].float() * state["0.scale_weight"])
    # e4m3 keeps 3 mantissa bits: each weight within 2**-4 of itself (plus the subnormal step)
    weight = reference[0].weight.detach()
    assert bool(((loaded[0].weight - weight).abs() <= weight.abs() * 2**-4 + state["0.scale_weight"] * 2**-9).all())
    x = torch.randn(4, IN, generator=torch.Generator().manual_seed(1))
    assert _relative_error(loaded(x), reference(x)) < 0.05


def test_int8_with_per_row_weight_scale(tmp_path):
    reference = _model()
    state = {}
    for key, value in reference.state_dict().items():
        if key.endswith(".weight") and value.dim() == 2:
            scale = value.abs().amax(dim=1) / 127.0
            state[key] = torch.round(value / scale[:, None]).to(torch.int8)
            state[key[: -len("weight")] + "weight_scale"] = scale[:, None].contiguous()
        else:
            state[key] = value
    path = tmp_path / "model_int8.safetensors"
    save_file(state, str(path))

    assert storage(path).kind == "int8"
    loaded = q.load_into(_empty(), q.read_state_dict(path, "unet"), torch.float32, "unet")

    weight = reference[0].weight.detach()
    half_step = (weight.abs().amax(dim=1) / 127.0 / 2)[:, None]
    assert bool(((loaded[0].weight - weight).abs() <= half_step * (1 + 1e-5)).all())  # rounding bound
    x = torch.randn(4, IN, generator=torch.Generator().manual_seed(1))
    assert _relative_error(loaded(x), reference(x)) < 0.01


def test_int8_weight_without_scale_is_one_line_naming_the_field(tmp_path):
    path = tmp_path / "bad.safetensors"
    save_file({"0.weight": torch.zeros(HIDDEN, IN, dtype=torch.int8)}, str(path))
    with pytest.raises(NodeError, match="0.weight has no scale") as info:
        q.read_state_dict(path, "unet")
    assert info.value.field == "unet"


def test_moving_a_model_keeps_weights_stored_and_casting_them_is_refused():
    weight = q.make_stored(torch.randn(8, 4).to(torch.float8_e4m3fn), "float8_e4m3fn", torch.tensor(0.5))
    model = torch.nn.Sequential(q.StoredLinear(weight, None, 4, 8, torch.float32)).to(torch.bfloat16)
    assert model[0].qweight.dtype == torch.uint8  # bytes, never read as numbers by .to(dtype)
    with pytest.raises(NodeError, match="cannot be cast"):
        weight.to(torch.bfloat16)


def test_key_conversions_keep_the_scale_of_split_weights():
    """diffusers' converters split fused weights (qkv) with chunk/split and rejoin row blocks
    (gate/up) with cat: a per-tensor scale goes with each part, a per-row one is split and joined
    with its rows; joining differently scaled per-tensor weights is refused."""
    raw = torch.randn(12, 4).to(torch.float8_e4m3fn)
    fused = q.make_stored(raw, "float8_e4m3fn", torch.tensor(0.25))
    parts = torch.chunk(fused, 3, dim=0)
    assert all(q.is_stored(p) for p in parts)
    assert torch.equal(q.dequantize(parts[1], torch.float32), raw[4:8].float() * 0.25)
    rows = torch.rand(12)
    per_row = q.make_stored(raw, "float8_e4m3fn", rows)
    first, second, third = torch.chunk(per_row, 3, dim=0)
    assert torch.equal(q.dequantize(second, torch.float32), raw[4:8].float() * rows[4:8, None])
    swapped = torch.cat([third, first], dim=0)  # a converter's [gate; value] -> [value; gate]
    assert torch.equal(q.dequantize(swapped, torch.float32),
                       torch.cat([raw[8:], raw[:4]]).float() * torch.cat([rows[8:], rows[:4]])[:, None])
    with pytest.raises(NodeError, match="per-row"):
        per_row[2:5]
    other = q.make_stored(raw, "float8_e4m3fn", torch.tensor(2.0))
    with pytest.raises(NodeError, match="different scales"):
        torch.cat([fused, other])


def test_missing_and_extra_weights_are_named(tmp_path):
    state = {k: v for k, v in _model().state_dict().items() if k != "3.bias"}
    with pytest.raises(NodeError, match=r"lack 1 tensor\(s\).*3.bias"):
        q.load_into(_empty(), state, torch.float32, "unet")
    state = {**_model().state_dict(), "extra.weight": torch.zeros(1)}
    with pytest.raises(NodeError, match="extra.weight"):
        q.load_into(_empty(), state, torch.float32, "unet")


def test_gguf_types_match_what_diffusers_dequantizes():
    from diffusers.quantizers.gguf.utils import SUPPORTED_GGUF_QUANT_TYPES

    assert GGUF_TYPES - GGUF_PLAIN == {t.name for t in SUPPORTED_GGUF_QUANT_TYPES}


def test_storage_counts_gguf_at_its_stored_size_and_names_what_cannot_run(tmp_path):
    state = _model().state_dict()
    path = tmp_path / "model.gguf"
    _write_gguf(path, state, {"0.weight": gguf.GGMLQuantizationType.Q4_0})
    found = storage(path)
    block, size = gguf.GGML_QUANT_SIZES[gguf.GGMLQuantizationType.Q4_0]
    assert found.kind == "gguf" and found.types == ("Q4_0",)
    assert found.stored_bytes == HIDDEN * IN // block * size
    assert found.plain_count == sum(v.numel() for k, v in state.items() if k != "0.weight")
    assert device_problem(found, "cuda") == ""

    unknown = tmp_path / "ternary.gguf"
    _write_gguf(unknown, state, {"0.weight": gguf.GGMLQuantizationType.TQ2_0})
    assert "GGUF quantization TQ2_0 cannot be dequantized here" in device_problem(storage(unknown), "cpu")
    fp8 = type(found)("fp8_scaled", 10, 0, ("F8_E4M3",))
    assert "fp8 weights cannot be held on mps" in device_problem(fp8, "mps")
    assert device_problem(fp8, "cuda:0") == ""


def test_a_broken_gguf_file_is_one_line(tmp_path):
    path = tmp_path / "broken.gguf"
    path.write_bytes(b"GGUF" + np.arange(10, dtype=np.uint8).tobytes())
    assert storage(path) is None
    with pytest.raises(NodeError) as info:
        q.read_state_dict(path, "unet_name")
    assert info.value.field == "unet_name" and "\n" not in str(info.value)


#: A Z-Image transformer of two layers, 64 wide: the smallest its rotary axes allow.
TINY_Z_IMAGE = {"all_patch_size": [2], "all_f_patch_size": [1], "in_channels": 4, "dim": 64, "n_layers": 1,
                "n_refiner_layers": 1, "n_heads": 2, "n_kv_heads": 2, "cap_feat_dim": 32, "axes_dims": [8, 12, 12],
                "axes_lens": [64, 32, 32]}


def _comfyui_z_image_keys(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """diffusers' Z-Image names -> the original ones ComfyUI's files use (fused qkv, `out`)."""
    renamed = {}
    for key, value in state.items():
        new = (key.replace("all_final_layer.2-1.", "final_layer.").replace("all_x_embedder.2-1.", "x_embedder.")
               .replace(".attention.to_out.0.", ".attention.out.").replace(".attention.norm_k.", ".attention.k_norm.")
               .replace(".attention.norm_q.", ".attention.q_norm."))
        if ".attention.to_k." in key or ".attention.to_v." in key:
            continue
        if ".attention.to_q." in key:
            fused = torch.cat([state[key], state[key.replace("to_q", "to_k")], state[key.replace("to_q", "to_v")]])
            renamed["model.diffusion_model." + new.replace(".attention.to_q.", ".attention.qkv.")] = fused
            continue
        renamed["model.diffusion_model." + new] = value
    return renamed


def test_a_comfyui_fp8_scaled_z_image_file_goes_through_diffusers_converter(tmp_path):
    from diffusers import ZImageTransformer2DModel

    torch.manual_seed(0)
    reference = ZImageTransformer2DModel(**TINY_Z_IMAGE).eval().requires_grad_(False)
    original = _comfyui_z_image_keys(reference.state_dict())
    state = {}
    for key, value in original.items():
        if key.endswith(".weight") and value.dim() == 2 and value.shape[1] % 16 == 0:
            scale = value.abs().max() / 448.0
            state[key] = (value / scale).to(torch.float8_e4m3fn)
            state[key[: -len("weight")] + "scale_weight"] = scale.reshape(())
        else:
            state[key] = value.to(torch.bfloat16)
    path = tmp_path / "z_image_turbo_fp8_scaled.safetensors"
    save_file(state, str(path))

    loaded = q.load_diffusers_model("ZImageTransformer2DModel", reference.config,
                                    q.read_state_dict(path, "unet_name"), torch.float32, "unet_name")

    assert isinstance(loaded.layers[0].attention.to_k, q.StoredLinear)  # split from the fused qkv, still fp8
    generator = torch.Generator().manual_seed(1)
    latent = [torch.randn(4, 1, 8, 8, generator=generator)]
    caption = [torch.randn(6, 32, generator=generator)]
    t = torch.tensor([0.5])
    expected = reference(latent, t, caption, return_dict=False)[0][0]
    got = loaded(latent, t, caption, return_dict=False)[0][0]
    assert _relative_error(got, expected) < 0.06  # e4m3 rounds each weight by up to 2**-4 (measured 0.041)


def test_validation_names_a_quantization_the_machine_cannot_run(tmp_path):
    from nodeflow.core import Graph, default_registry
    from nodeflow.engine.plan import validate

    state = _model().state_dict()
    unknown, fine = tmp_path / "ternary.gguf", tmp_path / "q8.gguf"
    _write_gguf(unknown, state, {"0.weight": gguf.GGMLQuantizationType.TQ2_0})
    _write_gguf(fine, state, {"0.weight": gguf.GGMLQuantizationType.Q8_0})
    graph = Graph(default_registry())
    bad = graph.add_node("models.load_unet", {"unet": str(unknown)}).id
    good = graph.add_node("models.load_unet", {"unet": str(fine)}).id

    problems = validate(graph, targets=[bad, good], device="cpu")

    assert [(p.node_id, p.field) for p in problems] == [(bad, "unet")]
    assert "ternary.gguf: GGUF quantization TQ2_0 cannot be dequantized here" in str(problems[0])


def test_the_memory_plan_counts_quantized_weights_at_their_stored_size(tmp_path):
    from nodeflow.engine.memory_plan import _component_bytes
    from nodes.models.loaders import LoadUNet

    state = _model().state_dict()
    path = tmp_path / "q8.gguf"
    _write_gguf(path, state, {"0.weight": gguf.GGMLQuantizationType.Q8_0, "2.weight": gguf.GGMLQuantizationType.Q8_0})
    [weights] = LoadUNet.weights({"unet": path.name}, lambda name: tmp_path / name)
    block, size = gguf.GGML_QUANT_SIZES[gguf.GGMLQuantizationType.Q8_0]
    stored = (IN * HIDDEN + HIDDEN * 32) // block * size
    assert (weights.stored, weights.count) == (stored, HIDDEN + 32 + 32 + 32)  # biases and the norm stay plain
    planned = _component_bytes({"1": [("MODEL", weights)]}, ("1", "unet"), dtype_bytes=2)
    assert planned == stored + (HIDDEN + 96) * 2
    assert planned < (IN * HIDDEN + HIDDEN * 32) * 2 * 0.6  # Q8_0 holds 8.5 bits a weight, not 16


def test_tensor_shapes_of_a_gguf_file_are_torch_shapes(tmp_path):
    from nodes.models._quantized_headers import tensor_shapes

    state = _model().state_dict()
    path = tmp_path / "model.gguf"
    _write_gguf(path, state, {"0.weight": gguf.GGMLQuantizationType.Q8_0})
    assert tensor_shapes(path) == {k: list(v.shape) for k, v in state.items()}
    plain = tmp_path / "model.safetensors"
    save_file(state, str(plain))
    assert tensor_shapes(plain) == {k: list(v.shape) for k, v in state.items()}
    assert tensor_shapes(tmp_path / "missing.gguf") == {}


def test_a_tensor_of_the_wrong_shape_is_one_line():
    state = {**_model().state_dict(), "3.weight": torch.ones(7)}
    with pytest.raises(NodeError, match=r"^3.weight has shape \(7,\), the model expects \(32,\)$"):
        q.load_into(_empty(), state, torch.float32, "unet")
