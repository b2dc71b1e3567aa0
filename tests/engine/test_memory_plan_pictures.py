"""The memory plan's pictures: a size of 0 is the native side of the model the latent is sampled
with, and resizes on the way (a hires-fix upscale) grow the work of the nodes after them."""

from __future__ import annotations

import json
import struct
from pathlib import Path

import pytest

from nodeflow.core import Graph, default_registry, files
from nodeflow.core.paths import RESOURCES
from nodeflow.engine.memory_plan import make_memory_plan
from nodeflow.engine.plan import make_plan
from nodes.models._weights import native_side

ROOT = Path(__file__).resolve().parents[2]
TINY = RESOURCES / "models" / "tiny-shapes"


def _plan(graph: Graph):
    return make_memory_plan(graph, make_plan(graph).order, (ROOT,), "cpu", 8 * 10**9)


def _txt2img(width: int, height: int, batch: int = 1) -> tuple[Graph, str, str]:
    graph, _ = files.load(ROOT / "workflows" / "txt2img.json", default_registry())
    latent = next(i for i, r in graph.nodes.items() if r.type == "latent.empty")
    decode = next(i for i, r in graph.nodes.items() if r.type == "vae.decode")
    for name, value in (("width", width), ("height", height), ("batch_size", batch)):
        graph.set_param(latent, name, value)
    return graph, latent, decode


def test_native_sides_of_the_shipped_configs_and_the_built_in_model():
    assert native_side(TINY) == 64
    assert native_side(RESOURCES / "configs" / "sd15") == 512
    assert native_side(RESOURCES / "configs" / "sd21") == 768
    assert native_side(RESOURCES / "configs" / "sdxl") == 1024


def _header_only(path: Path, keys: dict[str, list[int]]) -> Path:
    header = json.dumps({k: {"dtype": "F16", "shape": s, "data_offsets": [0, 0]} for k, s in keys.items()})
    path.write_bytes(struct.pack("<Q", len(header)) + header.encode())
    return path


_CROSS = "model.diffusion_model.input_blocks.1.1.transformer_blocks.0.attn2.to_k.weight"


@pytest.mark.parametrize(("keys", "side"), [
    ({"model.diffusion_model.input_blocks.0.0.weight": [320, 4, 3, 3], _CROSS: [320, 768],
      "cond_stage_model.transformer.text_model.final_layer_norm.weight": [768]}, 512),
    ({"model.diffusion_model.input_blocks.0.0.weight": [320, 4, 3, 3],
      "model.diffusion_model.label_emb.0.0.weight": [1280, 2816],
      "conditioner.embedders.1.model.ln_final.weight": [1280]}, 1024),
    ({"model.diffusion_model.input_blocks.0.0.weight": [320, 4, 3, 3], _CROSS: [320, 1024],
      "cond_stage_model.model.ln_final.weight": [1024]}, 768),
    ({"model.diffusion_model.input_blocks.0.0.weight": [320, 9, 3, 3], _CROSS: [320, 1024],
      "cond_stage_model.model.ln_final.weight": [1024]}, 512),
    ({"input_blocks.0.0.weight": [320, 4, 3, 3], "label_emb.0.0.weight": [1280, 2816]}, 1024),  # a lone SDXL UNet
])
def test_native_side_of_a_single_file_from_its_header(tmp_path, keys, side):
    assert native_side(_header_only(tmp_path / "model.safetensors", keys)) == side


def test_native_side_of_an_unreadable_file_is_unknown(tmp_path):
    (tmp_path / "broken.safetensors").write_bytes(b"not a header")
    assert native_side(tmp_path / "broken.safetensors") == 0
    assert native_side(tmp_path / "missing") == 0


def test_an_empty_latent_at_size_0_is_planned_at_the_models_native_side():
    native, _, decode = _txt2img(0, 0, batch=4)
    explicit, _, _ = _txt2img(64, 64, batch=4)
    large, _, _ = _txt2img(1024, 1024, batch=4)
    by_id = {n.node_id: n for n in _plan(native).nodes}
    assert by_id[decode].work == {n.node_id: n for n in _plan(explicit).nodes}[decode].work
    assert by_id[decode].work * 20 < {n.node_id: n for n in _plan(large).nodes}[decode].work
    assert _plan(native).peak < 50 * 10**6  # 12 MB of weights + a batch of 64x64 pictures


