"""ComfyUI's official FLUX.3 [klein] templates (text to image and image edit, base and step-distilled)
import fully mapped, and run in the comfyui convention on tiny random FLUX.3 weights stored as ComfyUI's
files: the base text-to-image template with its prompt upsampling TextGenerate (the tiny Qwen3-VL writing
with its head), the distilled edit template through its layout prompt and Reference Multi Latent."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from tiny_flux3 import comfyui_files

from nodeflow.core import default_registry
from nodeflow.engine import Executor
from nodeflow.interop.comfyui import import_source
from nodeflow.interop.comfyui.source import read_source

templates = pytest.importorskip("comfyui_workflow_templates_json")
NAMES = ("image_flux3_klein_t2i", "image_flux3_klein_image_edit", "image_flux3_klein_distilled_t2i",
         "image_flux3_klein_distilled_image_edit")


def _imported(name: str):
    path = Path(templates.__file__).parent / "templates" / f"{name}.json"
    graph, report = import_source(read_source(path), default_registry(), flatten_subgraphs=True)
    assert report.fully_mapped, report.lines()
    return graph, {m[0]: m[1] for m in report.mapped}


@pytest.mark.parametrize("name", NAMES)
def test_the_flux3_templates_import_fully_mapped(name):
    graph, comfy_class = _imported(name)
    loaders = [graph.nodes[i] for i, kind in comfy_class.items() if kind == "CLIPLoader"]
    assert loaders and all(record.params["family"] == "flux3" for record in loaders)
    assert any(record.type == "flux3.layout_prompt" for record in graph.nodes.values())


@pytest.fixture(scope="module")
def files(tiny_flux3_8, tmp_path_factory):
    unet, clip = comfyui_files(tiny_flux3_8, tmp_path_factory.mktemp("flux3_template_files"))
    return {"unet": unet, "clip": clip, "vae": tiny_flux3_8 / "vae"}


def _prepared(name: str, files: dict, picture: Path | None = None, layout: bool = False):
    graph, comfy_class = _imported(name)
    loaders = {"UNETLoader": ("unet", files["unet"]), "CLIPLoader": ("clip_name", files["clip"]),
               "VAELoader": ("vae", files["vae"])}
    for node_id, record in graph.nodes.items():
        kind = comfy_class.get(node_id)
        if kind in loaders:
            graph.set_param(node_id, loaders[kind][0], str(loaders[kind][1]))
        elif record.type == "image.load" and picture is not None:
            graph.set_param(node_id, "image", str(picture))
        elif record.type == "conditioning.generate_text":
            graph.set_param(node_id, "max_length", 8)  # a few tokens of the tiny model's prompt upsampling
        elif record.type == "basic.switch" and layout:
            graph.set_param(node_id, "switch", True)  # the layout prompt's branch, not the upsampler's
        elif record.type == "flux3.reference_multi_latent":
            graph.set_param(node_id, "megapixels", 0.01)  # a reference of about 100 x 100 pixels
        if record.type == "latent.empty":  # 64 x 64, not the Resolution Selector's megapixel
            for field in ("width", "height"):
                graph.disconnect(node_id, field)
                graph.set_param(node_id, field, 64)
        if "steps" in record.params:
            graph.set_param(node_id, "steps", 2)
    return graph


def test_the_text_to_image_template_runs_on_tiny_weights(files, tmp_path):
    graph = _prepared("image_flux3_klein_t2i", files)
    torch.manual_seed(0)
    result = Executor(device="cpu").run(graph, output_dir=tmp_path / "out")
    assert result.ok, result.errors
    assert len(sorted((tmp_path / "out").glob("image_flux3_klein_base_t2i*.png"))) == 1


def test_the_distilled_edit_template_runs_through_its_layout_prompt(files, source_png, tmp_path):
    from PIL import Image

    picture = tmp_path / "portrait.png"
    Image.open(source_png[0]).convert("RGB").resize((96, 128)).save(picture)
    graph = _prepared("image_flux3_klein_distilled_image_edit", files, picture, layout=True)
    result = Executor(device="cpu").run(graph, output_dir=tmp_path / "out")
    assert result.ok, result.errors
    (saved,) = sorted((tmp_path / "out").glob("image_flux3_klein_distilled_image_edit*.png"))
    assert Image.open(saved).size == (96, 112)  # the reference at about 0.01 MP, sides on the 16-pixel grid
