"""Images per minute for a 16-job seed sweep on the built-in model: one process vs Ray with 2 workers.

Scenarios, each 16 jobs of txt2img (one 64x64 image per job), timed from the batch's start to its
last file (model loads and Ray actor start-up included; starting the local Ray cluster itself is
timed apart, once):

- one checkpoint: this process vs `--ray` with 2 workers;
- two checkpoints (the built-in model and a copy of it, so each is loaded on its own), jobs queued
  alternating A, B, A, B: grouped by checkpoint (a worker takes the jobs on the checkpoint it has
  loaded) vs not (queue order), on Ray (and in this process too with `--local-grouping`).

Prints images/min per scenario and the ratios Ray/local and grouped/ungrouped. Everything goes to a
temporary folder (its own queue included). Run: `python bench/batch_throughput.py [--steps N] [--threads N]`.

Torch threads: each Ray worker gets one CPU and so one thread; this process uses `--threads`
(default 1, so the comparison is one worker against two). On a busy machine torch's default of one
thread per core is far slower than one thread (threads wait for each other), which would flatter Ray.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("DIFFUSERS_VERBOSITY", "error")
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
MODEL = ROOT / "resources" / "models" / "tiny-shapes"
JOBS = 16


def workflow(scratch: Path, steps: int) -> Path:
    data = json.loads((ROOT / "workflows" / "txt2img.json").read_text())
    for node in data["nodes"]:
        if node["type"] == "latent.empty":
            node["params"]["batch_size"] = 1
        if node["type"] == "sampling.sampler":
            node["params"]["steps"] = steps
        if node["type"] == "models.load_checkpoint":
            node["params"]["checkpoint"] = str(MODEL)
    path = scratch / "txt2img.json"
    path.write_text(json.dumps(data))
    return path


def timed(path: Path, out: Path, sweeps: list[str], **options) -> float:
    """Seconds to run the batch; checks every job finished with its image."""
    from nodeflow.core import CancelToken, default_registry, files
    from nodeflow.jobs.batch import Source
    from nodeflow.jobs.driver import BatchOptions, run_batch
    from nodeflow.jobs.sweep import parse_sweep

    graph = files.load(path, default_registry())[0]
    started = time.perf_counter()
    summary = run_batch([Source(path.name, graph, path.parent)], [parse_sweep(s) for s in sweeps],
                        BatchOptions(out=out, device="cpu", **options), CancelToken())
    seconds = time.perf_counter() - started
    if summary.done != JOBS or len(list(out.glob("*.png"))) != JOBS:
        raise SystemExit(f"{out.name}: {summary.done} of {JOBS} jobs done")
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=8)
    parser.add_argument("--local-grouping", action="store_true", help="also time grouping in this process")
    parser.add_argument("--threads", type=int, default=1, help="torch threads of this process (0: torch's default)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="nodeflow-bench-") as tmp:
        scratch = Path(tmp)
        os.environ["NODEFLOW_HOME"] = str(scratch / "home")
        path = workflow(scratch, args.steps)
        copy = shutil.copytree(MODEL, scratch / "tiny-shapes-copy")
        one = ["5.seed=1..16"]
        two = ["5.seed=1..8", f"1.checkpoint={MODEL},{copy}"]  # alternating A, B, A, B, ...

        import ray
        import torch

        if args.threads:
            torch.set_num_threads(args.threads)

        started = time.perf_counter()
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
        cluster_start = time.perf_counter() - started
        rows: dict[str, float] = {}
        threads = torch.get_num_threads()
        try:
            rows["one checkpoint, this process"] = timed(path, scratch / "a", one)
            rows["one checkpoint, Ray 2 workers"] = timed(path, scratch / "b", one, ray="local", workers=2)
            rows["two checkpoints, Ray 2 workers, grouped"] = timed(path, scratch / "e", two, ray="local", workers=2)
            rows["two checkpoints, Ray 2 workers, queue order"] = timed(path, scratch / "f", two, ray="local",
                                                                        workers=2, group=False)
            if args.local_grouping:
                rows["two checkpoints, this process, grouped"] = timed(path, scratch / "c", two)
                rows["two checkpoints, this process, queue order"] = timed(path, scratch / "d", two, group=False)
        finally:
            ray.shutdown()

    rate = {name: JOBS / seconds * 60 for name, seconds in rows.items()}
    print(f"batch throughput: {JOBS} jobs, txt2img 64x64, {args.steps} steps, {os.cpu_count()} CPUs, "
          f"{threads} torch thread(s) here (local Ray cluster start-up {cluster_start:.1f} s, not counted)")
    for name, seconds in rows.items():
        print(f"  {name:<46} {seconds:7.1f} s  {rate[name]:6.1f} images/min")
    names = list(rows)
    print(f"Ray 2 workers / this process (one checkpoint):     {rate[names[1]] / rate[names[0]]:.2f}x")
    print(f"grouped / queue order, Ray 2 workers (two ckpts):  {rate[names[2]] / rate[names[3]]:.2f}x")
    if args.local_grouping:
        print(f"grouped / queue order, this process (two ckpts):   {rate[names[4]] / rate[names[5]]:.2f}x")


if __name__ == "__main__":
    main()
