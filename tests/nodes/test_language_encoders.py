"""Language-model text encoders load from ComfyUI's single files (original key names, bf16, fp8
scaled, GGUF with llama.cpp names) to the same hidden states as from their transformers folder.

Tiny models are built from configs; their weights are rounded to bfloat16 first, so a bf16 file
holds them exactly and the folder and the file must agree to float32 rounding.
"""

from __future__ import annotations

import gguf
import pytest
import torch
from safetensors.torch import save_file

from nodeflow.core import NodeError
from nodes.models import _quantized
from nodes.models._language_encoders import load_language_model

QWEN3 = {"hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 2, "num_attention_heads": 4,
         "num_key_value_heads": 2, "head_dim": 16, "vocab_size": 320, "max_position_embeddings": 128,
         "tie_word_embeddings": True, "bos_token_id": 1, "eos_token_id": 2, "pad_token_id": 0}


def _bf16_exact(model: torch.nn.Module) -> torch.nn.Module:
    with torch.no_grad():
        for param in model.parameters():
            param.copy_(param.to(torch.bfloat16).float())
    return model.eval().requires_grad_(False)


def _qwen3(tmp_path):
    from transformers import Qwen3Config, Qwen3ForCausalLM

    torch.manual_seed(0)
    model = _bf16_exact(Qwen3ForCausalLM(Qwen3Config(**QWEN3)))
    folder = tmp_path / "qwen3"
    model.save_pretrained(folder)
    return model, folder


def _states(model, ids):
    out = model(input_ids=ids, attention_mask=torch.ones_like(ids), output_hidden_states=True)
    return out.hidden_states


IDS = torch.tensor([[5, 17, 42, 99, 250, 3, 7]])


def _checkpoint_names(model) -> dict[str, torch.Tensor]:
    """The original checkpoint's names (what ComfyUI's files keep): transformers reverts its own."""
    from transformers.core_model_loading import revert_weight_conversion

    return {k: v.clone() for k, v in revert_weight_conversion(model, model.state_dict()).items()}


def test_a_comfyui_bf16_file_gives_the_folders_hidden_states(tmp_path):
    from transformers import Qwen3Model

    reference, folder = _qwen3(tmp_path)
    state = {k: v.to(torch.bfloat16) for k, v in _checkpoint_names(reference).items()}
    state["lm_head.weight"] = state["model.embed_tokens.weight"]  # ComfyUI files may carry the head
    path = tmp_path / "qwen_3_4b.safetensors"
    save_file({k: v.contiguous().clone() for k, v in state.items()}, str(path))

    from_folder = load_language_model("Qwen3Model", folder, None, torch.float32, "clip_name")
    from_file = load_language_model("Qwen3Model", path, folder, torch.float32, "clip_name")

    assert isinstance(from_file, Qwen3Model)
    expected, got = _states(from_folder, IDS), _states(from_file, IDS)
    assert torch.allclose(got[-2], expected[-2], atol=1e-5) and torch.allclose(got[-1], expected[-1], atol=1e-5)


def test_an_fp8_scaled_text_encoder_stays_fp8_and_agrees_within_its_rounding(tmp_path):
    reference, folder = _qwen3(tmp_path)
    state = {}
    for key, value in _checkpoint_names(reference).items():
        if key.endswith("proj.weight"):
            scale = value.abs().max() / 448.0
            state[key] = (value / scale).to(torch.float8_e4m3fn)
            state[key[: -len("weight")] + "scale_weight"] = scale.reshape(())
        else:
            state[key] = value.to(torch.bfloat16)
    state["scaled_fp8"] = torch.empty(0, dtype=torch.float8_e4m3fn)
    path = tmp_path / "qwen_3_4b_fp8_scaled.safetensors"
    save_file({k: v.contiguous() for k, v in state.items()}, str(path))

    model = load_language_model("Qwen3ForCausalLM", path, folder, torch.float32, "clip_name")

    projections = [m for m in model.modules() if isinstance(m, _quantized.StoredLinear)]
    assert len(projections) == 2 * 7 and all(p.qweight.dtype == torch.uint8 for p in projections)
    expected, got = _states(reference, IDS)[-1], _states(model, IDS)[-1]
    assert float((got - expected).norm() / expected.norm()) < 0.05  # e4m3: 2**-4 per weight


def _llama_cpp_file(path, model, arch: str, qtype=gguf.GGMLQuantizationType.Q8_0) -> None:
    names = gguf.get_tensor_name_map(next(a for a, n in gguf.MODEL_ARCH_NAMES.items() if n == arch),
                                     model.config.num_hidden_layers)
    writer = gguf.GGUFWriter(str(path), arch=arch)
    for key, value in _checkpoint_names(model).items():
        if key == "lm_head.weight":
            continue  # tied to the embedding, as llama.cpp writes Qwen3
        name = names.get_name(key, try_suffixes=("." + key.rsplit(".", 1)[1],))
        assert name is not None and name.startswith(("blk.", "token_embd", "output")) and name.endswith(".weight")
        data = value.float().numpy()
        kind = qtype if key.endswith("proj.weight") else gguf.GGMLQuantizationType.F32
        writer.add_tensor(name, gguf.quants.quantize(data, kind), raw_dtype=kind)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()


def test_a_llama_cpp_gguf_text_encoder_loads_by_the_gguf_name_map(tmp_path):
    reference, folder = _qwen3(tmp_path)
    path = tmp_path / "Qwen3-4B-Q8_0.gguf"
    _llama_cpp_file(path, reference, "qwen3")

    model = load_language_model("Qwen3ForCausalLM", path, folder, torch.float32, "clip_name")

    assert isinstance(model.model.layers[0].self_attn.q_proj, _quantized.StoredLinear)
    expected, got = _states(reference, IDS)[-1], _states(model, IDS)[-1]
    assert float((got - expected).norm() / expected.norm()) < 0.01  # Q8_0: 8 bits a weight


