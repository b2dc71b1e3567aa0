"""ComfyUI's official Kandinsky 5 Image template (image_kandinsky5_t2i) imports fully mapped and runs, in
the comfyui convention, on tiny random weights stored as the files it names: the transformer alone
(kandinsky5lite_t2i, sized from its tensors with the shipped rotary axes), Qwen2.5-VL in transformers'
checkpoint names and CLIP-L through DualCLIPLoader's type kandinsky5_image, the 16-channel VAE."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from official_templates import import_template, place_files
from safetensors.torch import save_file

from nodeflow.engine import Executor

templates = pytest.importorskip("comfyui_workflow_templates_json")


def _files(out: Path) -> dict[str, tuple[str, Path]]:
    from diffusers import Kandinsky5Transformer3DModel
    from tiny_flow import clip_tokenizer, qwen25_vl_encoder, qwen_tokenizer, vae16
    from transformers import CLIPTextConfig, CLIPTextModel
    from transformers.core_model_loading import revert_weight_conversion

    torch.manual_seed(0)
    # one head of the real 128 width and rope axes, so the shipped config's axes fit
    transformer = Kandinsky5Transformer3DModel(in_visual_dim=16, out_visual_dim=16, in_text_dim=128, in_text_dim2=32,
                                               time_dim=32, model_dim=128, ff_dim=64, num_text_blocks=1,
                                               num_visual_blocks=1, axes_dims=(32, 48, 48))
    unet = out / "kandinsky5lite_t2i.safetensors"
    save_file({k: v.contiguous() for k, v in transformer.state_dict().items()}, str(unet))
    encoders = out / "text_encoders"
    encoders.mkdir()
    qwen = encoders / "qwen_2.5_vl_7b_fp8_scaled.safetensors"
    tokenizer = qwen_tokenizer(encoders / f"{qwen.stem}.tokenizer", vision=True)
    encoder = qwen25_vl_encoder(tokenizer, 128, real_heads=True)
    save_file({k: v.contiguous() for k, v in revert_weight_conversion(encoder, encoder.state_dict()).items()},
              str(qwen))
    clip = encoders / "clip_l.safetensors"
    clip_tokenizer(encoders / f"{clip.stem}.tokenizer_2")
    model = CLIPTextModel(CLIPTextConfig(vocab_size=128, hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                                         num_attention_heads=4, max_position_embeddings=77, bos_token_id=0,
                                         eos_token_id=1, pad_token_id=1, hidden_act="quick_gelu"))
    save_file({k: v.contiguous() for k, v in model.state_dict().items()}, str(clip))
    vae = out / "vae"
    vae16(levels=4).save_pretrained(vae)
    return {"UNETLoader": ("unet", unet), "VAELoader": ("vae", vae), "qwen": ("clip_name", qwen),
            "clip": ("clip_name_2", clip)}


def test_kandinsky5_template_runs_on_tiny_weights(tmp_path):
    files = _files(tmp_path)
    graph, comfy_class = import_template("image_kandinsky5_t2i")
    place_files(graph, comfy_class, files)
    for node_id, record in graph.nodes.items():
        kind = comfy_class.get(node_id)
        if kind == "DualCLIPLoader":
            assert record.params["family"] == "kandinsky5_image"
            for part in ("qwen", "clip"):
                graph.set_param(node_id, files[part][0], str(files[part][1]))
        elif record.type == "latent.empty":
            graph.set_param(node_id, "width", 64)
            graph.set_param(node_id, "height", 64)
        elif record.type.startswith("sampling.") and "steps" in record.params:
            graph.set_param(node_id, "steps", 2)
    result = Executor(device="cpu").run(graph, output_dir=tmp_path / "out")
    assert result.ok, result.errors
    assert sorted((tmp_path / "out").glob("*.png"))
