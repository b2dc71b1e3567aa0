"""How fast is a NodeFlow Flux graph next to diffusers' FluxPipeline, in the same process?

Builds a small-but-not-trivial random Flux.1 dev (the tests' tiny architecture widened: 256-wide,
2 double + 2 single blocks, 128x128 pictures = 1024 image tokens, 512 T5 tokens), then times the
same txt2img (guidance 3.5, cfg 1, euler) both ways, interleaved, and prints steps per second of
each and their ratio (goal: graph >= 0.98x the pipeline), plus whether the pixels are identical
(the pipeline's weights laid out as NodeFlow's loaders lay them, as the parity tests do). The
ratio is given in wall time and in this process's CPU time, and the CPU time is split into the
transformer's calls and everything else (NodeFlow's own overhead, or the pipeline's): on a machine
shared with other work even the transformer's CPU time varies by several percent between runs, so the
ratio with both sides' transformer time set to the pipeline's is what measures NodeFlow's own cost.
Run: `python bench/flux_speed.py [--repeats N] [--steps N] [--size N]`.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

from _common import ROOT, add_node, interleaved_times, quiet_environment

quiet_environment()


def build(folder: Path) -> Path:
    sys.path[:0] = [str(ROOT / "tests" / "nodes"), str(ROOT / "tests" / "nodes" / "flux")]
    import torch
    from diffusers import FlowMatchEulerDiscreteScheduler, FluxPipeline, FluxTransformer2DModel
    from tiny_flow import (
        FLUX_DEV_SCHEDULER,
        _randomize_zero_inits,
        clip_encoder,
        clip_tokenizer,
        t5_encoder,
        t5_tokenizer,
        vae16,
    )

    torch.manual_seed(0)
    transformer = FluxTransformer2DModel(patch_size=1, in_channels=64, num_layers=2, num_single_layers=2,
                                         attention_head_dim=128, num_attention_heads=2, joint_attention_dim=32,
                                         pooled_projection_dim=32, guidance_embeds=True, axes_dims_rope=(16, 56, 56))
    _randomize_zero_inits(transformer)
    FluxPipeline(transformer=transformer, vae=vae16(), text_encoder=clip_encoder(),
                 tokenizer=clip_tokenizer(folder / "tokenizer"), text_encoder_2=t5_encoder(),
                 tokenizer_2=t5_tokenizer(folder / "tokenizer_2"),
                 scheduler=FlowMatchEulerDiscreteScheduler(**FLUX_DEV_SCHEDULER)).save_pretrained(folder)
    return folder


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--steps", type=int, default=8)
    parser.add_argument("--size", type=int, default=128)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()

    import numpy as np
    import torch
    from diffusers import FluxPipeline

    from nodeflow.core import Graph, ModelStore, default_registry
    from nodeflow.engine import Executor
    from nodes._tensors import image_to_uint8

    torch.set_num_threads(args.threads)
    prompt, seed = "a red circle on a blue background", 1
    with tempfile.TemporaryDirectory() as tmp:
        folder = build(Path(tmp) / "flux")
        graph = Graph(default_registry())
        ckpt = add_node(graph, "models.load_checkpoint", {}, checkpoint=str(folder))
        text = add_node(graph, "conditioning.text_encode", {"clip": (ckpt, "clip")}, text=prompt)
        guided = add_node(graph, "flux.guidance", {"conditioning": (text, "conditioning")}, guidance=3.5)
        latent = add_node(graph, "latent.empty", {}, width=args.size, height=args.size, batch_size=1)
        sampler = add_node(graph, "sampling.sampler", {"model": (ckpt, "model"), "positive": (guided, "conditioning"),
                                                       "latent_image": (latent, "latent")},
                           seed=seed, steps=args.steps, cfg=1.0, sampler_name="euler", scheduler="normal")
        decode = add_node(graph, "vae.decode", {"latent": (sampler, "latent"), "vae": (ckpt, "vae")})
        add_node(graph, "image.preview", {"images": (decode, "image")})
        from pipelines import settled  # tests/nodes, on the path since build()

        pipe = settled(FluxPipeline.from_pretrained(folder, local_files_only=True))
        pipe.set_progress_bar_config(disable=True)
        models = ModelStore()

        def ours():
            result = Executor(device="cpu", models=models).run(graph, output_dir=Path(tmp) / "out",
                                                               workflow_dir=Path(tmp))
            assert result.ok, result.errors
            return result

        def theirs():
            return pipe(prompt, height=args.size, width=args.size, num_inference_steps=args.steps, guidance_scale=3.5,
                        generator=torch.Generator("cpu").manual_seed(seed)).images

        first = ours()  # loads the model once; not timed
        same = np.array_equal(image_to_uint8(first.values[decode]["image"])[0], np.array(theirs()[0]))
        cpu: dict[str, list[float]] = {"graph": [], "pipeline": []}
        model_cpu: dict[str, list[float]] = {"graph": [], "pipeline": []}
        inside = {"graph": 0.0, "pipeline": 0.0}

        def count_model(name, transformer):
            forward = transformer.forward

            def timed_forward(*args, **kwargs):
                start = time.process_time()
                try:
                    return forward(*args, **kwargs)
                finally:
                    inside[name] += time.process_time() - start
            transformer.forward = timed_forward

        count_model("graph", first.values[ckpt]["model"].unet)
        count_model("pipeline", pipe.transformer)

        def cpu_timed(name, run):
            def timed():
                inside[name] = 0.0
                start = time.process_time()
                run()
                cpu[name].append(time.process_time() - start)
                model_cpu[name].append(inside[name])
            return timed

        graph_times, pipe_times = interleaved_times(cpu_timed("graph", ours), cpu_timed("pipeline", theirs),
                                                    args.repeats)
        g, p = statistics.median(graph_times), statistics.median(pipe_times)
        print(f"flux (random, 256 wide, 2+2 blocks) {args.size}x{args.size}, {args.steps} euler steps, "
              f"torch threads {torch.get_num_threads()}")
        print(f"pixels identical to FluxPipeline: {same}")
        print(f"steps/s: graph {args.steps / g:.2f}, pipeline {args.steps / p:.2f}; "
              f"graph/pipeline speed ratio {p / g:.3f} (goal >= 0.98)")
        paired = statistics.median(b / a for a, b in zip(graph_times, pipe_times, strict=True))
        print(f"median of back-to-back pairs: speed ratio {paired:.3f}")
        g_cpu, p_cpu = statistics.median(cpu["graph"]), statistics.median(cpu["pipeline"])
        print(f"CPU seconds per run: graph {g_cpu:.3f}, pipeline {p_cpu:.3f}; CPU speed ratio {p_cpu / g_cpu:.3f}")
        outside = {k: statistics.median(t - m for t, m in zip(cpu[k], model_cpu[k], strict=True)) for k in cpu}
        model = statistics.median(model_cpu["pipeline"])
        print(f"CPU seconds outside the transformer per run: graph {outside['graph']:.3f}, pipeline "
              f"{outside['pipeline']:.3f}; transformer {statistics.median(model_cpu['graph']):.3f} (graph), "
              f"{model:.3f} (pipeline)")
        print(f"speed ratio with equal transformer time: "
              f"{(model + outside['pipeline']) / (model + outside['graph']):.4f} (goal >= 0.98)")


if __name__ == "__main__":
    main()