def test_one_side_at_0_takes_the_native_side_for_that_side_only():
    wide, latent, _ = _txt2img(256, 0)
    square, _, _ = _txt2img(256, 64)
    assert {n.node_id: n.work for n in _plan(wide).nodes}[latent] == \
        {n.node_id: n.work for n in _plan(square).nodes}[latent]


def test_without_a_model_downstream_the_latent_takes_its_vaes_side():
    graph = Graph(default_registry())
    ckpt = graph.add_node("models.load_checkpoint", {"checkpoint": str(TINY)}).id
    latent = graph.add_node("latent.empty", {"width": 0, "height": 0, "batch_size": 2}).id
    graph.connect(ckpt, "vae", latent, "vae")
    decode = graph.add_node("vae.decode", {}).id
    graph.connect(latent, "latent", decode, "latent")
    graph.connect(ckpt, "vae", decode, "vae")
    save = graph.add_node("image.preview", {}).id
    graph.connect(decode, "image", save, "images")
    work = {n.node_id: n.work for n in _plan(graph).nodes}
    graph.set_param(latent, "width", 64)
    graph.set_param(latent, "height", 64)
    assert work == {n.node_id: n.work for n in _plan(graph).nodes}


def test_a_hires_fix_upscale_grows_the_second_samplers_and_the_decodes_work():
    graph, _ = files.load(ROOT / "workflows" / "hires_fix.json", default_registry())
    upscale = next(i for i, r in graph.nodes.items() if r.type == "latent.upscale")
    samplers = sorted((i for i, r in graph.nodes.items() if r.type == "sampling.sampler"),
                      key=lambda i: i == next(link.dst for link in graph.links_from(upscale)))
    graph.set_param(upscale, "scale_by", 2.0)
    work = {n.node_id: n.work for n in _plan(graph).nodes}
    assert work[samplers[1]] == pytest.approx(4 * work[samplers[0]], rel=0.01)
    graph.set_param(upscale, "scale_by", 1.0)
    assert {n.node_id: n.work for n in _plan(graph).nodes}[samplers[1]] == work[samplers[0]]


def test_an_image_scale_to_a_larger_size_grows_the_encode_after_it():
    graph, _ = files.load(ROOT / "workflows" / "img2img.json", default_registry())
    load = next(i for i, r in graph.nodes.items() if r.type == "image.load")
    encode = next(i for i, r in graph.nodes.items() if r.type == "vae.encode")
    before = {n.node_id: n.work for n in _plan(graph).nodes}[encode]
    link = graph.link_into(encode, "pixels")
    graph.disconnect(encode, "pixels")
    scale = graph.add_node("image.scale", {"width": 256, "height": 256}).id
    graph.connect(link.src, link.src_output, scale, "image")
    graph.connect(scale, "image", encode, "pixels")
    assert link.src == load
    after = {n.node_id: n.work for n in _plan(graph).nodes}[encode]
    assert after == pytest.approx(before * (256 * 256) / (64 * 64), rel=0.01)


def _tiny_shapes_workflows() -> list[str]:
    """The shipped workflows on tiny-shapes (the SD-shaped built-in model) that
    bench/memory_budget.py measures; the flow examples run on tiny-shapes-flow."""
    return sorted(p.name for p in (ROOT / "workflows").glob("*.json")
                  if '"resources/models/tiny-shapes"' in p.read_text())


@pytest.mark.parametrize("workflow", _tiny_shapes_workflows())
def test_every_shipped_workflow_is_planned_near_what_it_measures(workflow):
    """bench/memory_budget.py measures 15-21 MB of peak growth for each (weights 12.2 MB + pictures
    of 64x64): the plan must not guess SDXL-sized pictures for the built-in model."""
    graph, _ = files.load(ROOT / "workflows" / workflow, default_registry())
    plan = _plan(graph)
    weights = sum(b for n in plan.nodes if n.node_id == "1" for _, b in n.components)
    assert weights == pytest.approx(12.2e6, rel=0.05)
    assert weights < plan.peak < 2 * weights
    assert {n.node_id for n in plan.nodes} == set(make_plan(graph).order)


@pytest.mark.parametrize("workflow", ["flow_txt2img.json", "flow_img2img.json", "flow_edit.json"])
def test_the_flow_examples_count_the_flow_models_own_files(workflow):
    """The flow examples' Load Checkpoint counts tiny-shapes-flow's files, not tiny-shapes'."""
    graph, _ = files.load(ROOT / "workflows" / workflow, default_registry())
    weights = sum(b for n in _plan(graph).nodes if n.node_id == "1" for _, b in n.components)
    on_disk = sum(f.stat().st_size for f in (RESOURCES / "models" / "tiny-shapes-flow").rglob("*.safetensors"))
    assert weights == pytest.approx(on_disk, rel=0.02)


