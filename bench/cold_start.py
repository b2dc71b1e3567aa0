"""Cold start: from process start to the first PNG, NodeFlow's CLI vs diffusers in a fresh process.

Two cases, each timed in fresh processes (interleaved; the ratio of the best of `--repeats`, and
of the medians, since a shared 2-core machine varies by seconds from one process to the next):
  shipped      `nodeflow run workflows/txt2img.json` (the built-in model, batch 4, 20 steps) vs
               StableDiffusionPipeline.from_pretrained on the same folder, same settings
  sd15 file    a full-size random SD 1.5 single-file checkpoint (fp16, ~2.1 GB, built once by
               bench/random_models.py into the cache folder), 64x64, 8 euler steps, vs diffusers'
               own from_single_file + pipeline
NodeFlow's first run of a new file also hashes it once into the model library's index; that run
is shown apart ("first run"), the ratio uses the later ones (goal: <= 1.0).
Run: `python bench/cold_start.py [--repeats N] [--skip-shipped | --skip-file]`.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import ROOT, add_node, child_environment, txt2img_chain

ENV = child_environment()

DIFFUSERS_SCRIPT = """
import sys, json, torch
args = json.loads(sys.argv[1])
import diffusers
from transformers import CLIPTokenizer
if args["file"]:
    tokenizer = CLIPTokenizer.from_pretrained(args["tokenizer"], model_max_length=77)
    pipe = diffusers.StableDiffusionPipeline.from_single_file(
        args["model"], config=args["config"], tokenizer=tokenizer, safety_checker=None,
        requires_safety_checker=False, local_files_only=True)
else:
    pipe = diffusers.StableDiffusionPipeline.from_pretrained(
        args["model"], safety_checker=None, requires_safety_checker=False, local_files_only=True)
pipe.scheduler = diffusers.EulerDiscreteScheduler.from_config(pipe.scheduler.config)
pipe.set_progress_bar_config(disable=True)
images = pipe(args["prompt"], negative_prompt="", height=args["size"], width=args["size"],
              num_inference_steps=args["steps"], guidance_scale=args["cfg"], num_images_per_prompt=args["batch"],
              generator=torch.Generator("cpu").manual_seed(1)).images
for i, image in enumerate(images):
    image.save(f"{args['out']}/diffusers_{i}.png")
"""


def timed(command: list[str], out: Path) -> float:
    """Seconds from starting the process to its first PNG in `out` (it must finish cleanly)."""
    out.mkdir(parents=True, exist_ok=True)
    for old in out.glob("*.png"):
        old.unlink()
    start = time.perf_counter()
    process = subprocess.Popen(command, env=ENV, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    first = None
    while process.poll() is None:
        if first is None and any(out.glob("*.png")):
            first = time.perf_counter() - start
        time.sleep(0.02)
    if process.returncode != 0:
        raise RuntimeError(f"{command[:3]} failed: {process.stderr.read().decode()[-800:]}")
    return first if first is not None else time.perf_counter() - start


def single_file_workflow(checkpoint: Path, folder: Path, steps: int) -> Path:
    from nodeflow.core import Graph, default_registry, workflow

    graph = Graph(default_registry())
    _, _, decode = txt2img_chain(graph, checkpoint, size=64, steps=steps, seed=1, cfg=7.0)
    add_node(graph, "image.save", {"images": (decode, "image")}, filename_prefix="nodeflow")
    path = folder / "sd15_file.json"
    path.write_text(workflow.dumps(graph))
    return path


def compare(name: str, ours_cmd: list[str], theirs_cmd: list[str], scratch: Path, repeats: int) -> None:
    first = timed(ours_cmd, scratch / "ours")
    ours, theirs = [], []
    for _ in range(repeats):
        theirs.append(timed(theirs_cmd, scratch / "theirs"))
        ours.append(timed(ours_cmd, scratch / "ours"))
    o, t = min(ours), min(theirs)
    mo, mt = statistics.median(ours), statistics.median(theirs)
    print(f"{name:<11} NodeFlow {o:6.1f} s (first run {first:.1f} s) | diffusers {t:6.1f} s | "
          f"ratio {o / t:.2f}  (goal <= 1.0); medians {mo:.1f} s vs {mt:.1f} s, ratio {mo / mt:.2f}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--steps", type=int, default=8, help="steps of the single-file case")
    parser.add_argument("--skip-shipped", action="store_true")
    parser.add_argument("--skip-file", action="store_true", help="only the shipped case")
    args = parser.parse_args()
    from random_models import build_folder, build_single_file, cache_dir

    nodeflow = [sys.executable, "-c", "import sys; from nodeflow.cli import main; sys.exit(main(sys.argv[1:]))"]
    diffusers = [sys.executable, "-c", DIFFUSERS_SCRIPT]
    with tempfile.TemporaryDirectory() as tmp:
        scratch = Path(tmp)
        print(f"cold start, best of {args.repeats} fresh processes each (cpu, {os.cpu_count()} cores)", flush=True)
        if not args.skip_shipped:
            model = ROOT / "resources" / "models" / "tiny-shapes"
            wf = json.loads((ROOT / "workflows" / "txt2img.json").read_text())
            params = {n["type"]: n["params"] for n in wf["nodes"]}
            unet = json.loads((model / "unet" / "config.json").read_text())
            vae = json.loads((model / "vae" / "config.json").read_text())
            size = unet["sample_size"] * 2 ** (len(vae["block_out_channels"]) - 1)
            sampler = params["sampling.sampler"]
            spec = {"file": False, "model": str(model), "size": size, "steps": sampler["steps"],
                    "cfg": sampler["cfg"], "batch": params["latent.empty"]["batch_size"],
                    "prompt": wf["nodes"][1]["params"]["text"], "out": str(scratch / "theirs")}
            compare("shipped", nodeflow + ["run", "workflows/txt2img.json", "--out", str(scratch / "ours"),
                                           "--quiet", "--device", "cpu"],
                    diffusers + [json.dumps(spec)], scratch, args.repeats)
        if args.skip_file:
            return
        started = time.perf_counter()
        folder = build_folder("sd15", cache_dir() / "sd15-fp16")
        checkpoint = build_single_file(folder, cache_dir() / "sd15-file" / "sd15-random.safetensors")
        if time.perf_counter() - started > 1:
            print(f"(built {checkpoint} in {time.perf_counter() - started:.0f} s)", flush=True)
        workflow_path = single_file_workflow(checkpoint, scratch, args.steps)
        spec = {"file": True, "model": str(checkpoint), "config": str(ROOT / "resources" / "configs" / "sd15"),
                "tokenizer": str(checkpoint.parent / "tokenizer"), "size": 64, "steps": args.steps, "cfg": 7.0,
                "batch": 1, "prompt": "a red circle", "out": str(scratch / "theirs")}
        compare("sd15 file", nodeflow + ["run", str(workflow_path), "--out", str(scratch / "ours"), "--quiet",
                                         "--device", "cpu"],
                diffusers + [json.dumps(spec)], scratch, args.repeats)


if __name__ == "__main__":
    main()
