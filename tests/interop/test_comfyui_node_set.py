"""ComfyUI workflows using issue 12's node set import fully mapped, with their values and links."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from nodeflow.core import default_registry
from nodeflow.engine import Executor
from nodeflow.interop.comfyui import import_data

SOURCE = str(Path(__file__).resolve().parents[2] / "workflows" / "inputs" / "red_circle.png")


def _prompt():
    return {
        "1": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": "tiny-shapes"}},
        "2": {"class_type": "CLIPTextEncode", "inputs": {"text": "a red circle", "clip": ["1", 1]}},
        "3": {"class_type": "CLIPTextEncode", "inputs": {"text": "", "clip": ["1", 1]}},
        "4": {"class_type": "ControlNetLoader", "inputs": {"control_net_name": "canny.safetensors"}},
        "5": {"class_type": "LoadImage", "inputs": {"image": SOURCE}},
        "6": {"class_type": "ControlNetApplyAdvanced", "inputs": {
            "positive": ["2", 0], "negative": ["3", 0], "control_net": ["4", 0], "image": ["5", 0],
            "strength": 0.7, "start_percent": 0.1, "end_percent": 0.8}},
        "7": {"class_type": "ImagePadForOutpaint", "inputs": {
            "image": ["5", 0], "left": 8, "top": 0, "right": 16, "bottom": 0, "feathering": 4}},
        "8": {"class_type": "GrowMask", "inputs": {"mask": ["7", 1], "expand": 2, "tapered_corners": True}},
        "9": {"class_type": "FeatherMask", "inputs": {"mask": ["8", 0], "left": 4, "top": 0, "right": 0,
                                                      "bottom": 0}},
        "10": {"class_type": "MaskComposite", "inputs": {"destination": ["9", 0], "source": ["7", 1], "x": 0,
                                                         "y": 0, "operation": "multiply"}},
        "11": {"class_type": "MaskToImage", "inputs": {"mask": ["10", 0]}},
        "12": {"class_type": "ImageBatch", "inputs": {"image1": ["7", 0], "image2": ["11", 0]}},
        "13": {"class_type": "ImageCrop", "inputs": {"image": ["12", 0], "width": 48, "height": 40, "x": 4,
                                                     "y": 2}},
        "14": {"class_type": "SaveImage", "inputs": {"images": ["13", 0], "filename_prefix": "set"}},
        "15": {"class_type": "EmptyLatentImage", "inputs": {"width": 64, "height": 64, "batch_size": 2}},
        "16": {"class_type": "RepeatLatentBatch", "inputs": {"samples": ["15", 0], "amount": 2}},
        "17": {"class_type": "LatentFromBatch", "inputs": {"samples": ["16", 0], "batch_index": 1, "length": 2}},
        "18": {"class_type": "LatentBatch", "inputs": {"samples1": ["17", 0], "samples2": ["15", 0]}},
        "19": {"class_type": "LatentComposite", "inputs": {"samples_to": ["18", 0], "samples_from": ["15", 0],
                                                           "x": 16, "y": 8, "feather": 8}},
        "20": {"class_type": "UpscaleModelLoader", "inputs": {"model_name": "4x.safetensors"}},
        "21": {"class_type": "ImageUpscaleWithModel", "inputs": {"upscale_model": ["20", 0], "image": ["5", 0]}},
        "22": {"class_type": "CLIPTextEncodeSDXL", "inputs": {
            "clip": ["1", 1], "width": 1024, "height": 768, "crop_w": 0, "crop_h": 8, "target_width": 1024,
            "target_height": 768, "text_g": "a cat", "text_l": "a dog"}},
        "24": {"class_type": "LoraLoaderModelOnly", "inputs": {"model": ["1", 0], "lora_name": "style.safetensors",
                                                               "strength_model": 0.6}},
        "23": {"class_type": "ControlNetApply", "inputs": {"conditioning": ["2", 0], "control_net": ["4", 0],
                                                           "image": ["5", 0], "strength": 0.5}},
    }


def test_node_set_imports_fully_mapped_with_values_and_links():
    graph, report = import_data(_prompt(), default_registry())
    assert report.placeholders == [] and report.problems == [], report.lines()
    by_id = {record.id: record for record in graph.nodes.values()}
    types = {i: r.type for i, r in by_id.items()}
    assert types["6"] == types["23"] == "conditioning.apply_controlnet"
    assert {k: by_id["6"].params[k] for k in ("strength", "start", "end")} == {"strength": 0.7, "start": 0.1,
                                                                                "end": 0.8}
    assert by_id["7"].params["right"] == 16 and by_id["7"].params["feathering"] == 4
    assert by_id["13"].params == {"width": 48, "height": 40, "x": 4, "y": 2}
    assert by_id["24"].type == "models.load_lora_model_only" and by_id["24"].params["strength_model"] == 0.6
    assert by_id["22"].params["text_g"] == "a cat" and by_id["22"].params["crop_h"] == 8
    links = {(link.src, link.src_output, link.dst, link.dst_input) for link in graph.links.values()}
    assert ("7", "mask", "8", "mask") in links
    assert ("18", "latent", "19", "destination") in links and ("15", "latent", "19", "source") in links
    assert ("2", "conditioning", "23", "positive") in links


def test_imported_mask_and_image_ops_run(tmp_path):
    prompt = {k: v for k, v in _prompt().items() if k in {"5", "7", "8", "9", "10", "11", "12", "13", "14"}}
    graph, report = import_data(prompt, default_registry())
    assert report.fully_mapped, report.lines()
    # The picture is the shipped example input, read as a workflow saved beside it would.
    result = Executor(device="cpu").run(graph, output_dir=tmp_path, workflow_dir=Path(SOURCE).parent)
    assert result.ok, result.errors
    saved = sorted(tmp_path.glob("*.png"))
    assert len(saved) == 2  # the padded picture and its mask, cropped to 48 x 40
    padded, mask = (np.array(Image.open(p).convert("RGB")) for p in saved)
    assert padded.shape == mask.shape == (40, 48, 3)
    assert np.isin(padded[:, :4], (127, 128)).all()  # grey 0.5 border on the left (8 pixels, 4 cropped off)
    assert (mask[:, :4] == 255).all() and (mask[20, 30] == 0).all()
