"""ComfyUI-GGUF's loaders (UnetLoaderGGUF, CLIPLoaderGGUF, DualCLIPLoaderGGUF) import as NodeFlow's
loaders, whose files may be GGUF: a Z-Image graph held as GGUF files maps fully."""

from __future__ import annotations

from nodeflow.core import default_registry
from nodeflow.interop.comfyui import import_data


def test_gguf_loaders_map_onto_the_loaders():
    prompt = {
        "1": {"class_type": "UnetLoaderGGUF", "inputs": {"unet_name": "z_image_turbo-Q8_0.gguf"}},
        "2": {"class_type": "CLIPLoaderGGUF", "inputs": {"clip_name": "Qwen3-4B-Q8_0.gguf", "type": "lumina2"}},
        "3": {"class_type": "DualCLIPLoaderGGUF", "inputs": {"clip_name1": "clip_l.safetensors",
                                                             "clip_name2": "t5-v1_1-xxl-Q8_0.gguf", "type": "flux"}},
        "4": {"class_type": "TripleCLIPLoaderGGUF", "inputs": {"clip_name1": "clip_l.safetensors",
                                                               "clip_name2": "clip_g.safetensors",
                                                               "clip_name3": "t5-v1_1-xxl-Q8_0.gguf"}},
    }
    graph, report = import_data(prompt, default_registry())
    assert report.fully_mapped, report.lines()
    assert (graph.nodes["1"].type, graph.nodes["1"].params) == ("models.load_unet",
                                                                 {"unet": "z_image_turbo-Q8_0.gguf"})
    assert graph.nodes["2"].params == {"clip_name": "Qwen3-4B-Q8_0.gguf", "family": "lumina2"}
    assert graph.nodes["3"].params == {"clip_name": "clip_l.safetensors", "clip_name_2": "t5-v1_1-xxl-Q8_0.gguf",
                                       "family": "flux"}
    assert graph.nodes["4"].params["family"] == "sd3"
