"""ComfyUI's LTX-2 files: an all-in-one checkpoint (transformer and text connectors, text projection, video
VAE, audio VAE and vocoder under LTX-2's original names) through Load Checkpoint, Gemma 3 from its own file
through LTXAV Text Encoder Loader, give the pipeline folder's video and soundtrack (the same weights: equal
within 1e-5); the checkpoint's CLIP holds no encoder and says which loader to use."""

from __future__ import annotations

import pytest
import torch
from ltx2_graphs import ltx2_txt2video

from nodeflow.core import NodeError, RunContext
from nodeflow.engine import Executor


@pytest.fixture(scope="module")
def comfy_files(tiny_ltx2, tmp_path_factory):
    from diffusers import LTX2Pipeline
    from tiny_ltx2 import write_checkpoint_file, write_gemma_file

    folder, _ = tiny_ltx2
    root = tmp_path_factory.mktemp("ltx2_files")
    (root / "checkpoints").mkdir()
    (root / "text_encoders").mkdir()
    checkpoint = write_checkpoint_file(folder, root / "checkpoints" / "ltx-2-tiny.safetensors")
    pipe = LTX2Pipeline.from_pretrained(folder, local_files_only=True)
    gemma = write_gemma_file(pipe.text_encoder, root / "text_encoders" / "gemma_3_tiny.safetensors")
    pipe.tokenizer.save_pretrained(root / "text_encoders" / "tokenizer")  # the folder's tokenizer beside it
    return checkpoint, gemma


def _outputs(graph, ids, tmp_path):
    result = Executor(device="cpu").run(graph, output_dir=tmp_path, targets=[ids["out"], ids["sound"]])
    assert result.ok, result.errors
    return result.values[ids["decode"]]["image"], result.values[ids["sound"]]["audio"]["waveform"]


@pytest.mark.parametrize("cfg", [1.0, 3.0])
def test_comfyui_files_make_the_pipeline_folders_video(tiny_ltx2, comfy_files, tmp_path, cfg):
    folder, audio_file = tiny_ltx2
    checkpoint, gemma = comfy_files
    negative = "a blue square" if cfg > 1 else ""
    graph, ids = ltx2_txt2video(folder, audio_file, negative=negative, cfg=cfg, seed=7)
    frames, sound = _outputs(graph, ids, tmp_path / "folder")
    graph, ids = ltx2_txt2video(checkpoint, checkpoint, negative=negative, cfg=cfg, seed=7)
    text = graph.add_node("ltx2.load_text_encoder", {"text_encoder": str(gemma), "ckpt_name": str(checkpoint)}).id
    for name in ("pos", "neg"):
        graph.connect(text, "clip", ids[name], "clip")
    file_frames, file_sound = _outputs(graph, ids, tmp_path / "file")
    assert frames.std() > 0.02
    torch.testing.assert_close(file_frames, frames, atol=1e-5, rtol=0)
    torch.testing.assert_close(file_sound, sound, atol=1e-6, rtol=0)


def test_the_checkpoints_clip_names_the_gemma_loader(comfy_files):
    from nodes.ltx2._adapter import encode
    from nodes.ltx2._files import load_checkpoint_file

    checkpoint, _ = comfy_files
    model, clip, vae = load_checkpoint_file(checkpoint, "cpu", torch.float32, "cpu")
    assert model.family == "ltx2" and vae.scale_factor == 32 and model.unet.connectors is not None
    with pytest.raises(NodeError, match="LTXAV Text Encoder Loader") as error:
        encode(RunContext(), clip, "a red circle")
    assert error.value.field == "clip"


def test_a_comfyui_lora_patches_the_video_and_sound_layers(comfy_files, tmp_path):
    from tiny_ltx2 import write_lora_file

    from nodes.ltx2._files import load_checkpoint_file
    from nodes.models._lora import apply_lora, read_lora

    checkpoint, _ = comfy_files
    path, weights = write_lora_file(tmp_path / "ltx-2-lora.safetensors")
    model, _, _ = load_checkpoint_file(checkpoint, "cpu", torch.float32, "cpu")
    patched, _ = apply_lora(RunContext(), model, None, read_lora(path), 0.5, 0.0)
    for layer in ("attn1.to_q", "audio_attn1.to_k"):
        key = f"diffusion_model.transformer_blocks.0.{layer}"
        before = model.unet.get_submodule(f"transformer_blocks.0.{layer}").weight
        after = patched.unet.get_submodule(f"transformer_blocks.0.{layer}").weight
        expected = 0.5 * weights[f"{key}.lora_B.weight"] @ weights[f"{key}.lora_A.weight"]
        torch.testing.assert_close(after - before, expected, atol=1e-6, rtol=0)
    assert patched.unet.connectors is not None  # the connectors travel with the patched transformer


def test_an_ltx23_file_makes_the_ltx23_folders_video(tiny_ltx23, tmp_path):
    """LTX-2.3's all-in-one layout (per-stream text projections, prompt modulation names) loads to the same
    model as its pipeline folder."""
    from diffusers import LTX2Pipeline
    from tiny_ltx2 import write_checkpoint_file, write_gemma_file

    folder, audio_file = tiny_ltx23
    (tmp_path / "text_encoders").mkdir()
    checkpoint = write_checkpoint_file(folder, tmp_path / "ltx-2.3-tiny.safetensors")
    pipe = LTX2Pipeline.from_pretrained(folder, local_files_only=True)
    gemma = write_gemma_file(pipe.text_encoder, tmp_path / "text_encoders" / "gemma_3_tiny.safetensors")
    pipe.tokenizer.save_pretrained(tmp_path / "text_encoders" / "tokenizer")
    graph, ids = ltx2_txt2video(folder, audio_file, seed=2)
    frames, sound = _outputs(graph, ids, tmp_path / "folder")
    graph, ids = ltx2_txt2video(checkpoint, checkpoint, seed=2)
    text = graph.add_node("ltx2.load_text_encoder", {"text_encoder": str(gemma), "ckpt_name": str(checkpoint)}).id
    for name in ("pos", "neg"):
        graph.connect(text, "clip", ids[name], "clip")
    file_frames, file_sound = _outputs(graph, ids, tmp_path / "file")
    torch.testing.assert_close(file_frames, frames, atol=1e-5, rtol=0)
    torch.testing.assert_close(file_sound, sound, atol=1e-6, rtol=0)
