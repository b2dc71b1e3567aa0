"""LoRA key styles through diffusers' converters: kohya with LDM block names, both SDXL text
encoders, and a warning that counts the keys no layer took. Tiny random models only."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

from nodeflow.core import NodeError, RunContext  # noqa: E402

UNET_LDM = "lora_unet_input_blocks_3_1_transformer_blocks_0_attn2_to_k"  # = down_blocks.1.attentions.0...
UNET_MODULE = "down_blocks.1.attentions.0.transformer_blocks.0.attn2.to_k"
TE_MODULE = "encoder.layers.0.self_attn.q_proj"


def watched() -> tuple[RunContext, list[str]]:
    """A RunContext whose messages (warnings included) land in a list the test can read."""
    seen: list[str] = []
    return RunContext(on_message=lambda _node, text: seen.append(text)), seen


def layer(encoder, name):
    """A text-encoder layer by name (CLIPTextModelWithProjection keeps a text_model level)."""
    try:
        return encoder.get_submodule(name).weight
    except AttributeError:
        return encoder.get_submodule("text_model." + name).weight


def _pair(tensors, name, out_f, in_f, alpha, seed):
    g = torch.Generator().manual_seed(seed)
    tensors[f"{name}.lora_down.weight"] = torch.randn(2, in_f, generator=g)
    tensors[f"{name}.lora_up.weight"] = torch.randn(out_f, 2, generator=g)
    tensors[f"{name}.alpha"] = torch.tensor(float(alpha))


def _kohya_xl_file(tmp_path):
    from safetensors.torch import save_file

    tensors: dict = {}
    _pair(tensors, UNET_LDM, 64, 64, 1.0, 0)
    _pair(tensors, "lora_te1_text_model_encoder_layers_0_self_attn_q_proj", 32, 32, 2.0, 1)
    _pair(tensors, "lora_te2_text_model_encoder_layers_0_self_attn_q_proj", 32, 32, 4.0, 2)
    _pair(tensors, "lora_te2_text_model_encoder_layers_1_mlp_fc1", 37, 32, 2.0, 3)
    tensors["lora_unet_input_blocks_3_1_norm.dora_scale"] = torch.ones(1, 64)  # nothing takes this
    tensors["some_other_network.weight"] = torch.ones(3)
    path = tmp_path / "xl.safetensors"
    save_file(tensors, str(path))
    return path, tensors


def test_kohya_sdxl_lora_patches_unet_and_both_text_encoders(tiny_xl, tmp_path):
    from nodes.models.checkpoint import LoadCheckpoint, LoadLora

    ctx, seen = watched()
    model, clip, _ = LoadCheckpoint().run(ctx, checkpoint=str(tiny_xl))
    path, tensors = _kohya_xl_file(tmp_path)
    new_model, new_clip = LoadLora().run(ctx, model=model, clip=clip, lora=str(path), strength_model=1.0,
                                         strength_clip=0.5)

    def expected(before, name, strength, alpha):
        up, down = tensors[f"{name}.lora_up.weight"], tensors[f"{name}.lora_down.weight"]
        return before + strength * (alpha / 2) * (up @ down)

    torch.testing.assert_close(new_model.unet.get_submodule(UNET_MODULE).weight,
                               expected(model.unet.get_submodule(UNET_MODULE).weight, UNET_LDM, 1.0, 1.0))
    for encoder, prefix, alpha in (("text_encoder", "lora_te1_", 2.0), ("text_encoder_2", "lora_te2_", 4.0)):
        before = layer(getattr(clip, encoder), TE_MODULE)
        name = prefix + "text_model_encoder_layers_0_self_attn_q_proj"
        torch.testing.assert_close(layer(getattr(new_clip, encoder), TE_MODULE), expected(before, name, 0.5, alpha))
    fc1 = "encoder.layers.1.mlp.fc1"
    assert not torch.equal(layer(new_clip.text_encoder_2, fc1), layer(clip.text_encoder_2, fc1))
    fresh = LoadCheckpoint().run(RunContext(), checkpoint=str(tiny_xl))[1]
    assert torch.equal(layer(clip.text_encoder_2, TE_MODULE), layer(fresh.text_encoder_2, TE_MODULE))
    warnings = [m for m in seen if m.startswith("warning:")]
    assert len(warnings) == 1 and "2 of 14 LoRA keys could not be placed" in warnings[0]


def test_second_encoder_keys_on_a_one_encoder_model_are_counted(tiny_sd, tmp_path):
    from safetensors.torch import save_file

    from nodes.models.checkpoint import LoadCheckpoint, LoadLora

    ctx, seen = watched()
    model, clip, _ = LoadCheckpoint().run(ctx, checkpoint=str(tiny_sd))
    tensors: dict = {}
    _pair(tensors, "lora_te_text_model_encoder_layers_0_self_attn_q_proj", 32, 32, 2.0, 1)
    _pair(tensors, "lora_te2_text_model_encoder_layers_0_self_attn_q_proj", 32, 32, 2.0, 2)
    save_file(tensors, str(tmp_path / "l.safetensors"))
    _, new_clip = LoadLora().run(ctx, model=model, clip=clip, lora=str(tmp_path / "l.safetensors"),
                                 strength_model=1.0, strength_clip=1.0)
    assert not torch.equal(layer(new_clip.text_encoder, TE_MODULE), layer(clip.text_encoder, TE_MODULE))
    assert any("2 of 6 LoRA keys could not be placed" in m for m in seen)


def test_a_lora_for_nothing_here_is_refused(tiny_sd, tmp_path):
    from safetensors.torch import save_file

    from nodes.models.checkpoint import LoadCheckpoint, LoadLora

    ctx = RunContext()
    model, clip, _ = LoadCheckpoint().run(ctx, checkpoint=str(tiny_sd))
    save_file({"lora_unet_nowhere_at_all.lora_down.weight": torch.ones(2, 4),
               "lora_unet_nowhere_at_all.lora_up.weight": torch.ones(4, 2)}, str(tmp_path / "x.safetensors"))
    with pytest.raises(NodeError, match="no layer of this model matches"):
        LoadLora().run(ctx, model=model, clip=clip, lora=str(tmp_path / "x.safetensors"), strength_model=1.0,
                       strength_clip=1.0)
