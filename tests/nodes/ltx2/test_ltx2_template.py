"""ComfyUI's official LTX-2 distilled text-to-video and image-to-video templates import fully mapped and run,
in the comfyui convention, on tiny random LTX-2 files: the all-in-one checkpoint (Load Checkpoint, Load LTXV
Audio VAE), Gemma 3 (LTXAV Text Encoder Loader), the x2 latent upscaler; a small first pass, the latent
upscaled, a second pass, the video and its soundtrack saved (image-to-video: the start picture resized,
compressed by LTXV Preprocess and put into both passes' first frames by LTXV Img To Video Inplace; the
full model's text-to-video: LTXV Scheduler's levels, CFG 4 with a negative prompt, the distilled LoRA for
the second pass)."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from nodeflow.core import default_registry
from nodeflow.engine import Executor
from nodeflow.interop.comfyui import import_source
from nodeflow.interop.comfyui.source import read_source


@pytest.fixture(scope="module")
def model_files(tiny_ltx2, tmp_path_factory):
    from diffusers import LTX2Pipeline
    from tiny_ltx2 import write_checkpoint_file, write_gemma_file, write_lora_file, write_upsampler_file

    folder, _ = tiny_ltx2
    root = tmp_path_factory.mktemp("ltx2_template")
    pipe = LTX2Pipeline.from_pretrained(folder, local_files_only=True)
    (root / "text_encoders").mkdir()
    pipe.tokenizer.save_pretrained(root / "text_encoders" / "tokenizer")
    return {"checkpoint": write_checkpoint_file(folder, root / "ltx-2-tiny.safetensors"),
            "gemma": write_gemma_file(pipe.text_encoder, root / "text_encoders" / "gemma_3_tiny.safetensors"),
            "upscaler": write_upsampler_file(root / "ltx-2-spatial-upscaler-tiny.safetensors")[0],
            "lora": write_lora_file(root / "ltx-2-distilled-lora-tiny.safetensors")[0]}


@pytest.mark.parametrize("template", ["video_ltx2_t2v_distilled", "video_ltx2_i2v_distilled", "video_ltx2_t2v"])
def test_the_distilled_templates_run_on_tiny_weights(model_files, tmp_path, template):
    import numpy as np
    from PIL import Image

    templates = pytest.importorskip("comfyui_workflow_templates_json")
    path = Path(templates.__file__).parent / "templates" / f"{template}.json"
    picture = tmp_path / "start.png"
    y, x = np.mgrid[0:96, 0:128]
    Image.fromarray(np.stack([x * 2, y * 2, x + y], axis=-1).astype("uint8")).save(picture)
    graph, report = import_source(read_source(path), default_registry(), flatten_subgraphs=True)
    assert report.fully_mapped, report.lines()
    names = {"models.load_checkpoint": {"checkpoint": model_files["checkpoint"]},
             "ltx2.load_audio_vae": {"ckpt_name": model_files["checkpoint"]},
             "ltx2.load_text_encoder": {"text_encoder": model_files["gemma"], "ckpt_name": model_files["checkpoint"]},
             "ltx2.load_latent_upscale_model": {"model_name": model_files["upscaler"]},
             "image.load": {"image": picture}, "models.load_lora_model_only": {"lora": model_files["lora"]}}
    for node_id, record in list(graph.nodes.items()):
        for field, value in names.get(record.type, {}).items():
            graph.set_param(node_id, field, str(value))
        if record.type in ("image.empty", "image.resize_image_mask"):  # 128 x 128 (halved in the first pass)
            for field in ("width", "height", "longer_size"):
                if field in record.params:
                    graph.set_param(node_id, field, 128)
        if record.type == "ltx2.scheduler":  # LTXV Scheduler's levels, 2 steps instead of 20
            graph.set_param(node_id, "steps", 2)
        if record.type in ("basic.int", "primitive.int") and record.params.get("value") == 121:
            graph.set_param(node_id, "value", 9)  # 9 frames, not 121
    kinds = {record.type for record in graph.nodes.values()}
    assert {"ltx2.latent_upsampler", "ltx2.concat_av_latent", "sampling.sample"} <= kinds
    torch.manual_seed(0)
    result = Executor(device="cpu").run(graph, output_dir=tmp_path / "out")
    assert result.ok, result.errors
    saved = sorted((tmp_path / "out").rglob("*.mp4"))
    assert len(saved) == 1
