"""Mask Threshold: NodeFlow's inclusive cut, ComfyUI's ThresholdMask (strictly above) imported with
inclusive off, and an inclusive threshold exported as the same cut in ComfyUI's terms."""

from __future__ import annotations

import torch

from nodeflow.core import default_registry
from nodeflow.core.context import RunContext
from nodeflow.interop.comfyui import export_api, import_data
from nodes.mask.masks import MaskThreshold

MASK = torch.tensor([[[0.0, 0.25, 0.5, 0.75]]])
PROMPT = {"1": {"class_type": "SolidMask", "inputs": {"value": 0.5, "width": 8, "height": 8}},
          "2": {"class_type": "ThresholdMask", "inputs": {"mask": ["1", 0], "value": 0.41}}}


def test_inclusive_and_strict_cuts_differ_only_at_the_threshold():
    assert MaskThreshold().run(RunContext(), MASK, 0.5)[0].tolist() == [[[0.0, 0.0, 1.0, 1.0]]]
    assert MaskThreshold().run(RunContext(), MASK, 0.5, False)[0].tolist() == [[[0.0, 0.0, 0.0, 1.0]]]
    assert MaskThreshold().run(RunContext(), MASK, 0.0, False)[0].tolist() == [[[0.0, 1.0, 1.0, 1.0]]]
    assert MaskThreshold.input("inclusive").default is True


def test_comfyuis_threshold_mask_imports_strict_and_exports_back():
    graph, report = import_data(PROMPT, default_registry())
    assert report.fully_mapped, report.lines()
    assert (graph.nodes["2"].type, graph.nodes["2"].params) == ("mask.threshold", {"threshold": 0.41,
                                                                                   "inclusive": False})
    assert export_api(graph)[0]["2"]["inputs"] == {"mask": ["1", 0], "value": 0.41}


def test_an_inclusive_threshold_exports_as_the_same_cut():
    graph, _ = import_data(PROMPT, default_registry())
    graph.nodes["2"].params = {"threshold": 0.5, "inclusive": True}  # as NodeFlow's own node makes it
    value = export_api(graph)[0]["2"]["inputs"]["value"]
    assert value < 0.5
    strict = MaskThreshold().run(RunContext(), MASK, value, False)[0]
    assert torch.equal(strict, MaskThreshold().run(RunContext(), MASK, 0.5)[0])
