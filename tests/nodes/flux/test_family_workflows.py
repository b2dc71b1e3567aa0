"""The flow families' example workflows (workflows/families/) are canonical, match their builder, and
run on tiny random weights of their architecture put in place of the models they name."""

from __future__ import annotations

import shutil

import pytest
from family_workflows import BUILDERS, FOLDER

from nodeflow.core import default_registry, files, workflow
from nodeflow.engine import Executor

SHIPPED = sorted(p.stem for p in FOLDER.glob("*.json"))


def test_every_family_workflow_has_a_builder():
    assert SHIPPED == sorted(BUILDERS)


@pytest.mark.parametrize("name", SHIPPED)
def test_family_workflow_is_canonical_and_up_to_date(name):
    text = (FOLDER / f"{name}.json").read_text(encoding="utf-8")
    graph, report = workflow.loads(text, default_registry())
    assert report.messages == []
    assert workflow.dumps(BUILDERS[name]()) == text, "regenerate with tests/nodes/flux/family_workflows.py"


def _split(folder, tmp_path):
    """A pipeline folder's parts as a ComfyUI user keeps them apart: each text encoder with its
    tokenizer beside it (in one folder), the transformer and the VAE as they are."""
    parts = {}
    for encoder in sorted(folder.glob("text_encoder*")):
        target = tmp_path / encoder.name
        shutil.copytree(encoder, target)
        for item in (folder / encoder.name.replace("text_encoder", "tokenizer")).iterdir():
            shutil.copy(item, target / item.name)
        parts[encoder.name] = target
    return parts


RUNS = [("flux_dev_txt2img", "tiny_flux8"), ("flux_dev_fp8_txt2img", "tiny_flux8"), ("sd35_txt2img", "tiny_sd3")]


@pytest.mark.parametrize(("name", "fixture"), RUNS)
def test_family_workflow_runs_on_tiny_weights(name, fixture, request, tmp_path):
    folder = request.getfixturevalue(fixture)
    parts = _split(folder, tmp_path / "parts")
    graph, _ = files.load(FOLDER / f"{name}.json", default_registry())
    for node_id, record in graph.nodes.items():
        if record.type == "models.load_unet":
            graph.set_param(node_id, "unet", str(folder / "transformer"))
        elif record.type == "models.load_vae":
            graph.set_param(node_id, "vae", str(folder / "vae"))
        elif record.type == "models.load_clip":
            for field, part in zip(("clip_name", "clip_name_2", "clip_name_3"), sorted(parts), strict=False):
                graph.set_param(node_id, field, str(parts[part]))
        elif record.type == "latent.empty":
            graph.set_param(node_id, "width", 32)
            graph.set_param(node_id, "height", 32)
        elif record.type == "sampling.sampler":
            graph.set_param(node_id, "steps", 2)
    result = Executor(device="cpu").run(graph, output_dir=tmp_path / "out")
    assert result.ok, result.errors
    assert sorted((tmp_path / "out").glob("*.png"))
