"""The memory plan at real sizes, without a byte of weights: ComfyUI's Qwen-Image, FLUX.2 [dev] and
Z-Image Turbo templates with files of their parts' real sizes (built on the meta device from the
shipped configs, headers only: tests/real_size_models.py), planned on CUDA under 24 GB and 16 GB for
each stored form (bf16, fp8, GGUF Q4_K). Prints, per case, the transformer's and the text encoder's
planned size, whether each runs resident or layer by layer, what leaves the device, the planned
peak and the CPU RAM the weights take. Run: `python bench/real_size_plans.py` (about a minute).
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from _common import ROOT, quiet_environment

sys.path.insert(0, str(ROOT / "tests"))
GB = 10 ** 9
FIELDS = {"UNETLoader": "unet", "CLIPLoader": "clip_name", "VAELoader": "vae"}


def plan_of(family, budget: int, variants: dict[str, str]):
    """The family's template on the files of `variants`, planned on CUDA under `budget` bytes."""
    import comfyui_workflow_templates_json as templates

    from nodeflow.core import default_registry
    from nodeflow.engine.memory_plan import make_memory_plan
    from nodeflow.engine.plan import make_plan, plan_graph
    from nodeflow.interop.comfyui import import_source
    from nodeflow.interop.comfyui.source import read_source

    source = read_source(Path(templates.__file__).parent / "templates" / f"{family.template}.json")
    graph, report = import_source(source, default_registry(), flatten_subgraphs=True)
    comfy_class = {m[0]: m[1] for m in report.mapped}
    for node_id in graph.nodes:
        kind = comfy_class.get(node_id)
        if kind in FIELDS:
            files = family.files[kind]
            graph.set_param(node_id, FIELDS[kind], str(files[variants.get(kind, next(iter(files)))]))
    folder = next(iter(family.files["VAELoader"].values())).parent
    graph = plan_graph(graph)
    return make_memory_plan(graph, make_plan(graph).order, (folder,), "cuda", budget), graph


def main() -> int:
    import real_size_models as real

    from nodeflow.core.byte_sizes import format_bytes

    quiet_environment()
    with tempfile.TemporaryDirectory() as tmp:
        for build in (real.qwen_image, real.flux2_dev, real.z_image):
            family = build(Path(tmp))
            counts = ", ".join(f"{part} {n / 1e9:.2f} B weights" for part, n in family.params.items())
            print(f"\n{family.template}: {counts}")
            for unet in family.files["UNETLoader"]:
                for clip in family.files["CLIPLoader"]:
                    for budget in (24 * GB, 16 * GB):
                        plan, graph = plan_of(family, budget, {"UNETLoader": unet, "CLIPLoader": clip})
                        sampler = next(n for n in plan.nodes if n.components and graph.nodes[n.node_id].type
                                       in ("sampling.sampler", "sampling.sample"))
                        encode = next(n for n in plan.nodes if n.components
                                      and graph.nodes[n.node_id].type == "conditioning.text_encode")
                        problems = plan.problems()
                        print(f"  transformer {unet:>4}, encoder {clip:>4}, budget {format_bytes(budget)}: "
                              f"transformer {sampler.described()}; encoder {encode.described()}; "
                              f"peak {format_bytes(plan.peak)}, RAM {format_bytes(plan.ram_peak)}"
                              + (f"; CANNOT RUN: {problems[0]}" if problems else ""))
                        for line in plan.moves():
                            print(f"      {line}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
