"""The ComfyUI sampling convention against the diffusers one: speed, and every sampler on a device.

Prints, for a random SD 1.5-shaped model (no downloads): steps per second of euler in the comfyui
convention as a ratio of the diffusers convention (same graph, same device, same run; the two do
the same model calls, so the ratio shows the convention's own overhead), then for every ComfyUI
sampler whether it runs on the device, its time, and how far its picture is from the same run on
the CPU in fp32 (max / mean 8-bit levels: fp16 on a GPU moves pixels a little; an ancestral
sampler's per-step noise is drawn on the device, as ComfyUI draws it, so those differ more).
Run: `python bench/comfy_convention.py [--device cuda] [--size 256] [--steps 20] [--model FOLDER]`.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

from _common import add_node, txt2img_chain


def graph(registry, checkpoint: Path, size: int, steps: int, sampler: str, convention: str):
    from nodeflow.core import Graph

    g = Graph(registry)
    _, _, decode = txt2img_chain(g, checkpoint, size=size, steps=steps, seed=3, cfg=7.0, sampler_name=sampler,
                                 scheduler="karras", convention=convention)
    add_node(g, "image.preview", {"images": (decode, "image")})
    return g, decode


def timed(executor, g, decode, out: Path):
    from nodes._tensors import image_to_uint8

    start = time.perf_counter()
    result = executor.run(g, output_dir=out)
    if not result.ok:
        raise RuntimeError(result.errors)
    return time.perf_counter() - start, image_to_uint8(result.values[decode]["image"]).astype(int)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--model", type=Path, help="a diffusers folder instead of the random SD 1.5 (smoke tests)")
    args = parser.parse_args()
    import torch
    from random_models import build_folder

    from nodeflow.core import default_registry
    from nodeflow.core.comfy_samplers import SAMPLERS
    from nodeflow.engine import Executor

    if args.device == "cuda" and not torch.cuda.is_available():
        print("comfy_convention: skipped (no CUDA device)")
        return 0
    registry = default_registry()
    with tempfile.TemporaryDirectory() as tmp:
        folder = args.model or build_folder("sd15", Path(tmp) / "sd15", device=args.device)
        device, cpu = Executor(registry, device=args.device), Executor(registry, device="cpu")
        times = {}
        for convention in ("diffusers", "comfyui", "diffusers", "comfyui"):  # second round: warm
            g, decode = graph(registry, folder, args.size, args.steps, "euler", convention)
            times[convention], _ = timed(device, g, decode, Path(tmp) / "out")
        print(f"euler {args.steps} steps {args.size}px on {args.device}: diffusers {times['diffusers']:.2f} s, "
              f"comfyui {times['comfyui']:.2f} s, ratio comfyui/diffusers {times['comfyui'] / times['diffusers']:.2f}")
        for sampler in SAMPLERS:
            g, decode = graph(registry, folder, 64, 6, sampler, "comfyui")
            try:
                seconds, here = timed(device, g, decode, Path(tmp) / "out")
                _, there = timed(cpu, g, decode, Path(tmp) / "out")
            except Exception as exc:  # one line per failing sampler, the rest go on
                print(f"{sampler:18s} FAILED: {str(exc).splitlines()[0][:160]}")
                continue
            diff = abs(here - there)
            print(f"{sampler:18s} ok {seconds:6.2f} s | vs CPU fp32: max {diff.max():3d} mean {diff.mean():.2f} levels")
    return 0


if __name__ == "__main__":
    sys.exit(main())
