"""ComfyUI's CLIP vision classes and ScaleROPE (`classes/vision.py`) map both ways: an API prompt where
CLIPVisionLoader and CLIPVisionEncode feed WanImageToVideo's clip_vision_output and
WanFirstLastFrameToVideo's two CLIP vision inputs, and ScaleROPE patches the model, imports onto NodeFlow's
nodes with every value and link and exports back to the same prompt."""

from __future__ import annotations

from nodeflow.interop.comfyui import export_api, import_data


def _prompt() -> dict:
    sizes = {"width": 720, "height": 720, "length": 5, "batch_size": 1}
    return {
        "1": {"class_type": "CLIPLoader", "inputs": {"clip_name": "umt5_xxl.safetensors", "type": "wan",
                                                      "device": "default"}},
        "2": {"class_type": "CLIPTextEncode", "inputs": {"text": "a cat", "clip": ["1", 0]}},
        "3": {"class_type": "VAELoader", "inputs": {"vae_name": "wan_2.1_vae.safetensors"}},
        "4": {"class_type": "LoadImage", "inputs": {"image": "start.png"}},
        "5": {"class_type": "CLIPVisionLoader", "inputs": {"clip_name": "clip_vision_h.safetensors"}},
        "6": {"class_type": "CLIPVisionEncode", "inputs": {"clip_vision": ["5", 0], "image": ["4", 0],
                                                          "crop": "none"}},
        "7": {"class_type": "WanImageToVideo", "inputs": {"positive": ["2", 0], "negative": ["2", 0],
                                                         "vae": ["3", 0], "start_image": ["4", 0],
                                                         "clip_vision_output": ["6", 0], **sizes}},
        "8": {"class_type": "CLIPVisionEncode", "inputs": {"clip_vision": ["5", 0], "image": ["4", 0],
                                                          "crop": "center"}},
        "9": {"class_type": "WanFirstLastFrameToVideo",
              "inputs": {"positive": ["7", 0], "negative": ["7", 1], "vae": ["3", 0], "start_image": ["4", 0],
                         "end_image": ["4", 0], "clip_vision_start_image": ["6", 0],
                         "clip_vision_end_image": ["8", 0], **sizes}},
        "10": {"class_type": "UNETLoader", "inputs": {"unet_name": "chrono_edit_14B_fp16.safetensors",
                                                      "weight_dtype": "default"}},
        "11": {"class_type": "ScaleROPE", "inputs": {"model": ["10", 0], "scale_x": 1.0, "shift_x": 0.0,
                                                     "scale_y": 1.0, "shift_y": 0.0, "scale_t": 7.0,
                                                     "shift_t": 0.0}},
    }


def test_the_vision_classes_round_trip(registry):
    prompt = _prompt()
    graph, report = import_data(prompt, registry)
    assert report.fully_mapped, report.lines()
    types = {node_id: record.type for node_id, record in graph.nodes.items()}
    assert [types[n] for n in ("5", "6", "11")] == ["vision.load_clip_vision", "vision.clip_vision_encode",
                                                    "models.scale_rope"]
    assert graph.nodes["11"].params["scale_t"] == 7.0 and graph.nodes["6"].params["crop"] == "none"
    back, problems = export_api(graph)
    assert problems == []
    for node_id in ("5", "6", "7", "8", "9", "11"):
        assert back[node_id]["class_type"] == prompt[node_id]["class_type"]
        assert back[node_id]["inputs"] == prompt[node_id]["inputs"]
