"""Every example workflow is canonical, matches its builder, and runs headlessly."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image
from workflow_builder import BUILDERS, FLOW_MODEL, MODEL, ROOT, SOURCE, WORKFLOWS

from nodeflow.core import default_registry, files, workflow
from nodeflow.core.masks import decode_mask
from nodeflow.engine import Executor

SHIPPED = sorted(p.stem for p in WORKFLOWS.glob("*.json"))
#: The examples on tiny-shapes-flow (a Flux-shaped model: reference latents, true CFG), named flow_*.
FLOW = [name for name in SHIPPED if name.startswith("flow_")]
BUILTIN_MODEL = ROOT / MODEL
BUILTIN_FLOW_MODEL = ROOT / "resources" / "models" / FLOW_MODEL


def test_every_workflow_has_a_builder_and_back():
    assert SHIPPED == sorted(BUILDERS)


@pytest.mark.parametrize("name", SHIPPED)
def test_workflow_file_is_canonical_and_up_to_date(name):
    text = (WORKFLOWS / f"{name}.json").read_text(encoding="utf-8")
    graph, report = workflow.loads(text, default_registry())
    assert report.messages == []
    assert workflow.dumps(graph) == text
    assert workflow.dumps(BUILDERS[name]()) == text, "regenerate with tests/nodes/workflow_builder.py"


def _load(name, checkpoint=None, steps=None):
    graph, _ = files.load(WORKFLOWS / f"{name}.json", default_registry())
    for node_id, record in graph.nodes.items():
        if checkpoint is not None and record.type == "models.load_checkpoint":
            graph.set_param(node_id, "checkpoint", str(checkpoint))
        if steps is not None and "steps" in record.params:
            graph.set_param(node_id, "steps", steps)
    return graph


def _check_outputs(name, result, output_dir):
    saved = sorted(output_dir.glob("*.png"))
    assert saved, "the workflow saved nothing"
    for png in saved:
        assert files.read_png_workflow(png)
    size = Image.open(saved[0]).size
    if name == "hires_fix":
        assert size == (96, 96)  # 64 x 1.5
    if name == "outpaint":
        assert size == (96, 64)  # 32 pixels added on the right
    if name == "inpaint":
        source = np.array(Image.open(ROOT / SOURCE).convert("RGB"))
        w, h, painted = decode_mask(BUILDERS["inpaint"]().nodes["4"].params["painted_mask"])
        keep = np.frombuffer(painted, np.uint8).reshape(h, w) == 0
        out = np.array(Image.open(saved[0]))
        np.testing.assert_array_equal(out[keep], source[keep])


@pytest.mark.parametrize("name", SHIPPED)
def test_workflow_runs_on_the_builtin_model(name, tmp_path, torch_threads):
    model = BUILTIN_FLOW_MODEL if name in FLOW else BUILTIN_MODEL
    if not (model / "model_index.json").is_file():
        pytest.skip(f"the built-in model is not in {model} yet (train it with tools/train_tiny_model.py or "
                    "tools/train_tiny_flow_model.py)")
    result = Executor(device="cpu").run(_load(name), output_dir=tmp_path, workflow_dir=WORKFLOWS)
    assert result.ok, result.errors
    _check_outputs(name, result, tmp_path)
    _check_drawing(name, sorted(tmp_path.glob("*.png")))


def _share(pixels, rgb):
    """Share of pixels within 60 (per channel) of a colour."""
    return (np.abs(pixels.astype(int) - rgb).max(axis=-1) < 60).mean()


def _check_drawing(name, saved):
    """What the built-in model draws with the examples that use the new nodes."""
    pictures = [np.array(Image.open(p).convert("RGB")) for p in saved]
    if name == "area_prompt":  # a red circle in the left half, a yellow square in the right
        for picture in pictures:
            left, right = picture[:, :32], picture[:, 32:]
            assert _share(left, (220, 30, 30)) > 0.1 > _share(right, (220, 30, 30))
            assert _share(right, (230, 210, 40)) > 0.1 > _share(left, (230, 210, 40))
    if name in FLOW:  # tiny-shapes-flow keeps the blue background the prompts name
        for picture in pictures:
            assert _share(picture[:4], (35, 70, 225)) > 0.8
    if name == "flow_txt2img":  # a small yellow star on the left
        for picture in pictures:
            assert _share(picture[:, :32], (245, 225, 40)) > 0.03 > _share(picture[:, 32:], (245, 225, 40))
    if name == "flow_edit":  # the red circle in the center recoloured green
        centre = pictures[0][24:40, 24:40]
        assert _share(centre, (30, 170, 50)) > 0.8 and _share(centre, (220, 30, 30)) < 0.05
    if name == "outpaint":  # the original stays, the new border continues its blue background
        source = np.array(Image.open(ROOT / SOURCE).convert("RGB"))
        assert np.abs(pictures[0][:, :48].astype(int) - source[:, :48]).mean() < 12
        assert _share(pictures[0][:, 64:], (40, 60, 220)) > 0.8


@pytest.mark.parametrize("name", [name for name in SHIPPED if name not in FLOW])
def test_workflow_runs_on_a_tiny_random_model(name, tiny_sd, tmp_path):
    """The same graphs on the tests' random model, so they are exercised even without the built-in one
    (the flow examples need a Flux-shaped model: tiny-shapes-flow ships, so they run on it above)."""
    result = Executor(device="cpu").run(_load(name, checkpoint=tiny_sd, steps=3), output_dir=tmp_path,
                                        workflow_dir=WORKFLOWS)
    assert result.ok, result.errors
    _check_outputs(name, result, tmp_path)
