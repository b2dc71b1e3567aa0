"""A LoRA on a transformer loaded with weight_dtype fp8_e4m3fn (its linear layers stored as fp8, as the
ChronoEdit template loads it before its distill LoRA): each patched layer holds the stored weight
dequantized plus the LoRA's delta in the compute dtype; the others stay stored; the loaded model is left
as it was."""

from __future__ import annotations

import torch
from safetensors.torch import save_file
from test_wan_templates import _lora
from tiny_wan import original_names, wan_transformer

from nodeflow.core import RunContext
from nodes.models.checkpoint import LoadLoraModelOnly
from nodes.models.loaders import LoadUNet


def test_a_lora_patches_fp8_stored_layers(tmp_path, torch_threads):
    torch.manual_seed(0)
    save_file(original_names(wan_transformer(36, real_heads=True).state_dict()), str(tmp_path / "unet.safetensors"))
    lora = _lora(3)
    save_file(lora, str(tmp_path / "lora.safetensors"))
    model = LoadUNet().run(RunContext(), unet=str(tmp_path / "unet.safetensors"), weight_dtype="fp8_e4m3fn")[0]
    before = model.unet.blocks[0].attn1.to_q.weight.clone()
    (patched,) = LoadLoraModelOnly().run(RunContext(), model, lora=str(tmp_path / "lora.safetensors"),
                                         strength_model=0.5)
    layer = patched.unet.blocks[0].attn1.to_q
    assert type(layer) is torch.nn.Linear
    name = "diffusion_model.blocks.0.self_attn.q"
    delta = lora[f"{name}.lora_up.weight"] @ lora[f"{name}.lora_down.weight"]  # alpha 4 / rank 4
    torch.testing.assert_close(layer.weight, (before.float() + 0.5 * delta).to(before.dtype), rtol=0, atol=0)
    assert type(patched.unet.blocks[0].attn1.to_k).__name__ == "_StoredLinear"
    assert type(model.unet.blocks[0].attn1.to_q).__name__ == "_StoredLinear"
    torch.testing.assert_close(model.unet.blocks[0].attn1.to_q.weight, before, rtol=0, atol=0)
