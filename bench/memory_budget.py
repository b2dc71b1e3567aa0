"""Memory under a budget, measured: peak RSS of fresh processes, and the plan's estimates.

1. Two large random checkpoints (SD 1.5-shaped, built once by bench/random_models.py) in one
   workflow, two txt2img branches: peak RSS without a budget vs with a budget that holds one of
   them (ratio; goal well under 1), and whether the pictures are the same.
2. Every shipped workflow (workflows/*.json): `nodeflow plan`'s estimated peak vs the measured
   peak RSS growth of its run (goal: within +-30%).
Each measurement runs in its own process (glibc's mmap threshold pinned, so freed weights go back
to the system) after a warm-up run that loads the libraries (their code and caches, ~250 MB, are
not what a budget governs; that first run's growth is printed apart); the measured run uses a new
executor, and its peak RSS growth is counted from just before it. Run: `python bench/memory_budget.py`.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

from _common import ROOT, add_node, child_environment, txt2img_chain

GB = 1000**3
ENV = child_environment(MALLOC_MMAP_THRESHOLD_="65536")


def _status_bytes(key: str) -> int | None:
    """A VmRSS/VmHWM line of /proc/self/status in bytes (None off Linux)."""
    try:
        with open("/proc/self/status") as status:
            line = next((line for line in status if line.startswith(key + ":")), None)
    except OSError:
        return None
    return int(line.split()[1]) * 1024 if line else None


def _reset_peak() -> bool:
    """Start a new peak-RSS window (Linux: writing 5 to clear_refs resets VmHWM)."""
    try:
        with open("/proc/self/clear_refs", "w") as refs:
            refs.write("5")
    except OSError:
        return False
    return _status_bytes("VmHWM") is not None


def worker(spec: dict) -> dict:
    """In a fresh process: a warm-up run, then the measured run of one workflow with a new
    executor (no model or result kept): RSS before it and its peak, and the plan's estimate.

    The warm-up (by default the same workflow) loads and initialises the libraries, whose code
    and caches (~250 MB here) no budget governs; its growth is reported apart. Where the peak
    cannot be reset (not Linux), the measured run is the process's first, libraries included.
    """
    import ctypes
    import gc
    import resource

    import psutil
    import torch

    from nodeflow.core import files
    from nodeflow.core.registry import default_registry
    from nodeflow.engine import Executor

    torch.set_num_threads(2)

    def run(workflow: Path, out: Path, budget: int | None) -> int:
        graph, _ = files.load(workflow, default_registry())
        for node_id, name, value in spec.get("sets", []) if workflow == Path(spec["workflow"]) else ():
            graph.set_param(node_id, name, value)
        executor = Executor(device="cpu", memory_budget=budget, previews=False)
        estimate = executor.memory_plan(graph, workflow.parent).peak
        result = executor.run(graph, output_dir=out, workflow_dir=workflow.parent)
        if not result.ok:
            raise SystemExit(f"run failed: {result.errors}")
        return estimate

    process = psutil.Process()
    start = process.memory_info().rss
    warm = spec.get("warmup", spec["workflow"])
    run(Path(warm), Path(spec["out"]) / "warmup", None)
    first = (_status_bytes("VmHWM") or resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024) - start
    gc.collect()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)  # freed weights back to the system before the baseline
    except (OSError, AttributeError):
        pass
    warmed = _reset_peak()
    before = process.memory_info().rss
    estimate = run(Path(spec["workflow"]), Path(spec["out"]), spec.get("budget"))
    peak = _status_bytes("VmHWM") if warmed else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    import numpy as np
    from PIL import Image

    pictures = sorted(Path(spec["out"]).glob("*.png"))
    digest = [int(np.asarray(Image.open(p)).astype(np.int64).sum()) for p in pictures]
    return {"before": before, "peak": peak, "estimate": estimate, "pixels": digest, "first": first,
            "warm": warmed}


def measure(spec: dict) -> dict:
    out = subprocess.run([sys.executable, __file__, "--worker", json.dumps(spec)], env=ENV, cwd=ROOT,
                         capture_output=True, text=True)
    if out.returncode != 0:
        raise RuntimeError(out.stderr[-1500:])
    return json.loads(out.stdout.strip().splitlines()[-1])


def two_checkpoints(a: Path, b: Path, folder: Path) -> Path:
    from nodeflow.core import Graph, default_registry, workflow

    graph = Graph(default_registry())
    for index, checkpoint in enumerate((a, b)):
        _, _, decode = txt2img_chain(graph, checkpoint, size=64, steps=2, seed=1, cfg=7.0)
        add_node(graph, "image.save", {"images": (decode, "image")}, filename_prefix=f"branch{index}")
    path = folder / "two_checkpoints.json"
    path.write_text(workflow.dumps(graph))
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--skip-two", action="store_true", help="only the shipped workflows")
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(json.loads(args.worker))))
        return
    from random_models import build_folder, cache_dir

    with tempfile.TemporaryDirectory() as tmp:
        scratch = Path(tmp)
        if not args.skip_two:
            a = build_folder("sd15", cache_dir() / "sd15-fp16")
            b = build_folder("sd15", cache_dir() / "sd15-fp16-seed1", seed=1)
            path = two_checkpoints(a, b, scratch)
            one = sum(f.stat().st_size for f in a.rglob("*.safetensors")) * 2  # fp16 file -> fp32 in RAM
            warmup = str(ROOT / "workflows" / "txt2img.json")  # the same libraries, at a fraction of the time
            free = measure({"workflow": str(path), "out": str(scratch / "free"), "warmup": warmup})
            tight = measure({"workflow": str(path), "out": str(scratch / "tight"), "budget": int(one * 1.25),
                             "warmup": warmup})
            grow_free, grow_tight = free["peak"] - free["before"], tight["peak"] - tight["before"]
            print(f"two SD 1.5 checkpoints ({one / GB:.1f} GB each in fp32): peak RSS growth "
                  f"{grow_free / GB:.2f} GB without a budget, {grow_tight / GB:.2f} GB with a "
                  f"{one * 1.25 / GB:.1f} GB budget: ratio {grow_tight / grow_free:.2f}; "
                  f"same pictures: {free['pixels'] == tight['pixels']}", flush=True)
            print(f"  plan estimate: {free['estimate'] / GB:.2f} GB without, {tight['estimate'] / GB:.2f} GB with "
                  f"the budget", flush=True)
        print("shipped workflows: plan estimate vs measured peak RSS growth (goal within +-30%)", flush=True)
        ratios = []
        for path in sorted((ROOT / "workflows").glob("*.json")):
            got = measure({"workflow": str(path), "out": str(scratch / path.stem)})
            grown = got["peak"] - got["before"]
            ratios.append(got["estimate"] / max(grown, 1))
            print(f"  {path.name:<22} estimate {got['estimate'] / 1e6:8.1f} MB  measured {grown / 1e6:8.1f} MB  "
                  f"ratio {ratios[-1]:.2f}   (first run with the libraries: +{got['first'] / 1e6:.0f} MB"
                  f"{'' if got['warm'] else '; peak not resettable here, so measured cold'})", flush=True)
        inside = sum(0.7 <= r <= 1.3 for r in ratios)
        print(f"  {inside} of {len(ratios)} within +-30%; ratios {min(ratios):.2f}..{max(ratios):.2f}", flush=True)


if __name__ == "__main__":
    main()
