"""How fast is a txt2img graph next to diffusers' own pipeline, in the same process?

Prints the median time of our graph (models loaded, results not cached) over the median time of
StableDiffusionPipeline for the same txt2img on the same tiny model (goal <= 1.03), and the time of
an unchanged re-run through the Executor (goal < 20 ms: everything is served from the cache).

Uses the built-in model (resources/models/tiny-shapes) when it exists, else writes the tests'
random tiny SD to a temporary folder. Run: `python bench/parity_speed.py [--repeats N] [--steps N]`.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

from _common import ROOT, add_node, interleaved_times, quiet_environment, txt2img_chain

quiet_environment()


def model_folder(scratch: Path, chosen: Path | None) -> tuple[Path, int]:
    builtin = chosen or ROOT / "resources" / "models" / "tiny-shapes"
    if (builtin / "model_index.json").is_file():
        return builtin, 64
    sys.path.insert(0, str(ROOT / "tests" / "nodes"))
    from tiny_sd import build

    return build(scratch / "tiny_sd"), 32


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--threads", type=int, default=1, help="torch threads (1: steadier on a busy machine)")
    parser.add_argument("--model", type=Path, default=None, help="a diffusers folder (64x64) to use instead")
    args = parser.parse_args()

    import numpy as np
    import torch
    from diffusers import EulerDiscreteScheduler, StableDiffusionPipeline

    from nodeflow.core import Graph, ModelStore, default_registry
    from nodeflow.engine import Executor

    torch.set_num_threads(args.threads)

    with tempfile.TemporaryDirectory() as tmp:
        folder, size = model_folder(Path(tmp), args.model)
        prompt, seed, cfg = "a red circle on a blue background", 1, 5.0

        graph = Graph(default_registry())
        _, _, decode = txt2img_chain(graph, folder, size=size, steps=args.steps, seed=seed, cfg=cfg,
                                     prompt=prompt)
        add_node(graph, "image.preview", {"images": (decode, "image")})

        pipe = StableDiffusionPipeline.from_pretrained(folder, safety_checker=None, requires_safety_checker=False,
                                                       local_files_only=True)
        pipe.scheduler = EulerDiscreteScheduler.from_config(pipe.scheduler.config)
        pipe.set_progress_bar_config(disable=True)
        models = ModelStore()

        def ours():
            result = Executor(device="cpu", models=models).run(graph, output_dir=Path(tmp) / "out")
            assert result.ok, result.errors
            return result

        def theirs():
            return pipe(prompt, negative_prompt="", height=size, width=size, num_inference_steps=args.steps,
                        guidance_scale=cfg, generator=torch.Generator("cpu").manual_seed(seed)).images

        first = ours()  # loads the model once; not timed
        from nodes._tensors import image_to_uint8

        same = np.array_equal(image_to_uint8(first.values[decode]["image"])[0], np.array(theirs()[0]))
        graph_times, pipe_times = interleaved_times(ours, theirs, args.repeats)

        executor = Executor(device="cpu", models=models)
        executor.run(graph, output_dir=Path(tmp) / "out")
        rerun_times = []
        for _ in range(args.repeats):
            start = time.perf_counter()
            result = executor.run(graph, output_dir=Path(tmp) / "out")
            rerun_times.append(time.perf_counter() - start)
            assert not result.executed

        g, p = statistics.median(graph_times), statistics.median(pipe_times)
        g_min, p_min = min(graph_times), min(pipe_times)
        print(f"model: {folder.name} ({size}x{size}, {args.steps} euler steps, cfg {cfg}), "
              f"torch threads {torch.get_num_threads()}")
        print(f"pixels identical to the pipeline: {same}")
        print(f"median: graph {g * 1000:.1f} ms / pipeline {p * 1000:.1f} ms = ratio {g / p:.3f}  (goal <= 1.03)")
        print(f"best:   graph {g_min * 1000:.1f} ms / pipeline {p_min * 1000:.1f} ms = ratio {g_min / p_min:.3f}")
        paired = statistics.median(a / b for a, b in zip(graph_times, pipe_times, strict=True))
        print(f"median of back-to-back pairs: ratio {paired:.3f}  (steadiest on a busy machine)")
        print(f"unchanged re-run: {statistics.median(rerun_times) * 1000:.2f} ms  (goal < 20 ms)")


if __name__ == "__main__":
    main()
