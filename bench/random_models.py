"""Full-size Stable Diffusion models with random weights, for the benchmarks (no downloads).

The architectures come from the configs NodeFlow ships (resources/configs/<arch>/); the weights
are the modules' own random initialisation under a fixed seed. The tokenizer is the minimal one a
user may provide (vocab.json + merges.txt only, letters as tokens), so the benchmarks also run
the 77-token window path. Models are written once into a cache folder outside the source tree
(NODEFLOW_BENCH_CACHE, default: the user's cache folder) and reused.
"""

from __future__ import annotations

import json
import os
import shutil
import string
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CONFIGS = ROOT / "resources" / "configs"


def cache_dir() -> Path:
    from platformdirs import user_cache_dir

    folder = Path(os.environ.get("NODEFLOW_BENCH_CACHE") or user_cache_dir("nodeflow-bench"))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def write_tokenizer(folder: Path) -> None:
    """vocab.json + merges.txt of a CLIP BPE tokenizer over single letters, and nothing else."""
    letters = list(string.ascii_lowercase) + list(string.digits) + list(",.!?'-")
    vocab = ["<|startoftext|>", "<|endoftext|>"] + letters + [c + "</w>" for c in letters]
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "vocab.json").write_text(json.dumps({t: i for i, t in enumerate(vocab)}))
    (folder / "merges.txt").write_text("#version: 0.2\n")


def _config(arch: str, part: str) -> dict:
    return json.loads((CONFIGS / arch / part / "config.json").read_text())


def build_folder(arch: str, folder: Path, *, dtype: str = "float16", device: str = "cpu", seed: int = 0) -> Path:
    """A diffusers folder of the `arch` ("sd15" or "sdxl") architecture with random weights."""
    if (folder / "model_index.json").is_file():
        return folder
    import torch
    from diffusers import AutoencoderKL, UNet2DConditionModel
    from transformers import CLIPTextConfig, CLIPTextModel, CLIPTextModelWithProjection

    partial = folder.with_name(folder.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    torch.manual_seed(seed)
    torch_dtype = getattr(torch, dtype)
    parts = {"unet": lambda: UNet2DConditionModel.from_config(_config(arch, "unet")),
             "vae": lambda: AutoencoderKL.from_config(_config(arch, "vae")),
             "text_encoder": lambda: CLIPTextModel(CLIPTextConfig(**_config(arch, "text_encoder")))}
    if (CONFIGS / arch / "text_encoder_2").is_dir():
        parts["text_encoder_2"] = lambda: CLIPTextModelWithProjection(
            CLIPTextConfig(**_config(arch, "text_encoder_2")))
    for part, make in parts.items():
        with torch.device(device):
            module = make()
        module.to(torch_dtype).save_pretrained(partial / part)
        del module
        write_tokenizer(partial / part.replace("text_encoder", "tokenizer"))
    shutil.copytree(CONFIGS / arch / "scheduler", partial / "scheduler")
    shutil.copy(CONFIGS / arch / "model_index.json", partial / "model_index.json")
    for extra in ("safety_checker", "feature_extractor", "image_encoder"):
        index = json.loads((partial / "model_index.json").read_text())
        if extra in index:
            index[extra] = [None, None]
            (partial / "model_index.json").write_text(json.dumps(index, indent=2))
    partial.rename(folder)
    return folder


def build_single_file(arch_folder: Path, target: Path) -> Path:
    """The same model as one original-layout .safetensors file (SD 1.x), with its tokenizer beside it."""
    if target.is_file():
        return target
    sys.path.insert(0, str(ROOT / "tests" / "nodes"))
    from ldm_format import write_single_file

    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".partial")
    write_single_file(arch_folder, partial)
    write_tokenizer(target.parent / "tokenizer")
    partial.rename(target)
    return target
