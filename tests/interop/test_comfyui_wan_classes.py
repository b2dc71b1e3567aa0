"""ComfyUI's Wan classes (`classes/wan.py`) map both ways: an API prompt with WanImageToVideo,
WanFirstLastFrameToVideo, Wan22ImageToVideoLatent and EmptyHunyuanLatentVideo imports onto NodeFlow's
nodes with every value and link and exports back to the same prompt."""

from __future__ import annotations

from nodeflow.interop.comfyui import export_api, import_data


def _prompt() -> dict:
    sizes = {"width": 640, "height": 480, "length": 81, "batch_size": 1}
    return {
        "1": {"class_type": "CLIPLoader", "inputs": {"clip_name": "umt5_xxl.safetensors", "type": "wan",
                                                      "device": "default"}},
        "2": {"class_type": "CLIPTextEncode", "inputs": {"text": "a cat", "clip": ["1", 0]}},
        "3": {"class_type": "VAELoader", "inputs": {"vae_name": "wan_2.1_vae.safetensors"}},
        "4": {"class_type": "LoadImage", "inputs": {"image": "start.png"}},
        "5": {"class_type": "LoadImage", "inputs": {"image": "end.png"}},
        "6": {"class_type": "WanImageToVideo", "inputs": {"positive": ["2", 0], "negative": ["2", 0],
                                                         "vae": ["3", 0], "start_image": ["4", 0], **sizes}},
        "7": {"class_type": "WanFirstLastFrameToVideo",
              "inputs": {"positive": ["6", 0], "negative": ["6", 1], "vae": ["3", 0], "start_image": ["4", 0],
                         "end_image": ["5", 0], **sizes}},
        "8": {"class_type": "Wan22ImageToVideoLatent", "inputs": {"vae": ["3", 0], "start_image": ["4", 0],
                                                                 **sizes | {"width": 1280, "height": 704}}},
        "9": {"class_type": "EmptyHunyuanLatentVideo", "inputs": {**sizes, "batch_size": 2}},
    }


def test_the_wan_classes_round_trip(registry):
    prompt = _prompt()
    graph, report = import_data(prompt, registry)
    assert report.fully_mapped, report.lines()
    types = {node_id: record.type for node_id, record in graph.nodes.items()}
    assert [types[n] for n in ("6", "7", "8", "9")] == ["wan.image_to_video", "wan.first_last_frame_to_video",
                                                        "wan.image_to_video_latent", "latent.empty_video"]
    assert graph.nodes["8"].params["width"] == 1280 and graph.nodes["9"].params["batch_size"] == 2
    back, problems = export_api(graph)
    assert problems == []
    for node_id in ("6", "7", "8", "9"):
        assert back[node_id]["class_type"] == prompt[node_id]["class_type"]
        assert back[node_id]["inputs"] == prompt[node_id]["inputs"]
