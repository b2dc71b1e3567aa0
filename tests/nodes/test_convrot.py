"""ComfyUI's ConvRot int8 layers (`.comfy_quant` with "convrot": true) load to the layer's own weights:
each file is written here as the format says (weights rotated by the group Hadamard matrix, then
quantized per row), and a group size that does not fit is one line."""

from __future__ import annotations

import json

import pytest
import torch
from safetensors.torch import save_file

from nodeflow.core import NodeError
from nodes.models._convrot import hadamard
from nodes.models._quantized import load_into, read_state_dict


def _marker(config: dict) -> torch.Tensor:
    return torch.tensor(list(json.dumps(config).encode("utf-8")), dtype=torch.uint8)


def convrot_state(state: dict[str, torch.Tensor], group: int, rotate: bool = True) -> dict[str, torch.Tensor]:
    """Every 2-D weight rotated in groups of `group` input features and quantized to int8 per row."""
    out = {}
    for key, value in state.items():
        if not (key.endswith(".weight") and value.dim() == 2):
            out[key] = value
            continue
        rotated = (value.reshape(value.shape[0], -1, group) @ hadamard(group)).reshape(value.shape)
        scale = rotated.abs().amax(dim=1, keepdim=True) / 127
        out[key] = torch.round(rotated / scale).to(torch.int8)
        out[key[: -len("weight")] + "weight_scale"] = scale
        out[key[: -len("weight")] + "comfy_quant"] = _marker({"format": "int8_tensorwise", "convrot": rotate,
                                                              "convrot_groupsize": group})
    return out


def test_hadamard_is_orthogonal_and_symmetric():
    matrix = hadamard(64)
    assert torch.allclose(matrix @ matrix, torch.eye(64), atol=1e-6)
    assert torch.equal(matrix, matrix.T)


@pytest.mark.parametrize("group", [16, 64])
def test_a_convrot_layer_computes_the_float_layer(tmp_path, group):
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(128, 64), torch.nn.GELU(), torch.nn.Linear(64, 32))
    state = model.state_dict()
    path = tmp_path / "convrot.safetensors"
    save_file(convrot_state(state, group), str(path))
    loaded = read_state_dict(path, "unet")
    assert loaded["0.weight"].stored == f"int8+rot{group}"
    fresh = load_into(torch.nn.Sequential(torch.nn.Linear(128, 64), torch.nn.GELU(), torch.nn.Linear(64, 32)),
                      loaded, torch.float32, "unet")
    x = torch.randn(4, 128)
    want, got = model(x), fresh(x)
    assert (got - want).abs().max() < 0.02 * want.abs().max()
    # without turning the rotation back the weights would be far off: the rotation is what ran
    rotated = loaded["0.weight"].as_tensor().float() * loaded["0.weight"].scale[:, None]
    assert (rotated - state["0.weight"]).abs().max() > 10 * (fresh[0].weight - state["0.weight"]).abs().max()


def test_a_group_size_that_does_not_fit_the_layer_is_one_line(tmp_path):
    weight = torch.ones(8, 48)
    path = tmp_path / "bad.safetensors"
    save_file({"0.weight": weight.to(torch.int8), "0.weight_scale": torch.ones(8, 1),
               "0.comfy_quant": _marker({"format": "int8_tensorwise", "convrot": True, "convrot_groupsize": 32})},
              str(path))
    with pytest.raises(NodeError) as caught:
        read_state_dict(path, "unet")
    assert caught.value.field == "unet" and "\n" not in str(caught.value)
    assert "group size of 32 does not divide its 48 input features" in str(caught.value)
