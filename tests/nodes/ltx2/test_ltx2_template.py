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
def test_the_ltx2_templates_run_on_tiny_weights(model_files, tmp_path, template):
    assert len(_run_template(template, model_files, tmp_path)) == 1


def _run_template(name: str, files: dict, tmp_path: Path, needs: tuple[str, ...] = ("ltx2.latent_upsampler",),
                  ) -> list[Path]:
    """The template imported (fully mapped), its model names pointed at `files`, its sizes and steps shrunk
    (128 x 128, halved for the first pass; 9 frames; 2 LTXV Scheduler steps; a prompt writer's 4 tokens), run;
    the videos it saved. LTX-2.5's split files: `files` "unet", "clip" (Load CLIP), "video_vae" and "audio_vae"
    (Load VAE, told apart by the template's file names)."""
    import numpy as np
    from PIL import Image

    templates = pytest.importorskip("comfyui_workflow_templates_json")
    path = Path(templates.__file__).parent / "templates" / f"{name}.json"
    picture = tmp_path / "start.png"
    y, x = np.mgrid[0:96, 0:128]
    Image.fromarray(np.stack([x * 2, y * 2, x + y], axis=-1).astype("uint8")).save(picture)
    graph, report = import_source(read_source(path), default_registry(), flatten_subgraphs=True)
    assert report.fully_mapped, report.lines()
    names = {"models.load_checkpoint": {"checkpoint": files.get("checkpoint")},
             "ltx2.load_audio_vae": {"ckpt_name": files.get("checkpoint")},
             "ltx2.load_text_encoder": {"text_encoder": files.get("gemma"), "ckpt_name": files.get("checkpoint")},
             "ltx2.load_latent_upscale_model": {"model_name": files["upscaler"]},
             "image.load": {"image": picture}, "models.load_lora_model_only": {"lora": files.get("lora")},
             "models.load_lora": {"lora": files.get("lora")}, "models.load_unet": {"unet": files.get("unet")},
             "models.load_clip": {"clip_name": files.get("clip")}}
    for node_id, record in list(graph.nodes.items()):
        for field, value in names.get(record.type, {}).items():
            if value is not None:
                graph.set_param(node_id, field, str(value))
        if record.type == "models.load_vae" and "video_vae" in files:
            graph.set_param(node_id, "vae", str(files["audio_vae" if "audio" in record.params["vae"] else "video_vae"]))
        if record.type in ("image.empty", "image.resize_image_mask"):
            for field in ("width", "height", "longer_size"):
                if field in record.params:
                    graph.set_param(node_id, field, 128)
        if record.type == "image.resolution_selector":  # LTX-2.5's 0.9 megapixels -> 416 x 224
            graph.set_param(node_id, "megapixels", 0.1)
        if record.type == "ltx2.scheduler":
            graph.set_param(node_id, "steps", 2)
        if record.type == "ltx2.generate_prompt":
            graph.set_param(node_id, "max_length", 4)
        if record.type == "models.load_lora":  # LTX-2.3's Gemma LoRA: the tiny file has no Gemma layers
            graph.set_param(node_id, "strength_model", 0.0)
            graph.set_param(node_id, "strength_clip", 0.0)
        if record.type == "basic.int":  # 121 frames -> 9; 1280 x 720, 5 s at 25 or 24 fps -> 128 x 128, 1 s at 8
            value = record.params.get("value")
            graph.set_param(node_id, "value", {121: 9, 720: 128, 1280: 128, 25: 8, 24: 8, 5: 1}.get(value, value))
    kinds = {record.type for record in graph.nodes.values()}
    assert {*needs, "ltx2.concat_av_latent", "sampling.sample"} <= kinds
    torch.manual_seed(0)
    result = Executor(device="cpu").run(graph, output_dir=tmp_path / "out")
    assert result.ok, result.errors
    return sorted((tmp_path / "out").rglob("*.mp4"))


@pytest.fixture(scope="module")
def ltx23_files(tmp_path_factory):
    from safetensors.torch import save_file
    from tiny_gemma3 import comfyui_state
    from tiny_ltx2 import build_ltx23_chat, write_checkpoint_file, write_lora_file, write_upsampler_file

    root = tmp_path_factory.mktemp("ltx23_template")
    folder, gemma, tokenizer = build_ltx23_chat(root / "pipeline")
    (root / "text_encoders").mkdir()
    tokenizer.save_pretrained(root / "text_encoders" / "tokenizer")
    save_file(comfyui_state(gemma), str(root / "text_encoders" / "gemma_3_tiny.safetensors"))
    return {"checkpoint": write_checkpoint_file(folder, root / "ltx-2.3-tiny.safetensors"),
            "gemma": root / "text_encoders" / "gemma_3_tiny.safetensors",
            "upscaler": write_upsampler_file(root / "ltx-2.3-spatial-upscaler-tiny.safetensors")[0],
            "lora": write_lora_file(root / "ltx-2.3-distilled-lora-tiny.safetensors")[0]}


@pytest.mark.parametrize("template", ["video_ltx2_3_t2v", "video_ltx2_3_i2v"])
def test_the_ltx23_templates_run_on_tiny_weights(ltx23_files, tmp_path, template):
    """LTX-2.3's: its Gemma writes the prompt (Generate LTX2 Prompt, 4 tokens here), per-stream text projections,
    gated attention, two passes with LTXV Img To Video Inplace, the upscaler between them."""
    assert len(_run_template(template, ltx23_files, tmp_path)) == 1


def test_the_ltx23_first_last_frame_template_runs_on_tiny_weights(ltx23_files, tmp_path):
    """video_ltx2_3_flf2v: LTXV Add Guide appends the first and the last picture (frames 0 and -1, strength
    0.7) in one pass with Euler ancestral at eta 0; LTXV Crop Guides drops them before decoding."""
    assert len(_run_template("video_ltx2_3_flf2v", ltx23_files, tmp_path, needs=("ltx2.add_guide",))) == 1
