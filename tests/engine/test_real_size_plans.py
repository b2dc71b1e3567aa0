"""The memory plan at real sizes: ComfyUI's Qwen-Image, FLUX.2 [dev] and Z-Image Turbo templates with
files of their real parts' sizes (built on the meta device from the shipped configs, headers only:
tests/real_size_models.py), planned on a 24 GB GPU and under a 16 GB budget.

Before Run the plan must say that the text encoder runs first and leaves the device when the
transformer needs the room, and that a transformer over the budget runs layer by layer from CPU
RAM, with sizes that are the parameter counts times the stored bytes (Qwen-Image's 20.4 billion
weights: 40.9 GB in bf16, 20.4 GB in fp8).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from nodeflow.core import default_registry
from nodeflow.engine.memory_plan import MemoryPlan, make_memory_plan
from nodeflow.engine.plan import make_plan, plan_graph, validate
from nodeflow.interop.comfyui import import_source
from nodeflow.interop.comfyui.source import read_source

templates = pytest.importorskip("comfyui_workflow_templates_json")
pytest.importorskip("accelerate")
import real_size_models as real  # noqa: E402

GB = 10 ** 9
FIELDS = {"UNETLoader": "unet", "CLIPLoader": "clip_name", "VAELoader": "vae"}


@pytest.fixture(scope="module")
def families(tmp_path_factory) -> dict[str, real.Family]:
    folder = tmp_path_factory.mktemp("real_size")
    return {build.__name__: build(folder) for build in (real.qwen_image, real.flux2_dev, real.z_image)}


def _plan(family: real.Family, budget: int, **variants: str) -> tuple[MemoryPlan, object]:
    """The family's template with the loaders on the files of `variants` ({loader class: variant};
    the first variant otherwise), planned on CUDA under `budget`."""
    source = read_source(Path(templates.__file__).parent / "templates" / f"{family.template}.json")
    graph, report = import_source(source, default_registry(), flatten_subgraphs=True)
    comfy_class = {m[0]: m[1] for m in report.mapped}
    loaders = [node_id for node_id in graph.nodes if comfy_class.get(node_id) in FIELDS]
    for node_id in loaders:
        files = family.files[comfy_class[node_id]]
        chosen = variants.get(comfy_class[node_id], next(iter(files)))
        graph.set_param(node_id, FIELDS[comfy_class[node_id]], str(files[chosen]))
    folder = next(iter(family.files["VAELoader"].values())).parent
    # the loaders take the files (the template's LoRA and input pictures are not at hand: not checked)
    assert [p for p in validate(graph, workflow_dir=folder) if p.node_id in loaders] == []
    graph = plan_graph(graph)
    return make_memory_plan(graph, make_plan(graph).order, (folder,), "cuda", budget), graph


#: The node types that sample: KSampler's and SamplerCustomAdvanced's (FLUX.2's template).
SAMPLERS = ("sampling.sampler", "sampling.sample")


def _node(plan: MemoryPlan, graph, *node_types: str):
    return next(n for n in plan.nodes if graph.nodes[n.node_id].type in node_types and n.components)


def _left_before(plan: MemoryPlan, node, part: str) -> bool:
    """Whether `part` leaves the device for `node` or for a node before it."""
    return any(name.startswith(part + " ") for n in plan.nodes[: plan.nodes.index(node) + 1] for name, _ in n.left)


def _size(node, part: str) -> int:
    return sum(b for name, b in node.components if name.startswith(part + " "))


def test_the_built_files_weigh_what_the_templates_say(families):
    """The meta-built parts have the published parameter counts, and the plan counts each file at
    the size ComfyUI's template prints for it (within 1%; fp8 files keep vectors in bf16)."""
    qwen, flux2, z_image = families["qwen_image"], families["flux2_dev"], families["z_image"]
    billions = {name: {part: round(n / 1e9, 2) for part, n in f.params.items()} for name, f in families.items()}
    assert billions == {"qwen_image": {"transformer": 20.43, "text_encoder": 8.29},
                        "flux2_dev": {"transformer": 32.22, "text_encoder": 17.78},
                        "z_image": {"transformer": 6.15, "text_encoder": 4.02}}
    plans = {
        "qwen_image_fp8_e4m3fn.safetensors": _plan(qwen, 24 * GB)[0],
        "qwen_image_distill_full_bf16.safetensors": _plan(qwen, 24 * GB, UNETLoader="bf16")[0],
        "mistral_3_small_flux2_bf16.safetensors": _plan(flux2, 24 * GB, CLIPLoader="bf16")[0],
        "z_image_turbo_bf16.safetensors": _plan(z_image, 24 * GB)[0],
    }
    for name, plan in plans.items():
        sizes = {n: b for node in plan.nodes for n, b in node.components}
        part = "text_encoder" if "mistral" in name else "unet"
        planned = next(b for n, b in sizes.items() if n.startswith(part + " "))
        assert planned == pytest.approx(real.TEMPLATE_GIB[name] * real.GIB, rel=0.01), name
        if part == "unet" and "qwen" in name:
            encoder = next(b for n, b in sizes.items() if n.startswith("text_encoder "))
            assert encoder == pytest.approx(real.TEMPLATE_GIB["qwen_2.5_vl_7b_fp8_scaled.safetensors"] * real.GIB,
                                            rel=0.01)
        if "z_image" in name:
            encoder = next(b for n, b in sizes.items() if n.startswith("text_encoder "))
            assert encoder == pytest.approx(real.TEMPLATE_GIB["qwen_3_4b.safetensors"] * real.GIB, rel=0.01)


