"""How fast are NodeFlow's Z-Image, Qwen-Image and Flux.2 Klein graphs next to their diffusers pipelines?

Builds the tests' tiny random Z-Image, Qwen-Image and Flux.2 Klein (language-model text encoders,
1-block transformers), then times the same txt2img both ways in one process, interleaved: a fresh
executor each run (models loaded once and shared, results not cached), the pipeline from the same
folder. Prints steps per second of each, their ratio (goal: graph >= 0.98x the pipeline) and
whether the pixels are identical.
Run: `python bench/llm_family_speed.py [--repeats N] [--steps N] [--size N] [--cfg X]`.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
from pathlib import Path

from _common import ROOT, add_node, interleaved_times, quiet_environment

from nodeflow.library.roots import ENV_ALLOW_READ

quiet_environment()

#: family -> (module of its tiny builder in tests/nodes/flux, the builder, pipeline, its guidance keyword, its
#: guidance for cfg, its negative prompt keyword: None where the pipeline always uses "")
FAMILIES = {
    "z-image": ("tiny_flow", "build_z_image", "ZImagePipeline", "guidance_scale", lambda cfg: cfg - 1,
                "negative_prompt"),
    "qwen-image": ("tiny_flow", "build_qwen_image", "QwenImagePipeline", "true_cfg_scale", lambda cfg: cfg,
                   "negative_prompt"),
    "flux2-klein": ("tiny_flux2", "build_flux2_klein", "Flux2KleinPipeline", "guidance_scale", lambda cfg: cfg, None),
}


def bench(name: str, args: argparse.Namespace, tmp: Path) -> None:
    import importlib

    import diffusers
    import numpy as np
    import torch

    from nodeflow.core import Graph, ModelStore, default_registry
    from nodeflow.engine import Executor
    from nodes._tensors import image_to_uint8

    module, builder, pipeline, keyword, guidance, negative_keyword = FAMILIES[name]
    folder = getattr(importlib.import_module(module), builder)(tmp / name)
    prompt, seed = "a red circle on a blue background", 1
    negative = "a green square" if negative_keyword else ""
    extra = {negative_keyword: negative} if negative_keyword else {}
    graph = Graph(default_registry())
    ckpt = add_node(graph, "models.load_checkpoint", {}, checkpoint=str(folder))
    text = add_node(graph, "conditioning.text_encode", {"clip": (ckpt, "clip")}, text=prompt)
    links = {"model": (ckpt, "model"), "positive": (text, "conditioning")}
    if args.cfg > 1:
        links["negative"] = (add_node(graph, "conditioning.text_encode", {"clip": (ckpt, "clip")}, text=negative),
                             "conditioning")
    latent = add_node(graph, "latent.empty", {}, width=args.size, height=args.size, batch_size=1)
    links["latent_image"] = (latent, "latent")
    sampler = add_node(graph, "sampling.sampler", links, seed=seed, steps=args.steps, cfg=args.cfg,
                       sampler_name="euler", scheduler="normal")
    decode = add_node(graph, "vae.decode", {"latent": (sampler, "latent"), "vae": (ckpt, "vae")})
    add_node(graph, "image.preview", {"images": (decode, "image")})
    pipe = getattr(diffusers, pipeline).from_pretrained(folder, local_files_only=True)
    pipe.set_progress_bar_config(disable=True)
    models = ModelStore()

    def ours():
        result = Executor(device="cpu", models=models).run(graph, output_dir=tmp / "out")
        assert result.ok, result.errors
        return result

    def theirs():
        return pipe(prompt=prompt, height=args.size, width=args.size, num_inference_steps=args.steps,
                    generator=torch.Generator("cpu").manual_seed(seed), **{keyword: guidance(args.cfg)},
                    **extra).images

    first = ours()  # loads the models once; not timed
    same = np.array_equal(image_to_uint8(first.values[decode]["image"])[0], np.array(theirs()[0]))
    graph_times, pipe_times = interleaved_times(ours, theirs, args.repeats)
    g, p = statistics.median(graph_times), statistics.median(pipe_times)
    print(f"{name} (tiny random) {args.size}x{args.size}, {args.steps} steps, cfg {args.cfg}, "
          f"torch threads {torch.get_num_threads()}: pixels identical to {pipeline}: {same}")
    print(f"  steps/s: graph {args.steps / g:.2f}, pipeline {args.steps / p:.2f}; "
          f"graph/pipeline speed ratio {p / g:.3f} (goal >= 0.98)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--steps", type=int, default=8)
    parser.add_argument("--size", type=int, default=64)
    parser.add_argument("--cfg", type=float, default=1.0)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--family", choices=sorted(FAMILIES), action="append")
    args = parser.parse_args()
    sys.path[:0] = [str(ROOT / "tests" / "nodes"), str(ROOT / "tests" / "nodes" / "flux")]
    import torch

    torch.set_num_threads(args.threads)
    with tempfile.TemporaryDirectory() as tmp:
        # the tiny models are written here: a folder the graphs may read (NodeFlow's read rule)
        os.environ[ENV_ALLOW_READ] = os.pathsep.join(filter(None, [os.environ.get(ENV_ALLOW_READ), tmp]))
        for name in args.family or sorted(FAMILIES):
            bench(name, args, Path(tmp))


if __name__ == "__main__":
    main()