def test_a_gguf_of_an_architecture_stored_otherwise_is_one_line(tmp_path):
    reference, folder = _qwen3(tmp_path)
    path = tmp_path / "llama.gguf"
    _llama_cpp_file(path, reference, "qwen3")
    data = path.read_bytes().replace(b"qwen3", b"llama", 1)  # the declared architecture only
    path.write_bytes(data)
    with pytest.raises(NodeError, match="architecture llama") as info:
        load_language_model("Qwen3ForCausalLM", path, folder, torch.float32, "clip_name")
    assert info.value.field == "clip_name"


def test_qwen25_vl_from_comfyui_names_with_its_vision_tower(tmp_path):
    from transformers import Qwen2_5_VLConfig, Qwen2_5_VLForConditionalGeneration

    torch.manual_seed(0)
    config = Qwen2_5_VLConfig(
        text_config={"hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 2, "num_attention_heads": 4,
                     "num_key_value_heads": 2, "vocab_size": 320, "rope_scaling": {"type": "mrope",
                                                                                   "mrope_section": [2, 3, 3]},
                     "bos_token_id": 1, "eos_token_id": 2},
        vision_config={"depth": 1, "hidden_size": 32, "intermediate_size": 64, "num_heads": 2, "out_hidden_size": 64,
                       "fullatt_block_indexes": [0]},
        image_token_id=300, video_token_id=301, vision_start_token_id=302)
    reference = _bf16_exact(Qwen2_5_VLForConditionalGeneration(config))
    folder = tmp_path / "text_encoder"
    reference.save_pretrained(folder)
    names = _checkpoint_names(reference)
    assert any(k.startswith("visual.") for k in names) and any(k.startswith("model.layers.") for k in names)
    path = tmp_path / "qwen_2.5_vl_7b.safetensors"
    save_file({k: v.to(torch.bfloat16).contiguous() for k, v in names.items()}, str(path))

    model = load_language_model("Qwen2_5_VLForConditionalGeneration", path, folder, torch.float32, "clip_name")

    assert torch.equal(model.model.visual.blocks[0].attn.qkv.weight, reference.model.visual.blocks[0].attn.qkv.weight)
    assert torch.allclose(_states(model, IDS)[-1], _states(reference, IDS)[-1], atol=1e-5)


def test_a_file_missing_layers_names_what_it_lacks(tmp_path):
    reference, folder = _qwen3(tmp_path)
    state = {k: v for k, v in _checkpoint_names(reference).items() if k != "model.layers.1.mlp.down_proj.weight"}
    path = tmp_path / "damaged.safetensors"
    save_file({k: v.contiguous() for k, v in state.items()}, str(path))
    with pytest.raises(NodeError, match=r"lack 1 tensor\(s\).*layers\.1\.mlp\.down_proj") as info:
        load_language_model("Qwen3Model", path, folder, torch.float32, "clip_name")
    assert info.value.field == "clip_name"


def test_a_file_of_another_size_loads_with_its_sizes_read_off_the_weights(tmp_path):
    """The shipped config is one size of the architecture (Qwen3 4B); a file of another (a tiny one
    here, 8B in real use) is built with the widths, heads and layers its tensors have."""
    reference, folder = _qwen3(tmp_path)
    shipped = tmp_path / "shipped"
    from transformers import Qwen3Config

    Qwen3Config(**{**QWEN3, "hidden_size": 128, "intermediate_size": 256, "num_hidden_layers": 4,
                   "num_attention_heads": 8, "num_key_value_heads": 4, "vocab_size": 1000}).save_pretrained(shipped)
    path = tmp_path / "qwen_3_tiny.safetensors"
    save_file({k: v.contiguous() for k, v in _checkpoint_names(reference).items()}, str(path))

    model = load_language_model("Qwen3Model", path, shipped, torch.float32, "clip_name")

    assert (model.config.hidden_size, model.config.num_hidden_layers, model.config.num_attention_heads) == (64, 2, 4)
    assert torch.allclose(_states(model, IDS)[-1], _states(reference.model, IDS)[-1], atol=1e-5)


def test_the_kind_of_a_text_encoder_file_is_read_from_its_keys(tmp_path):
    from nodes.models._language_encoders import language_model_type, model_type_of

    reference, folder = _qwen3(tmp_path)
    path = tmp_path / "qwen.safetensors"
    save_file({k: v.contiguous() for k, v in _checkpoint_names(reference).items()}, str(path))
    gguf_path = tmp_path / "qwen.gguf"
    _llama_cpp_file(gguf_path, reference, "qwen3")
    assert language_model_type(path) == language_model_type(folder) == language_model_type(gguf_path) == "qwen3"
    assert model_type_of("Qwen3Model") == "qwen3" and model_type_of("Gemma2Model") == "gemma2"
    clip = tmp_path / "clip_l.safetensors"
    save_file({"text_model.embeddings.token_embedding.weight": torch.zeros(4, 4)}, str(clip))
    assert language_model_type(clip) == ""


def test_a_missing_tokenizer_says_where_to_put_it(tmp_path):
    from nodes.models._language_encoders import language_tokenizer

    path = tmp_path / "qwen_3_4b.safetensors"
    path.write_bytes(b"")
    with pytest.raises(NodeError, match="no tokenizer for qwen_3_4b.safetensors: put its tokenizer files") as info:
        language_tokenizer(path, "Qwen2Tokenizer", tmp_path / "user" / "tokenizers", "clip_name")
    assert info.value.field == "clip_name" and str(tmp_path / "user" / "tokenizers") in str(info.value)
