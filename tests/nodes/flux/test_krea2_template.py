"""ComfyUI's official Krea 2 Turbo templates (text to image, bf16 and int8 ConvRot) import fully mapped
and run, in the comfyui convention, on tiny random Krea 2 weights stored as ComfyUI's files are, their
prompt-enhancing TextGenerate included (Qwen3-VL writing with its tied head); so does the style-reference
template (its LoRA, Qwen3-VL reading the reference picture in Text Encode (Qwen-Image Edit Plus), the
reference's latents held still at t = 0 by index_timestep_zero)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from official_templates import import_template
from test_krea2_files import comfyui_files, convrot_file

from nodeflow.engine import Executor

templates = pytest.importorskip("comfyui_workflow_templates_json")


@pytest.fixture(scope="module")
def files(tiny_krea2_8, tmp_path_factory):
    out = tmp_path_factory.mktemp("krea2_template_files")
    unet, clip = comfyui_files(tiny_krea2_8, out)
    return {"bf16": unet, "int8": convrot_file(unet, out), "clip": clip, "vae": tiny_krea2_8 / "vae"}


def _prepared(name: str, unet: Path, files: dict, picture: Path | None = None):
    graph, comfy_class = import_template(name)
    loaders = {"UNETLoader": ("unet", unet), "CLIPLoader": ("clip_name", files["clip"]),
               "VAELoader": ("vae", files["vae"])}
    for node_id, record in graph.nodes.items():
        kind = comfy_class.get(node_id)
        if kind in loaders:
            assert kind != "CLIPLoader" or record.params["family"] == "krea2"
            graph.set_param(node_id, loaders[kind][0], str(loaders[kind][1]))
        elif record.type == "image.load" and picture is not None:
            graph.set_param(node_id, "image", str(picture))
        elif record.type == "conditioning.generate_text":
            graph.set_param(node_id, "max_length", 8)  # a few tokens of the tiny model's prompt enhancing
        if record.type == "latent.empty":  # 64 x 64, not the Resolution Selector's megapixel
            for field in ("width", "height"):
                graph.disconnect(node_id, field)
                graph.set_param(node_id, field, 64)
        if "steps" in record.params:
            graph.set_param(node_id, "steps", 2)
    return graph


@pytest.mark.parametrize("name,weights", [("image_krea2_turbo_t2i", "bf16"), ("image_krea2_turbo_t2i_int8", "int8")])
def test_krea2_text_to_image_templates_run_on_tiny_weights(name, weights, files, tmp_path):
    graph = _prepared(name, files[weights], files)
    torch.manual_seed(0)
    result = Executor(device="cpu").run(graph, output_dir=tmp_path / "out")
    assert result.ok, result.errors
    assert len(sorted((tmp_path / "out").glob("Krea2_turbo_*.png"))) == 1


def test_the_style_reference_template_runs_on_tiny_weights(files, source_png, tmp_path):
    from PIL import Image
    from safetensors.torch import save_file

    lora = tmp_path / "loras" / "krea2_style_reference.safetensors"
    lora.parent.mkdir()
    torch.manual_seed(1)
    save_file({"transformer.transformer_blocks.0.attn.to_q.lora_A.weight": torch.randn(2, 128) * 0.1,
               "transformer.transformer_blocks.0.attn.to_q.lora_B.weight": torch.randn(128, 2) * 0.1}, str(lora))
    graph = _prepared("image_krea2_turbo_int8_image_style_reference", files["int8"], files, source_png[0])
    for node_id, record in graph.nodes.items():
        if record.type == "models.load_lora_model_only":
            graph.set_param(node_id, "lora", str(lora))
    torch.manual_seed(0)
    result = Executor(device="cpu").run(graph, output_dir=tmp_path / "out")
    assert result.ok, result.errors
    (saved,) = sorted((tmp_path / "out").glob("Krea2_turbo_style_reference_*.png"))
    picture = np.asarray(Image.open(saved))
    assert picture.shape == (64, 64, 3) and picture.std() > 5
