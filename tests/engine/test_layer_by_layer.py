"""Layer-by-layer execution (accelerate's sequential offload) gives the pixels of resident execution.

On CUDA and MPS a component bigger than the budget runs with its weights held in CPU RAM and each
layer's moved to the device only while that layer runs. The CPU never offloads, so these tests let
the memory manager treat the CPU as an offload device: the hooks, the weight map and the per-layer
moves are accelerate's own, as on a GPU; only the device the layers visit is the CPU itself.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from nodeflow.core import default_registry, files
from nodeflow.engine import Executor, offload_rule
from nodeflow.engine.memory import MemoryManager

pytest.importorskip("accelerate")
ROOT = Path(__file__).resolve().parents[2]


def _pixels(folder: Path) -> list[np.ndarray]:
    return [np.asarray(Image.open(path)) for path in sorted(folder.glob("*.png"))]


def _graph():
    graph, _ = files.load(ROOT / "workflows" / "txt2img.json", default_registry())
    for node_id, record in graph.nodes.items():
        if record.type == "latent.empty":
            graph.set_param(node_id, "batch_size", 1)
        if record.type == "sampling.sampler":
            graph.set_param(node_id, "steps", 2)
    return graph


def test_components_streamed_layer_by_layer_give_the_resident_pixels(tmp_path, monkeypatch):
    resident = Executor(device="cpu", previews=False).run(_graph(), output_dir=tmp_path / "resident",
                                                          workflow_dir=ROOT / "workflows")
    assert resident.ok, resident.errors

    monkeypatch.setattr(offload_rule, "OFFLOAD_DEVICES", ("cuda", "mps", "cpu"))
    # in float32 the UNet (11 MB) is over it alone and the VAE (1 MB) beside its decoding work (2.6 MB),
    # though it came onto the device for Empty Latent; the text encoder (0.3 MB) fits
    manager = MemoryManager(budget=3 * 10**6)
    streamed = Executor(device="cpu", models=manager, previews=False).run(_graph(), output_dir=tmp_path / "streamed",
                                                                               workflow_dir=ROOT / "workflows")
    assert streamed.ok, streamed.errors
    places = {name.split()[-1]: place for name, _, place in manager.snapshot()}
    assert places["unet"] == places["vae"] == "sequential" and places["text_encoder"] != "sequential", places
    assert manager.device_bytes() <= manager.budget

    before, after = _pixels(tmp_path / "resident"), _pixels(tmp_path / "streamed")
    assert before and len(before) == len(after)
    for a, b in zip(before, after):
        np.testing.assert_array_equal(a, b)


def test_a_component_a_pass_through_node_brought_in_is_streamed_when_the_next_node_needs_work_room():
    """A switch passes a model on and needs no work room beside it, so the model comes onto the device;
    the sampler after it needs its work beside the weights: what no longer fits then runs layer by
    layer (the plan says the same, from the same rule)."""
    assert offload_rule.streamed({"unet": 15, "vae": 1}, 16) == []
    assert offload_rule.streamed({"unet": 15, "vae": 1}, 16 - 2) == ["unet"]
    assert offload_rule.streamed({"a": 8, "b": 10}, 15) == ["a"]  # the largest is placed first
