"""The memory plan knows the flow families' parts at their real sizes, read from file headers: Flux.1
dev's 12-billion-weight transformer at one byte per matrix weight in fp8, T5-XXL beside it, and a
Flux dev fp8 workflow planned under a 12 GB CUDA budget (the text encoders are not the sampler's)."""

from __future__ import annotations

import json
import struct
from pathlib import Path

from nodeflow.core import default_registry, files
from nodeflow.engine.memory_plan import make_memory_plan
from nodeflow.engine.plan import make_plan

ROOT = Path(__file__).resolve().parents[3]
CONFIGS = ROOT / "resources" / "configs" / "flux"
GB = 10 ** 9


def _header_only(path: Path, shapes: dict[str, tuple[int, ...]], dtype: str = "BF16") -> Path:
    """A .safetensors header listing these tensors (no data: the plan reads headers only)."""
    header, offset = {}, 0
    for name, shape in shapes.items():
        count = 1
        for dim in shape:
            count *= dim
        header[name] = {"dtype": dtype, "shape": list(shape), "data_offsets": [offset, offset + 2 * count]}
        offset += 2 * count
    raw = json.dumps(header).encode()
    path.write_bytes(struct.pack("<Q", len(raw)) + raw)
    return path


def _shapes(model) -> dict[str, tuple[int, ...]]:
    return {k: tuple(v.shape) for k, v in model.state_dict().items()}


def _real_sized_files(folder: Path) -> dict[str, Path]:
    from accelerate import init_empty_weights
    from diffusers import AutoencoderKL, FluxTransformer2DModel
    from transformers import CLIPTextConfig, CLIPTextModel, T5Config, T5EncoderModel

    with init_empty_weights():
        transformer = FluxTransformer2DModel.from_config(FluxTransformer2DModel.load_config(CONFIGS / "transformer"))
        t5 = T5EncoderModel(T5Config.from_pretrained(CONFIGS / "text_encoder_2"))
        clip = CLIPTextModel(CLIPTextConfig.from_pretrained(CONFIGS / "text_encoder"))
        vae = AutoencoderKL.from_config(AutoencoderKL.load_config(CONFIGS / "vae"))
    return {"unet": _header_only(folder / "flux1-dev.safetensors", _shapes(transformer)),
            "t5": _header_only(folder / "t5xxl_fp16.safetensors", _shapes(t5), "F16"),
            "clip": _header_only(folder / "clip_l.safetensors", _shapes(clip), "F16"),
            "vae": _header_only(folder / "ae.safetensors", _shapes(vae), "F32")}


def test_flux_dev_fp8_workflow_is_planned_under_12_gb(tmp_path):
    made = _real_sized_files(tmp_path)
    graph, _ = files.load(ROOT / "workflows" / "families" / "flux_dev_fp8_txt2img.json", default_registry())
    for node_id, record in graph.nodes.items():
        if record.type == "models.load_unet":
            graph.set_param(node_id, "unet", str(made["unet"]))
        elif record.type == "models.load_clip":
            graph.set_param(node_id, "clip_name", str(made["clip"]))
            graph.set_param(node_id, "clip_name_2", str(made["t5"]))
        elif record.type == "models.load_vae":
            graph.set_param(node_id, "vae", str(made["vae"]))
    plan = make_memory_plan(graph, make_plan(graph).order, (tmp_path,), "cuda", 12 * GB)
    sampler = next(n for n in plan.nodes if graph.nodes[n.node_id].type == "sampling.sampler")
    text = next(n for n in plan.nodes if graph.nodes[n.node_id].type == "conditioning.text_encode")
    unet = sum(b for name, b in sampler.components if name.startswith("unet"))
    assert 11.5 * GB < unet < 12.5 * GB  # 11.9 billion weights, nearly all in matrices at 1 byte
    assert not any(name.startswith("text_encoder") for name, _ in sampler.components)
    assert sum(b for _, b in text.components) > 9 * GB  # T5-XXL's 4.8 billion weights in fp16
    assert plan.problems() == []
    default = graph.nodes[next(i for i, r in graph.nodes.items() if r.type == "models.load_unet")]
    assert default.params["weight_dtype"] == "fp8_e4m3fn"
