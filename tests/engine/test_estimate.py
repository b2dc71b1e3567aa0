"""The one memory estimate: node needs, available memory, and refusals that name node and field."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

from nodeflow.core import Graph, default_registry
from nodeflow.core.byte_sizes import format_bytes
from nodeflow.engine.estimate import available_bytes, memory_problems, node_estimates
from nodeflow.engine.plan import validate


@pytest.fixture
def graph():
    return Graph(default_registry())


def test_available_memory_is_a_positive_byte_count():
    free = available_bytes("cpu")
    assert isinstance(free, int) and free > 0
    assert available_bytes("cuda") > 0  # without torch imported or CUDA: the RAM answer


def test_format_bytes_reads_like_disk_tools():
    assert format_bytes(512) == "512 B"
    assert format_bytes(17_179_869_184) == "17.2 GB"


def test_empty_latent_need_scales_with_batch_and_size(graph):
    small = graph.add_node("latent.empty", {"width": 512, "height": 512, "batch_size": 1}).id
    big = graph.add_node("latent.empty", {"width": 512, "height": 512, "batch_size": 4}).id
    needs = {e.node_id: e for e in node_estimates(graph, [small, big], ())}
    assert needs[small].bytes >= 512 * 512 * 3 * 4
    assert needs[big].bytes == 4 * needs[small].bytes
    assert needs[big].field == "batch_size" and "512x512" in needs[big].reason


def test_work_over_the_available_memory_is_refused_with_node_field_and_numbers(graph):
    node = graph.add_node("latent.empty", {"width": 16384, "height": 16384, "batch_size": 64}).id
    problems = memory_problems(node_estimates(graph, [node], ()), "cpu", available=8 * 10**9)
    assert len(problems) == 1
    assert (problems[0].node_id, problems[0].field) == (node, "batch_size")
    text = str(problems[0])
    assert "GB" in text and "8.0 GB of memory is available on cpu" in text


def test_load_image_pixel_budget_reads_only_the_header(graph, tmp_path: Path):
    big = tmp_path / "big.png"
    Image.new("L", (12000, 12000)).save(big)  # ~140 KB on disk, 144 million pixels
    node = graph.add_node("image.load", {"image": str(big)}).id
    preview = graph.add_node("image.preview").id
    graph.connect(node, "image", preview, "images")
    problems = validate(graph)
    assert [(p.node_id, p.field) for p in problems] == [(node, "image")]
    assert "12000x12000" in str(problems[0]) and "budget" in str(problems[0])


def test_a_small_workflow_fits(graph):
    node = graph.add_node("latent.empty", {"width": 64, "height": 64, "batch_size": 1}).id
    assert memory_problems(node_estimates(graph, [node], ()), "cpu") == []


def test_muted_nodes_need_nothing(graph):
    node = graph.add_node("latent.empty", {"width": 16384, "height": 16384, "batch_size": 64}).id
    graph.set_mode(node, "muted")
    assert node_estimates(graph, [node], ()) == []