def test_qwen_image_fp8_on_24_gb_the_encoder_leaves_and_the_transformer_is_resident(families):
    qwen = families["qwen_image"]
    plan, graph = _plan(qwen, 24 * GB)
    sampler, encode = _node(plan, graph, *SAMPLERS), _node(plan, graph, "conditioning.text_encode")
    assert _size(sampler, "unet") == pytest.approx(qwen.params["transformer"], rel=0.001)  # one byte a weight
    assert _size(sampler, "text_encoder") == 0 and not sampler.streamed
    assert plan.nodes.index(encode) < plan.nodes.index(sampler)
    moves = plan.moves()
    assert _left_before(plan, sampler, "text_encoder"), moves
    assert any(line.startswith("text_encoder") and "leaves the device" in line and "offloaded to CPU RAM" in line
               for line in moves), moves
    assert not any("layer by layer" in line for line in moves)
    assert plan.peak <= 24 * GB and plan.problems() == []


@pytest.mark.parametrize(("budget", "unet", "streams"), [(24, "bf16", True), (16, "fp8", True), (16, "Q4_K", False)])
def test_qwen_image_transformer_over_the_budget_runs_layer_by_layer(families, budget, unet, streams):
    """bf16 (40.9 GB) on a 24 GB GPU and fp8 (20.4 GB) under 16 GB are over the budget alone: the plan
    says they run layer by layer from CPU RAM; a Q4_K GGUF file (4.5 bits a weight) fits in 16 GB."""
    qwen = families["qwen_image"]
    plan, graph = _plan(qwen, budget * GB, UNETLoader=unet)
    sampler = _node(plan, graph, *SAMPLERS)
    stored = {"bf16": 2.0, "fp8": 1.0, "Q4_K": 4.5 / 8}[unet]
    assert _size(sampler, "unet") == pytest.approx(qwen.params["transformer"] * stored, rel=0.01)
    assert bool(sampler.streamed) == streams
    assert ("layer by layer" in sampler.described()) == streams
    lines = [line for line in plan.moves() if line.startswith("unet") and "runs layer by layer" in line]
    assert len(lines) == (1 if streams else 0), plan.moves()
    assert plan.peak <= budget * GB and plan.problems() == []
    assert plan.ram_peak >= _size(sampler, "unet")  # the streamed weights wait in CPU RAM


@pytest.mark.parametrize("budget", [24, 16])
def test_flux2_dev_transformer_streams_and_the_encoder_where_it_is_over_the_budget(families, budget):
    """FLUX.2 [dev]: the 32.2-billion-weight transformer is over both budgets even in fp8, so it runs
    layer by layer; Mistral's 17.8 billion in fp8 (18.4 GB) fit 24 GB beside the encoder's work, not
    16 GB. The sampler needs the transformer only."""
    flux2 = families["flux2_dev"]
    plan, graph = _plan(flux2, budget * GB)
    sampler, encode = _node(plan, graph, *SAMPLERS), _node(plan, graph, "conditioning.text_encode")
    assert _size(sampler, "unet") == pytest.approx(flux2.params["transformer"], rel=0.001)
    assert sampler.streamed and "text_encoder" not in " ".join(name for name, _ in sampler.components)
    encoder = _size(encode, "text_encoder")
    assert encoder == pytest.approx(18.45 * GB, rel=0.01)  # fp8 matrices, the embedding in bf16
    assert bool(encode.streamed) == (encoder + encode.work > budget * GB)
    assert plan.problems() == [] and plan.peak <= budget * GB


@pytest.mark.parametrize(("budget", "streams"), [(24, False), (16, False), (12, True)])
def test_z_image_turbo_fits_beside_its_work_and_the_encoder_leaves_when_room_is_needed(families, budget, streams):
    """Z-Image Turbo's 12.3 GB bf16 transformer fits a 24 or 16 GB budget; beside it Qwen3-4B's 8 GB
    must leave at 16 GB; at 12 GB the transformer itself runs layer by layer."""
    z_image = families["z_image"]
    plan, graph = _plan(z_image, budget * GB)
    sampler = _node(plan, graph, *SAMPLERS)
    assert _size(sampler, "unet") == pytest.approx(z_image.params["transformer"] * 2, rel=0.001)
    assert bool(sampler.streamed) == streams
    encoder = next(b for n, b in _node(plan, graph, "conditioning.text_encode").components)
    fits_beside = encoder + _size(sampler, "unet") + sampler.work <= budget * GB
    assert _left_before(plan, sampler, "text_encoder") == (not streams and not fits_beside), plan.moves()
    assert plan.problems() == []
