"""ComfyUI workflows written for the tests (API prompts and a small UI workflow), all on tiny-shapes."""

from __future__ import annotations

from typing import Any


def txt2img_api(seed: int = 7, steps: int = 6, denoise: float = 1.0, latent: Any = None) -> dict[str, Any]:
    prompt = {
        "4": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": "tiny-shapes"}},
        "5": {"class_type": "EmptyLatentImage", "inputs": {"width": 64, "height": 64, "batch_size": 1}},
        "6": {"class_type": "CLIPTextEncode",
              "inputs": {"text": "a red circle on a blue background", "clip": ["4", 1]}},
        "7": {"class_type": "CLIPTextEncode", "inputs": {"text": "", "clip": ["4", 1]}},
        "3": {"class_type": "KSampler", "inputs": {
            "seed": seed, "steps": steps, "cfg": 5.0, "sampler_name": "euler", "scheduler": "normal",
            "denoise": denoise, "model": ["4", 0], "positive": ["6", 0], "negative": ["7", 0],
            "latent_image": latent or ["5", 0]}},
        "8": {"class_type": "VAEDecode", "inputs": {"samples": ["3", 0], "vae": ["4", 2]}},
        "9": {"class_type": "SaveImage", "inputs": {"filename_prefix": "comfy", "images": ["8", 0]}},
    }
    return prompt


def img2img_api(image: str, denoise: float = 0.6, steps: int = 6) -> dict[str, Any]:
    prompt = txt2img_api(steps=steps, denoise=denoise, latent=["11", 0])
    prompt["10"] = {"class_type": "LoadImage", "inputs": {"image": image, "upload": "image"}}
    prompt["11"] = {"class_type": "VAEEncode", "inputs": {"pixels": ["10", 0], "vae": ["4", 2]}}
    del prompt["5"]
    return prompt


def inpaint_api(image: str, steps: int = 6) -> dict[str, Any]:
    prompt = txt2img_api(steps=steps, latent=["11", 0])
    prompt["10"] = {"class_type": "LoadImage", "inputs": {"image": image}}
    prompt["11"] = {"class_type": "VAEEncodeForInpaint",
                    "inputs": {"pixels": ["10", 0], "vae": ["4", 2], "mask": ["10", 1], "grow_mask_by": 6}}
    del prompt["5"]
    return prompt


def ui_workflow() -> dict[str, Any]:
    """A schema-0.4 UI file: KSampler with a seed control, a Reroute, a PrimitiveNode, a Note, a group."""
    return {
        "last_node_id": 12, "last_link_id": 12, "version": 0.4,
        "nodes": [
            {"id": 4, "type": "CheckpointLoaderSimple", "pos": [0, 0], "size": {"0": 300, "1": 100}, "mode": 0,
             "outputs": [{"name": "MODEL", "type": "MODEL", "links": [1]}, {"name": "CLIP", "type": "CLIP",
                         "links": [2, 3]}, {"name": "VAE", "type": "VAE", "links": [4]}],
             "widgets_values": ["tiny-shapes"]},
            {"id": 6, "type": "CLIPTextEncode", "pos": [350, 0], "mode": 0, "title": "Positive",
             "inputs": [{"name": "clip", "type": "CLIP", "link": 2}], "outputs": [{"name": "CONDITIONING",
                                                                                   "links": [5]}],
             "widgets_values": ["a red circle on a blue background"]},
            {"id": 7, "type": "CLIPTextEncode", "pos": [350, 200], "mode": 0,
             "inputs": [{"name": "clip", "type": "CLIP", "link": 3}], "outputs": [{"name": "CONDITIONING",
                                                                                   "links": [6]}],
             "widgets_values": [""]},
            {"id": 5, "type": "EmptyLatentImage", "pos": [350, 400], "mode": 0,
             "outputs": [{"name": "LATENT", "links": [7]}], "widgets_values": [64, 64, 1]},
            {"id": 10, "type": "Reroute", "pos": [600, 300], "mode": 0,
             "inputs": [{"name": "", "type": "*", "link": 7}], "outputs": [{"name": "", "type": "LATENT",
                                                                            "links": [8]}]},
            {"id": 11, "type": "PrimitiveNode", "pos": [600, 500], "mode": 0,
             "outputs": [{"name": "INT", "type": "INT", "links": [9], "widget": {"name": "steps"}}],
             "widgets_values": [6, "fixed"]},
            {"id": 3, "type": "KSampler", "pos": [700, 0], "mode": 0, "color": "#223",
             "inputs": [{"name": "model", "type": "MODEL", "link": 1}, {"name": "positive", "link": 5},
                        {"name": "negative", "link": 6}, {"name": "latent_image", "link": 8},
                        {"name": "steps", "type": "INT", "link": 9, "widget": {"name": "steps"}}],
             "outputs": [{"name": "LATENT", "links": [10]}],
             "widgets_values": [7, "increment", 20, 5.0, "euler", "normal", 1.0]},
            {"id": 8, "type": "VAEDecode", "pos": [1000, 0], "mode": 0,
             "inputs": [{"name": "samples", "link": 10}, {"name": "vae", "link": 4}],
             "outputs": [{"name": "IMAGE", "links": [11]}]},
            {"id": 9, "type": "SaveImage", "pos": [1200, 0], "mode": 0,
             "inputs": [{"name": "images", "link": 11}], "widgets_values": ["comfy"]},
            {"id": 12, "type": "Note", "pos": [0, 400], "mode": 0, "widgets_values": ["read me"]},
        ],
        "links": [[1, 4, 0, 3, 0, "MODEL"], [2, 4, 1, 6, 0, "CLIP"], [3, 4, 1, 7, 0, "CLIP"],
                  [4, 4, 2, 8, 1, "VAE"], [5, 6, 0, 3, 1, "CONDITIONING"], [6, 7, 0, 3, 2, "CONDITIONING"],
                  [7, 5, 0, 10, 0, "*"], [8, 10, 0, 3, 3, "LATENT"], [9, 11, 0, 3, 4, "INT"],
                  [10, 3, 0, 8, 0, "LATENT"], [11, 8, 0, 9, 0, "IMAGE"]],
        "groups": [{"title": "Prompts", "bounding": [330, -40, 340, 330], "color": "#3f789e"}],
        "config": {}, "extra": {},
    }
