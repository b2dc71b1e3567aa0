"""gpu_check's Flux case: Flux.1 dev at 1024x1024 with fp8 weights under a 12 GB budget.

Writes random weights of Flux.1 dev's real architecture (the shipped configs: a 12-billion-weight
transformer as one bf16 .safetensors, CLIP-L, T5-XXL and the 16-channel VAE) as ComfyUI's split files,
runs workflows/families/flux_dev_fp8_txt2img.json on them (UNETLoader weight_dtype fp8_e4m3fn) with a
12 GB memory budget, and reports peak VRAM, the plan per node and seconds per step. `layers` cuts the
transformer's and T5's depth (full width kept) for a quick smoke run on a small machine.
"""

from __future__ import annotations

import shutil
import sys
import time
from pathlib import Path

from _common import ROOT

GB = 1000**3
CONFIGS = ROOT / "resources" / "configs" / "flux"


def _random(module, device: str) -> None:
    import torch

    with torch.no_grad():
        for param in module.parameters():
            param.normal_(0, 0.02)


def write_parts(folder: Path, device: str, layers: int | None = None) -> dict[str, Path]:
    """Random Flux.1 dev parts as single files (bf16 transformer, fp16 encoders) plus a T5 tokenizer."""
    import torch
    from diffusers import AutoencoderKL, FluxTransformer2DModel
    from safetensors.torch import save_file
    from transformers import CLIPTextConfig, CLIPTextModel, T5Config, T5EncoderModel

    sys.path[:0] = [str(ROOT / "tests" / "nodes"), str(ROOT / "tests" / "nodes" / "flux")]
    from tiny_flow import t5_tokenizer

    folder.mkdir(parents=True, exist_ok=True)
    config = dict(FluxTransformer2DModel.load_config(CONFIGS / "transformer"))
    t5_config = T5Config.from_pretrained(CONFIGS / "text_encoder_2")
    if layers is not None:
        config.update(num_layers=layers, num_single_layers=layers)
        t5_config.num_layers = layers
    paths = {}
    with torch.device(device):
        for name, build, dtype in (
                ("flux1-dev.safetensors", lambda: FluxTransformer2DModel.from_config(config), torch.bfloat16),
                ("t5xxl_fp16.safetensors", lambda: T5EncoderModel(t5_config), torch.float16),
                ("clip_l.safetensors",
                 lambda: CLIPTextModel(CLIPTextConfig.from_pretrained(CONFIGS / "text_encoder")), torch.float16),
                ("ae.safetensors", lambda: AutoencoderKL.from_config(AutoencoderKL.load_config(CONFIGS / "vae")),
                 torch.float32)):
            torch.set_default_dtype(dtype if dtype != torch.float16 else torch.float32)
            try:
                model = build().to(dtype)
            finally:
                torch.set_default_dtype(torch.float32)
            _random(model, device)
            state = {k: v.contiguous().cpu() for k, v in model.state_dict().items()}
            if name.startswith("t5"):
                state.pop("encoder.embed_tokens.weight", None)  # tied to shared.weight
            save_file(state, str(folder / name))
            paths[name] = folder / name
            del model, state
            if device == "cuda":
                torch.cuda.empty_cache()
    t5_tokenizer(folder / "t5xxl_fp16.tokenizer_2")
    return paths


def run(scratch: Path, device: str, row, quick: bool, layers: int | None = None, size: int = 1024,
        budget: int = 12 * GB) -> None:
    import torch

    from nodeflow.core import default_registry, files
    from nodeflow.engine import Executor

    t = time.perf_counter()
    paths = write_parts(scratch / "flux_parts", device, layers)
    row("flux fp8 @ 12 GB", "random Flux.1 dev parts written", f"{time.perf_counter() - t:.1f} s")
    graph, _ = files.load(ROOT / "workflows" / "families" / "flux_dev_fp8_txt2img.json", default_registry())
    steps = 2 if quick else 4
    for node_id, record in graph.nodes.items():
        if record.type == "models.load_unet":
            graph.set_param(node_id, "unet", str(paths["flux1-dev.safetensors"]))
        elif record.type == "models.load_clip":
            graph.set_param(node_id, "clip_name", str(paths["clip_l.safetensors"]))
            graph.set_param(node_id, "clip_name_2", str(paths["t5xxl_fp16.safetensors"]))
        elif record.type == "models.load_vae":
            graph.set_param(node_id, "vae", str(paths["ae.safetensors"]))
        elif record.type == "latent.empty":
            graph.set_param(node_id, "width", size)
            graph.set_param(node_id, "height", size)
        elif record.type == "sampling.sampler":
            graph.set_param(node_id, "steps", steps)
    executor = Executor(device=device, memory_budget=budget, previews=False)
    plan = executor.memory_plan(graph)
    row("flux fp8 @ 12 GB", "planned peak / problems",
        f"{plan.peak / GB:.2f} GB / {len(plan.problems())} ({'; '.join(p.message for p in plan.problems())[:120]})")
    sampled: dict[str, float] = {}
    from nodeflow.engine import events as ev

    def watch(event) -> None:
        if isinstance(event, ev.NodeStarted):
            sampled[event.node_id] = time.perf_counter()
        elif isinstance(event, ev.NodeFinished) and event.node_id in sampled:
            sampled[event.node_id] = time.perf_counter() - sampled[event.node_id]

    executor.subscribe(watch)
    if device == "cuda":
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
    t = time.perf_counter()
    result = executor.run(graph, output_dir=scratch / "flux_out", workflow_dir=scratch)
    seconds = time.perf_counter() - t
    if not result.ok:
        raise RuntimeError(f"run failed: {result.errors}")
    sampler = next(i for i, r in graph.nodes.items() if r.type == "sampling.sampler")
    peak = torch.cuda.max_memory_allocated() if device == "cuda" else 0
    verdict = "within" if peak <= budget else "OVER"
    row("flux fp8 @ 12 GB", f"{size}px, {steps} steps: peak VRAM",
        f"{peak / GB:.2f} GB, {verdict} budget ({seconds:.1f} s in all)")
    row("flux fp8 @ 12 GB", "sampler seconds per step", f"{sampled.get(sampler, 0) / steps:.2f} s")
    placed = "; ".join(f"{name} {size / GB:.2f} GB {place}" for name, size, place in executor.models.snapshot())
    row("flux fp8 @ 12 GB", "components", placed)
    shutil.rmtree(scratch / "flux_parts", ignore_errors=True)
