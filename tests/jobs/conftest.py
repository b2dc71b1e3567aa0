"""Workflows for job tests: a text pipeline that needs no torch, and txt2img on the built-in model."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TXT2IMG = ROOT / "workflows" / "txt2img.json"

TEXT_WORKFLOW = {
    "format": "nodeflow-workflow", "version": 1,
    "nodes": [{"id": "1", "type": "basic.int", "params": {"value": 4}},
              {"id": "2", "type": "basic.format_text", "params": {"template": "n={a} {b}"}},
              {"id": "3", "type": "basic.save_text", "params": {"filename_prefix": "result"}},
              {"id": "4", "type": "basic.text", "params": {"text": "x"}}],
    "links": [{"from": ["1", "value"], "to": ["2", "a"]}, {"from": ["4", "text"], "to": ["2", "b"]},
              {"from": ["2", "text"], "to": ["3", "text"]}],
}


@pytest.fixture
def text_wf(tmp_path) -> Path:
    path = tmp_path / "text.json"
    path.write_text(json.dumps(TEXT_WORKFLOW))
    return path


def small_txt2img(tmp_path: Path, steps: int = 3) -> Path:
    """txt2img with one small image per job, fast enough for tests on two cores."""
    data = json.loads(TXT2IMG.read_text())
    for node in data["nodes"]:
        if node["type"] == "latent.empty":
            node["params"].update(batch_size=1, width=32, height=32)
        if node["type"] == "sampling.sampler":
            node["params"]["steps"] = steps
        if node["type"] == "models.load_checkpoint":
            node["params"]["checkpoint"] = str(ROOT / "resources/models/tiny-shapes")
    path = tmp_path / "small_txt2img.json"
    path.write_text(json.dumps(data))
    return path