def test_a_model_files_header_is_read_once_per_version(tmp_path):
    """The editor's estimate asks after every edit: a large file's header is kept until the file
    changes (its modification time or size)."""
    import os

    from nodes.models._weights import CACHED_FILE_BYTES_MIN, safetensors_header

    path = _header_only(tmp_path / "big.safetensors", {"a": [1, 2]})
    with path.open("r+b") as handle:
        handle.truncate(CACHED_FILE_BYTES_MIN + 1)  # sparse: no disk used
    stamp = path.stat().st_mtime_ns
    assert safetensors_header(path)["a"]["shape"] == [1, 2]
    with path.open("r+b") as handle:  # same length, same size: only the cache can tell
        start = handle.read(200)
        handle.seek(0)
        handle.write(start.replace(b"[1, 2]", b"[3, 4]"))
    os.utime(path, ns=(stamp, stamp))
    assert safetensors_header(path)["a"]["shape"] == [1, 2]
    os.utime(path, ns=(stamp + 10**9, stamp + 10**9))
    assert safetensors_header(path)["a"]["shape"] == [3, 4]


def test_a_checkpoint_named_through_the_model_library_is_sized(tmp_path, monkeypatch):
    """ComfyUI workflows name checkpoints by library name, as the run resolves them; the plan must
    size the same file, not plan 0 bytes for a name it cannot find as a path."""
    (tmp_path / "checkpoints").mkdir()
    (tmp_path / "checkpoints" / "shapes-copy").symlink_to(TINY, target_is_directory=True)
    monkeypatch.setenv("NODEFLOW_MODEL_PATHS", str(tmp_path))
    graph, _ = files.load(ROOT / "workflows" / "txt2img.json", default_registry())
    loader = next(i for i, r in graph.nodes.items() if r.type == "models.load_checkpoint")
    graph.set_param(loader, "checkpoint", "shapes-copy")
    plan = make_memory_plan(graph, make_plan(graph).order, (tmp_path / "elsewhere",), "cpu", 8 * 10**9)
    sizes = dict(next(n for n in plan.nodes if n.node_id == loader).components)
    assert sizes[f"unet (node {loader})"] == pytest.approx(10.9e6, rel=0.05)


def test_a_fifo_named_as_a_model_never_blocks_the_plan(tmp_path):
    """A hostile workflow may name a FIFO: reading its 'header' would wait for a writer forever."""
    import os
    import threading

    from nodes.models._lora import patched_counts
    from nodes.models._weights import safetensors_header, weight_count

    fifo = tmp_path / "model.safetensors"
    os.mkfifo(fifo)
    results = []
    worker = threading.Thread(target=lambda: results.append(
        (safetensors_header(fifo), weight_count(fifo), patched_counts(fifo), native_side(fifo))), daemon=True)
    worker.start()
    worker.join(10)
    assert results == [({}, 0, {}, 0)]


def test_a_repeated_batch_and_a_joined_batch_grow_the_decodes_work_by_their_pictures():
    """Sizes flow through the graph as batches: a decode after Repeat Latent Batch x4 decodes four
    times the pictures, and after Latent Batch of the repeat with itself, eight times."""
    graph, _, decode = _txt2img(64, 64)
    before = {n.node_id: n.work for n in _plan(graph).nodes}[decode]
    link = graph.link_into(decode, "latent")
    graph.disconnect(decode, "latent")
    repeat = graph.add_node("latent.repeat_batch", {"amount": 4}).id
    graph.connect(link.src, link.src_output, repeat, "latent")
    graph.connect(repeat, "latent", decode, "latent")
    assert {n.node_id: n.work for n in _plan(graph).nodes}[decode] == pytest.approx(4 * before, rel=0.01)
    graph.disconnect(decode, "latent")
    joined = graph.add_node("latent.batch", {}).id
    graph.connect(repeat, "latent", joined, "latent_1")
    graph.connect(repeat, "latent", joined, "latent_2")
    graph.connect(joined, "latent", decode, "latent")
    assert {n.node_id: n.work for n in _plan(graph).nodes}[decode] == pytest.approx(8 * before, rel=0.01)
