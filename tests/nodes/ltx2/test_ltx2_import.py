"""ComfyUI's official LTX-2 templates: the LTX classes NodeFlow has import mapped, their widget values
landing on the inputs ComfyUI names (read off the i2v template's saved values)."""

from __future__ import annotations

from pathlib import Path

import pytest

from nodeflow.core import default_registry
from nodeflow.interop.comfyui import import_source
from nodeflow.interop.comfyui.classes.ltx import LTX
from nodeflow.interop.comfyui.source import read_source

templates = pytest.importorskip("comfyui_workflow_templates_json")


@pytest.fixture(scope="module")
def i2v():
    path = Path(templates.__file__).parent / "templates" / "video_ltx2_3_i2v.json"
    return import_source(read_source(path), default_registry(), flatten_subgraphs=True)


def test_the_i2v_templates_ltx_classes_all_map(i2v):
    graph, report = i2v
    unmapped = {cls for _, cls, _ in report.placeholders}
    mapped = {m[1] for m in report.mapped}
    ours = {e.comfy for e in LTX}
    assert not ours & unmapped
    assert {"EmptyLTXVLatentVideo", "LTXVEmptyLatentAudio", "LTXVConcatAVLatent", "LTXVSeparateAVLatent",
            "LTXVConditioning", "LTXVCropGuides", "LTXVAudioVAELoader", "LTXVAudioVAEDecode"} <= mapped


def test_the_i2v_templates_values_land_on_comfyuis_inputs(i2v):
    graph, report = i2v
    comfy_class = {m[0]: m[1] for m in report.mapped}
    params = {comfy_class[i]: r.params for i, r in graph.nodes.items() if comfy_class.get(i, "").startswith("EmptyLTXV")
              or comfy_class.get(i) in ("LTXVConditioning", "LTXVEmptyLatentAudio")}
    video = params["EmptyLTXVLatentVideo"]
    assert (video["width"], video["height"], video["length"], video["batch_size"]) == (768, 512, 97, 1)
    assert params["LTXVConditioning"]["frame_rate"] == 24
    audio = params["LTXVEmptyLatentAudio"]
    assert (audio["frames_number"], audio["frame_rate"], audio["batch_size"]) == (97, 25, 1)
