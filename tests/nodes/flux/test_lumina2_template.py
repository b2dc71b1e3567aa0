"""ComfyUI's official NetaYume Lumina template imports fully mapped and runs, in the comfyui convention,
on a tiny random Lumina 2 all-in-one checkpoint (CheckpointLoaderSimple: transformer, Gemma 2 and the
Flux VAE in one file), its prompts' system prefixes joined by String Concatenate."""

from __future__ import annotations

import torch
from official_templates import import_template
from tiny_lumina2 import comfyui_files

from nodeflow.core import default_registry
from nodeflow.engine import Executor


def test_the_netayume_template_runs_on_tiny_weights(tiny_lumina2, tmp_path):
    checkpoint = comfyui_files(tiny_lumina2, tmp_path / "models")["checkpoint"]
    graph, comfy_class = import_template("image_netayume_lumina_t2i")
    loaders = [n for n, kind in comfy_class.items() if kind == "CheckpointLoaderSimple"]
    assert len(loaders) == 1
    graph.set_param(loaders[0], "checkpoint", str(checkpoint))
    kinds = {record.type: record.params for record in graph.nodes.values()}
    assert kinds["models.model_sampling_aura_flow"]["shift"] == 4.0  # the template's shift, not the default 6
    assert kinds["sampling.sampler"]["convention"] == "comfyui"
    for node_id, record in graph.nodes.items():
        if record.type == "latent.empty":  # 64 x 64, not the template's 1024
            for field in ("width", "height"):
                graph.disconnect(node_id, field)
                graph.set_param(node_id, field, 64)
        if "steps" in record.params:
            graph.set_param(node_id, "steps", 2)
    torch.manual_seed(0)
    result = Executor(device="cpu").run(graph, output_dir=tmp_path / "out")
    assert result.ok, result.errors
    assert len(sorted((tmp_path / "out").glob("NetaYume_Lumina_3.5*.png"))) == 1


def test_clip_text_encode_lumina2_and_renorm_cfg_map_to_their_nodes():
    from nodeflow.interop.comfyui import import_data

    api = {"1": {"class_type": "CLIPTextEncodeLumina2",
                 "inputs": {"system_prompt": "alignment", "user_prompt": "a cat", "clip": ["2", 0]}},
           "2": {"class_type": "CLIPLoader", "inputs": {"clip_name": "gemma_2_2b_fp16.safetensors", "type": "lumina2"}},
           "3": {"class_type": "UNETLoader", "inputs": {"unet_name": "lumina_2.safetensors",
                                                          "weight_dtype": "default"}},
           "4": {"class_type": "RenormCFG", "inputs": {"model": ["3", 0], "cfg_trunc": 0.8, "renorm_cfg": 1.5}}}
    graph, report = import_data(api, default_registry())
    assert report.fully_mapped, report.lines()
    assert graph.nodes["1"].type == "lumina2.text_encode"
    assert graph.nodes["1"].params == {"system_prompt": "alignment", "user_prompt": "a cat", "long_prompt": "chunk"}
    assert graph.nodes["4"].type == "sampling.renorm_cfg"
    assert graph.nodes["4"].params == {"cfg_trunc": 0.8, "renorm_cfg": 1.5}
