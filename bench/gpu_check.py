"""NodeFlow on a CUDA GPU: parity with diffusers, speed, and memory under budgets.

Sections (each runs on its own; a failure prints one line and the rest go on):
  parity fp32 / fp16  NodeFlow's txt2img graph vs diffusers' StableDiffusionPipeline on the same
                      random SD 1.5-shaped weights (pixels identical / max difference)
  speed               sampling steps per second, graph vs pipeline (512x512, fp16, cfg on)
  budget              peak VRAM without a budget and under one the UNet does not fit in (its
                      layers then stream from CPU RAM), and whether the pixels stay the same
  sd15 2048 @ 4 GB    a 2048x2048 picture (the VAE tiles above 1024x1024) under a 4 GB budget
  sdxl 1024 @ 4 GB    an SDXL-shaped random model at 1024x1024 under a 4 GB budget (VAE Decode
                      (Tiled), 512-pixel tiles: an untiled float32 decode alone needs ~5.6 GB)
  flux fp8 @ 12 GB    Flux.1 dev's real architecture (random weights, ComfyUI's split files) at
                      1024x1024 with fp8 weights under a 12 GB budget (bench/gpu_flux.py)
Self-contained: models are built with random weights on the GPU into a temporary folder (no
downloads). Without CUDA it prints one line and exits 0. `--quick` runs fewer steps and skips
the no-budget SDXL reference. Run: `python bench/gpu_check.py [--quick]`.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import traceback
from pathlib import Path

from _common import add_node, builtin_registry, quiet_environment, txt2img_chain

quiet_environment()
GB = 1000**3
DEVICE = "cuda"  # the smoke test on a CPU machine sets "cpu"
ROWS: list[tuple[str, str, str]] = []


def row(section: str, what: str, value: str) -> None:
    ROWS.append((section, what, value))
    print(f"  {section:<18} {what:<44} {value}", flush=True)


def txt2img(checkpoint: Path, size: int, steps: int, cfg: float = 5.0, seed: int = 3, tile: int | None = None):
    from nodeflow.core import Graph

    graph = Graph(builtin_registry())
    _, sampler, decode = txt2img_chain(graph, checkpoint, size=size, steps=steps, seed=seed, cfg=cfg, tile=tile)
    add_node(graph, "image.preview", {"images": (decode, "image")})
    return graph, decode, sampler


def run_graph(executor, graph, out: Path):
    result = executor.run(graph, output_dir=out)
    if not result.ok:
        raise RuntimeError(f"run failed: {result.errors}")
    return result


def pixels(result, node_id):
    from nodes._tensors import image_to_uint8

    return image_to_uint8(result.values[node_id]["image"])[0]


def pipeline(folder: Path, dtype, xl: bool = False):
    import diffusers

    cls = diffusers.StableDiffusionXLPipeline if xl else diffusers.StableDiffusionPipeline
    extra = {} if xl else {"safety_checker": None, "requires_safety_checker": False}
    pipe = cls.from_pretrained(folder, torch_dtype=dtype, local_files_only=True, **extra).to(DEVICE)
    for name in ("tokenizer", "tokenizer_2"):  # vocab + merges only: give it CLIP's window, as NodeFlow does
        if getattr(pipe, name, None) is not None:
            getattr(pipe, name).model_max_length = 77
    pipe.scheduler = diffusers.EulerDiscreteScheduler.from_config(pipe.scheduler.config)
    pipe.set_progress_bar_config(disable=True)
    return pipe


def pipe_image(pipe, size: int, steps: int, cfg: float = 5.0, seed: int = 3):
    import numpy as np
    import torch

    image = pipe("a red circle", negative_prompt="", height=size, width=size, num_inference_steps=steps,
                 guidance_scale=cfg, generator=torch.Generator("cpu").manual_seed(seed)).images[0]
    return np.array(image)


def compare(ours, theirs) -> str:
    import numpy as np

    diff = np.abs(ours.astype(int) - theirs.astype(int))
    return f"{(diff == 0).mean() * 100:.2f}% identical, max diff {diff.max()}"


def fresh_executor(budget: int | None = None):
    from nodeflow.engine import Executor

    return Executor(device="cuda", memory_budget=budget, previews=False)


def watch_nodes(executor) -> dict[str, int]:
    """Peak VRAM of each node that runs (filled in as the run goes)."""
    import torch

    from nodeflow.engine import events as ev

    peaks: dict[str, int] = {}

    def watch(event) -> None:
        if isinstance(event, ev.NodeStarted):
            torch.cuda.synchronize()
            torch.cuda.reset_peak_memory_stats()
        elif isinstance(event, ev.NodeFinished) and not event.cached:
            torch.cuda.synchronize()
            peaks[event.node_id] = torch.cuda.max_memory_allocated()

    executor.subscribe(watch)
    return peaks


def measured_run(executor, graph, scratch: Path):
    """Run; (result, peak VRAM, seconds, per-node line 'node measured/planned GB')."""
    import gc

    torch = sys.modules["torch"]
    plan = {n.node_id: n.peak for n in executor.memory_plan(graph).nodes}
    peaks = watch_nodes(executor)
    gc.collect()  # models of earlier runs must not count
    torch.cuda.synchronize()
    torch.cuda.empty_cache()
    base = torch.cuda.memory_allocated()
    start = time.perf_counter()
    result = run_graph(executor, graph, scratch)
    seconds = time.perf_counter() - start
    line = " ".join(f"{n}:{(peaks[n] - base) / GB:.1f}/{plan.get(n, 0) / GB:.1f}" for n in sorted(peaks, key=int))
    return result, max(peaks.values(), default=base) - base, seconds, line


def section_parity(sd15: Path, scratch: Path, quick: bool) -> None:
    import torch

    import nodes.models._precision as precision

    steps, size = (3, 256) if quick else (6, 256)
    original = precision.compute_dtype
    for name, dtype in (("fp32", torch.float32), ("fp16", torch.float16)):
        try:
            precision.compute_dtype = lambda device, dtype=dtype: dtype  # the loader asks this per run
            graph, decode, _ = txt2img(sd15, size, steps)
            ours = pixels(run_graph(fresh_executor(), graph, scratch), decode)
            pipe = pipeline(sd15, dtype)
            theirs = pipe_image(pipe, size, steps)
            del pipe
            row(f"parity {name}", f"graph vs pipeline, {size}px {steps} steps", compare(ours, theirs))
        except Exception as exc:
            failed(f"parity {name}", exc)
        finally:
            precision.compute_dtype = original
            torch.cuda.empty_cache()


def section_speed(sd15: Path, scratch: Path, quick: bool) -> None:
    import torch

    steps, size = (10, 512) if quick else (25, 512)
    executor = fresh_executor()
    graph, decode, sampler = txt2img(sd15, size, steps)
    run_graph(executor, graph, scratch)  # loads; warms up
    timings = []
    for seed in (11, 12):
        graph.set_param(sampler, "seed", seed)
        torch.cuda.synchronize()
        start = time.perf_counter()
        run_graph(executor, graph, scratch)
        torch.cuda.synchronize()
        timings.append(time.perf_counter() - start)
    pipe = pipeline(sd15, torch.float16)
    pipe_image(pipe, size, 2)
    pipe_times = []
    for seed in (11, 12):
        torch.cuda.synchronize()
        start = time.perf_counter()
        pipe_image(pipe, size, steps, seed=seed)
        torch.cuda.synchronize()
        pipe_times.append(time.perf_counter() - start)
    ours, theirs = steps / min(timings), steps / min(pipe_times)
    row("speed", f"steps/s graph vs pipeline, {size}px fp16 cfg", f"{ours:.1f} vs {theirs:.1f} = {ours / theirs:.3f}x")
    del pipe, executor
    torch.cuda.empty_cache()


def section_budget(sd15: Path, scratch: Path, quick: bool) -> None:
    steps, size = (4, 512) if quick else (8, 512)
    graph, decode, _ = txt2img(sd15, size, steps)
    free, free_peak, free_s, free_nodes = measured_run(fresh_executor(), graph, scratch)
    free = pixels(free, decode)
    budget = 1 * GB
    executor = fresh_executor(budget)
    tight, tight_peak, tight_s, tight_nodes = measured_run(executor, graph, scratch)
    row("budget", "peak VRAM, no budget", f"{free_peak / GB:.2f} GB ({free_s:.1f} s)")
    row("budget", "  per node, measured/plan GB", free_nodes)
    row("budget", f"peak VRAM, budget {budget / GB:.0f} GB", f"{tight_peak / GB:.2f} GB ({tight_s:.1f} s)")
    row("budget", "  per node, measured/plan GB", tight_nodes)
    row("budget", "pixels with vs without budget", compare(pixels(tight, decode), free))
    row("budget", "components", components(executor))


def section_large(sd15: Path, scratch: Path, quick: bool) -> None:
    """A 2048x2048 picture (VAE tiled above 1024x1024) under a 4 GB budget."""
    graph, decode, _ = txt2img(sd15, 2048, 1 if quick else 2)
    executor = fresh_executor(4 * GB)
    _, peak, seconds, nodes = measured_run(executor, graph, scratch)
    row("sd15 2048 @ 4 GB", "peak VRAM (torch allocated)", f"{peak / GB:.2f} GB ({seconds:.1f} s)")
    row("sd15 2048 @ 4 GB", "  per node, measured/plan GB", nodes)


def section_sdxl(sdxl: Path, scratch: Path, quick: bool) -> None:
    steps, size = (3, 1024) if quick else (6, 1024)
    graph, decode, _ = txt2img(sdxl, size, steps, tile=512)  # VAE Decode (Tiled): the decode fits too
    budget = 4 * GB
    executor = fresh_executor(budget)
    tight, tight_peak, tight_s, tight_nodes = measured_run(executor, graph, scratch)
    tight, placed = pixels(tight, decode), components(executor)
    del executor
    verdict = "within" if tight_peak <= budget else "OVER"
    row("sdxl 1024 @ 4 GB", "peak VRAM (torch allocated)",
        f"{tight_peak / GB:.2f} GB, {verdict} budget ({tight_s:.1f} s)")
    row("sdxl 1024 @ 4 GB", "  per node, measured/plan GB", tight_nodes)
    row("sdxl 1024 @ 4 GB", "components", placed)
    if not quick:
        free, free_peak, free_s, free_nodes = measured_run(fresh_executor(), graph, scratch)
        row("sdxl 1024", "peak VRAM, no budget", f"{free_peak / GB:.2f} GB ({free_s:.1f} s)")
        row("sdxl 1024", "  per node, measured/plan GB", free_nodes)
        row("sdxl 1024", "pixels with vs without budget", compare(tight, pixels(free, decode)))


def components(executor) -> str:
    return "; ".join(f"{name} {size / GB:.2f} GB {place}" for name, size, place in executor.models.snapshot())


def failed(section: str, exc: BaseException) -> None:
    last = traceback.extract_tb(exc.__traceback__)[-1]
    row(section, "FAILED", f"{type(exc).__name__}: {str(exc)[:160]} ({Path(last.filename).name}:{last.lineno})")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer steps; no SDXL reference run")
    parser.add_argument("--skip", action="append", default=[],
                        choices=("parity", "speed", "budget", "large", "sdxl", "flux"))
    args = parser.parse_args()
    try:
        import torch
    except ImportError:
        print("gpu_check: skipped (torch is not installed)")
        return 0
    if not torch.cuda.is_available():
        print("gpu_check: skipped (no CUDA device: torch.cuda.is_available() is False)")
        return 0
    try:
        import diffusers  # noqa: F401
    except ImportError:
        print("gpu_check: skipped (diffusers is not installed)")
        return 0
    from random_models import build_folder

    started = time.perf_counter()
    print(f"gpu_check: {torch.cuda.get_device_name()} | torch {torch.__version__} | diffusers {diffusers.__version__}"
          f"{' | quick' if args.quick else ''}", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        scratch = Path(tmp)
        models: dict[str, Path] = {}
        for arch in ("sd15", "sdxl"):
            if arch == "sdxl" and "sdxl" in args.skip:
                continue
            try:
                t = time.perf_counter()
                models[arch] = build_folder(arch, scratch / arch, device="cuda")
                row("setup", f"random {arch} written", f"{time.perf_counter() - t:.1f} s")
            except Exception as exc:
                failed("setup", exc)
        sections = (("parity", section_parity, "sd15"), ("speed", section_speed, "sd15"),
                    ("budget", section_budget, "sd15"), ("large", section_large, "sd15"),
                    ("sdxl", section_sdxl, "sdxl"))
        for name, section, arch in sections:
            if name in args.skip or arch not in models:
                continue
            try:
                section(models[arch], scratch / "out", args.quick)
            except Exception as exc:
                failed(name, exc)
            torch.cuda.empty_cache()
        if "flux" not in args.skip:
            try:
                import gpu_flux

                gpu_flux.run(scratch, "cuda", row, args.quick)
            except Exception as exc:
                failed("flux fp8 @ 12 GB", exc)
    print(f"gpu_check: done in {time.perf_counter() - started:.0f} s, {sum(r[1] == 'FAILED' for r in ROWS)} failed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
