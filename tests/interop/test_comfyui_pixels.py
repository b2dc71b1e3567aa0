"""ComfyUI txt2img, img2img and inpaint prompts on the built-in model give exactly the pixels of the
equivalent native NodeFlow workflow: in the comfyui sampling convention (the import's default) with
the same values, in the diffusers one with ComfyUI's steps/denoise converted to diffusers' strength."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image, ImageDraw

from nodeflow.core.context import ModelStore
from nodeflow.core.graph import Graph
from nodeflow.engine import Executor
from nodeflow.interop.comfyui import export_api, import_data
from tests.interop.comfy_graphs import img2img_api, inpaint_api, txt2img_api

PROMPT = "a red circle on a blue background"
#: One loaded model for every run here; each run still gets its own executor (no result cache shared).
MODELS = ModelStore()


def _native(registry, latent: str, image: str | None = None, steps: int = 6, denoise: float = 1.0,
            convention: str = "comfyui") -> Graph:
    """The workflow a NodeFlow user would build for the same job (ids match the prompts for clarity)."""
    g = Graph(registry)
    g.add_node("models.load_checkpoint", {"checkpoint": "tiny-shapes"}, node_id="4")
    for node_id, text in (("6", PROMPT), ("7", "")):
        g.add_node("conditioning.text_encode", {"text": text}, node_id=node_id)
        g.connect("4", "clip", node_id, "clip")
    if latent == "empty":
        g.add_node("latent.empty", {"width": 64, "height": 64, "batch_size": 1}, node_id="5")
        g.connect("4", "vae", "5", "vae")
        source = "5"
    else:
        g.add_node("image.load", {"image": image}, node_id="10")
        encode = "vae.encode" if latent == "encode" else "vae.encode_inpaint"
        g.add_node(encode, {"grow_mask_by": 6, "convention": convention} if latent == "inpaint" else {}, node_id="11")
        g.connect("10", "image", "11", "pixels")
        g.connect("4", "vae", "11", "vae")
        if latent == "inpaint":
            g.connect("10", "mask", "11", "mask")
        source = "11"
    g.add_node("sampling.sampler", {"seed": 7, "steps": steps, "cfg": 5.0, "sampler_name": "euler",
                                    "scheduler": "normal", "denoise": denoise, "convention": convention},
               node_id="3")
    for name, (src, out) in {"model": ("4", "model"), "positive": ("6", "conditioning"),
                             "negative": ("7", "conditioning"), "latent_image": (source, "latent")}.items():
        g.connect(src, out, "3", name)
    g.add_node("vae.decode", node_id="8")
    g.connect("3", "latent", "8", "latent")
    g.connect("4", "vae", "8", "vae")
    g.add_node("image.save", {"filename_prefix": "native"}, node_id="9")
    g.connect("8", "image", "9", "images")
    return g


def _pixels(graph: Graph, tmp_path) -> np.ndarray:
    result = Executor(graph.registry, device="cpu", models=MODELS).run(graph, output_dir=tmp_path / "out")
    assert result.ok, result.errors
    return np.asarray(result.values["8"]["image"])


@pytest.fixture
def picture(tmp_path):
    image = Image.new("RGBA", (64, 64), (30, 60, 200, 255))
    ImageDraw.Draw(image).ellipse((16, 16, 48, 48), fill=(220, 30, 30, 255))
    ImageDraw.Draw(image).rectangle((0, 40, 63, 63), fill=(0, 0, 0, 0))  # transparent: repaint here
    path = tmp_path / "in.png"
    image.save(path)
    return str(path)


def test_txt2img_matches_native(registry, tmp_path):
    graph, report = import_data(txt2img_api(), registry)
    assert report.fully_mapped
    comfy = _pixels(graph, tmp_path)
    assert comfy.shape[1:3] == (64, 64)
    assert np.array_equal(comfy, _pixels(_native(registry, "empty"), tmp_path))


def test_img2img_matches_native_in_both_conventions(registry, tmp_path, picture):
    graph, _ = import_data(img2img_api(picture, denoise=0.6, steps=6), registry)
    native = _native(registry, "encode", picture, steps=6, denoise=0.6)
    assert np.array_equal(_pixels(graph, tmp_path), _pixels(native, tmp_path))
    graph, _ = import_data(img2img_api(picture, denoise=0.6, steps=6), registry, convention="diffusers")
    assert (graph.nodes["3"].params["steps"], graph.nodes["3"].params["denoise"]) == (10, 0.6)
    native = _native(registry, "encode", picture, steps=10, denoise=0.6, convention="diffusers")
    assert np.array_equal(_pixels(graph, tmp_path), _pixels(native, tmp_path))


def test_inpaint_matches_native(registry, tmp_path, picture):
    graph, report = import_data(inpaint_api(picture), registry)
    assert report.fully_mapped and graph.nodes["11"].params["convention"] == "comfyui"
    assert not any("pixels are expected" in line for line in report.notes)  # not yet compared with ComfyUI
    assert any("pixels are not promised" in line and "node 11" in line for line in report.notes)
    assert np.array_equal(_pixels(graph, tmp_path), _pixels(_native(registry, "inpaint", picture), tmp_path))
    assert export_api(graph)[1] == []


def test_a_flow_family_graph_gets_no_pixel_promise(registry):
    """The comparison with ComfyUI ran on SD 1.5 checkpoints: the same KSampler after a flow model's guidance
    (Flux's FluxGuidance here) keeps ComfyUI's maths but is not promised ComfyUI's pixels."""
    prompt = txt2img_api()
    _, report = import_data(prompt, registry)
    assert any("node 3 (KSampler): ComfyUI's pixels are expected" in line for line in report.notes)
    prompt["12"] = {"class_type": "FluxGuidance", "inputs": {"conditioning": ["6", 0], "guidance": 3.5}}
    prompt["3"]["inputs"]["positive"] = ["12", 0]
    _, report = import_data(prompt, registry)
    assert not any("pixels are expected" in line for line in report.notes)
    assert any("pixels are not promised" in line and "FluxGuidance brings a model family" in line
               for line in report.notes)


def test_sampler_custom_gives_the_ksampler_pixels(registry, tmp_path):
    """SamplerCustom + KSamplerSelect + BasicScheduler is ComfyUI's KSampler taken apart."""
    prompt = txt2img_api()
    ksampler = prompt["3"]["inputs"]
    prompt["3"] = {"class_type": "SamplerCustom", "inputs": {
        "add_noise": True, "noise_seed": ksampler["seed"], "cfg": ksampler["cfg"], "model": ["4", 0],
        "positive": ["6", 0], "negative": ["7", 0], "sampler": ["12", 0], "sigmas": ["13", 0],
        "latent_image": ["5", 0]}}
    prompt["12"] = {"class_type": "KSamplerSelect", "inputs": {"sampler_name": ksampler["sampler_name"]}}
    prompt["13"] = {"class_type": "BasicScheduler", "inputs": {
        "scheduler": ksampler["scheduler"], "steps": ksampler["steps"], "denoise": 1.0, "model": ["4", 0]}}
    graph, report = import_data(prompt, registry)
    assert report.fully_mapped and graph.nodes["3"].type == "sampling.sampler_custom"
    assert np.array_equal(_pixels(graph, tmp_path), _pixels(_native(registry, "empty"), tmp_path))
