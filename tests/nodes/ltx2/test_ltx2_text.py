"""LTX-2's text side on a tiny Gemma 3 built from the shipped 12B config: a ComfyUI Gemma file (ComfyUI's key
names, its vision tower beside, which loads with it) read by the LTXAV Text Encoder Loader gives the prompt
states LTX2Pipeline.encode_prompt makes with the same Gemma from a folder, exactly. Generate LTX2 Prompt writes
what transformers' generate writes from LTX-2's chat (from the folder's model and from the file's), seeded, and
with a first frame what Gemma3ForConditionalGeneration writes seeing it, from the folder and from the file (a
language-model file, without the vision tower, is one line); the official LTX-2.3 templates import fully mapped."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from graphs import add, new_graph
from tiny_gemma3 import END, SIDE, write_files

from nodeflow.core import RunContext, default_registry
from nodeflow.engine import Executor
from nodeflow.interop.comfyui import import_source
from nodeflow.interop.comfyui.source import read_source


@pytest.fixture(scope="module")
def files(tmp_path_factory, torch_threads):
    return write_files(tmp_path_factory.mktemp("tiny_gemma3"))


@pytest.fixture(scope="module")
def executor():
    return Executor(device="cpu")


def _encoded(executor, tmp_path, text_encoder: Path, checkpoint: Path, prompt: str):
    graph = new_graph()
    clip = add(graph, "ltx2.load_text_encoder", text_encoder=str(text_encoder), ckpt_name=str(checkpoint))
    encode = add(graph, "conditioning.text_encode", {"clip": (clip, "clip")}, text=prompt)
    return clip, encode, executor.run(graph, output_dir=tmp_path, targets=[encode])


@pytest.mark.parametrize("prompt", ["a red fox runs, then stops.", "  Night rain  "])
def test_the_comfyui_file_gives_the_pipelines_prompt_states(files, executor, tmp_path, prompt):
    from diffusers import LTX2Pipeline

    _, encode, result = _encoded(executor, tmp_path, files["file"], files["checkpoint"], prompt)
    assert result.ok, result.errors
    (entry,) = result.values[encode]["conditioning"].entries
    pipe = LTX2Pipeline(scheduler=None, vae=None, audio_vae=None, text_encoder=files["model"],
                        tokenizer=files["tokenizer"], connectors=None, transformer=None, vocoder=None)
    with torch.no_grad():
        states, mask, _, _ = pipe.encode_prompt(prompt, do_classifier_free_guidance=False, max_sequence_length=32,
                                                device="cpu")
    assert states.shape == (1, 32, 32 * 3) and states.std() > 0.1
    assert torch.equal(entry.embeds, states) and torch.equal(entry.attention_mask, mask)


def _written(executor, tmp_path, files, source="folder", **params):
    graph = new_graph()
    clip = add(graph, "ltx2.load_text_encoder", text_encoder=str(files[source]), ckpt_name=str(files["checkpoint"]))
    write = add(graph, "ltx2.generate_prompt", {"clip": (clip, "clip")}, prompt="a fox", max_length=6, **params)
    result = executor.run(graph, output_dir=tmp_path, targets=[write])
    assert result.ok, result.errors
    return result.values[write]["generated_text"]


@pytest.mark.parametrize("source", ["folder", "file"])
def test_the_prompt_writer_continues_ltx2s_chat_as_generate_does(files, executor, tmp_path, source):
    from diffusers.pipelines.ltx2.utils import T2V_DEFAULT_SYSTEM_PROMPT

    tokenizer, model = files["tokenizer"], files["model"]
    chat = (f"<bos><start_of_turn>system\n{T2V_DEFAULT_SYSTEM_PROMPT.strip()}<end_of_turn>\n<start_of_turn>user\n\n"
            f"User Raw Input Prompt: a fox.<end_of_turn>\n<start_of_turn>model\n")
    ids = tokenizer(chat, return_tensors="pt", add_special_tokens=False).input_ids
    with torch.no_grad():
        out = model.generate(ids, attention_mask=torch.ones_like(ids), max_new_tokens=6, do_sample=False,
                             eos_token_id=[1, tokenizer.convert_tokens_to_ids(END)], pad_token_id=0)
    expected = tokenizer.decode(out[0, ids.shape[1]:], skip_special_tokens=True).strip()
    assert out.shape[1] > ids.shape[1] and _written(executor, tmp_path, files, source, sampling_mode="off") == expected
    sampled = _written(executor, tmp_path / "a", files, source, seed=5)
    assert sampled == _written(executor, tmp_path / "b", files, source, seed=5)


def _frame(tmp_path) -> tuple[Path, torch.Tensor]:
    """A random picture of the vision tower's own size (so its sizing keeps every pixel)."""
    from PIL import Image

    generator = torch.Generator().manual_seed(7)
    pixels = (torch.rand(SIDE, SIDE, 3, generator=generator) * 255).round().to(torch.uint8)
    path = tmp_path / "frame.png"
    Image.fromarray(pixels.numpy()).save(path)
    return path, pixels.float() / 255


def _with_frame(executor, tmp_path, files, source, frame, **params):
    graph = new_graph()
    clip = add(graph, "ltx2.load_text_encoder", text_encoder=str(files[source]), ckpt_name=str(files["checkpoint"]))
    picture = add(graph, "image.load", image=str(frame))
    write = add(graph, "ltx2.generate_prompt", {"clip": (clip, "clip"), "image": (picture, "image")},
                prompt="a fox", max_length=6, **params)
    return write, executor.run(graph, output_dir=tmp_path, targets=[write])


@pytest.mark.parametrize("source", ["folder", "file"])
def test_with_a_first_frame_gemma_sees_the_picture_in_the_i2v_chat(files, executor, tmp_path, source):
    from diffusers.pipelines.ltx2.utils import I2V_DEFAULT_SYSTEM_PROMPT

    tokenizer, model = files["tokenizer"], files["model"]
    frame, pixels = _frame(tmp_path)
    write, result = _with_frame(executor, tmp_path, files, source, frame, sampling_mode="off")
    assert result.ok, result.errors
    before = f"<bos><start_of_turn>system\n{I2V_DEFAULT_SYSTEM_PROMPT.strip()}<end_of_turn>\n<start_of_turn>user\n\n"
    after = "\n\nUser Raw Input Prompt: a fox.<end_of_turn>\n<start_of_turn>model\n"
    ids = torch.cat([tokenizer(before, return_tensors="pt", add_special_tokens=False).input_ids,
                     torch.full((1, model.config.mm_tokens_per_image), model.config.image_token_id),
                     tokenizer(after, return_tensors="pt", add_special_tokens=False).input_ids], dim=1)
    with torch.no_grad():
        out = model.generate(ids, attention_mask=torch.ones_like(ids), pixel_values=(pixels[None].permute(0, 3, 1, 2)
                             - 0.5) / 0.5, max_new_tokens=6, do_sample=False,
                             eos_token_id=[1, tokenizer.convert_tokens_to_ids(END)], pad_token_id=0)
    assert out.shape[1] > ids.shape[1]
    assert result.values[write]["generated_text"] == tokenizer.decode(out[0, ids.shape[1]:],
                                                                      skip_special_tokens=True).strip()


def test_a_frame_of_another_shape_is_sized_to_the_vision_towers_square(files, executor, tmp_path):
    from PIL import Image

    from nodes.ltx2.prompt import PICTURE, picture_inputs

    frame = torch.rand(1, 90, 300, 3)
    ids, extra = picture_inputs(RunContext(), files["model"], files["tokenizer"], f"a{PICTURE}b", frame)
    assert extra["pixel_values"].shape == (1, 3, SIDE, SIDE) and -1 <= float(extra["pixel_values"].min())
    assert int((ids == files["model"].config.image_token_id).sum()) == files["model"].config.mm_tokens_per_image
    path = tmp_path / "wide.png"
    Image.fromarray((frame[0] * 255).to(torch.uint8).numpy()).save(path)
    write, result = _with_frame(executor, tmp_path, files, "file", path, seed=1)
    assert result.ok, result.errors


def test_a_language_model_file_cannot_see_the_picture_one_line(files, executor, tmp_path):
    write, result = _with_frame(executor, tmp_path, files, "text_file", _frame(tmp_path)[0])
    assert not result.ok, result.values
    message = result.errors.get(write, str(result.errors))
    assert "\n" not in message and "vision tower" in message, message


templates = pytest.importorskip("comfyui_workflow_templates_json")


@pytest.mark.parametrize("name", ["video_ltx2_3_i2v", "video_ltx2_3_t2v"])
def test_the_ltx2_3_templates_import_fully_mapped(name):
    path = Path(templates.__file__).parent / "templates" / f"{name}.json"
    graph, report = import_source(read_source(path), default_registry(), flatten_subgraphs=True)
    assert report.fully_mapped, report.lines()
    records = list(graph.nodes.values())
    (loader,) = [r for r in records if r.type == "ltx2.load_text_encoder"]
    assert loader.params["text_encoder"].startswith("gemma_3_12B") and loader.params["ckpt_name"].startswith("ltx-2.3")
    writers = [r for r in records if r.type == "ltx2.generate_prompt"]
    assert writers and all(r.params["max_length"] == 2048 and r.params["repetition_penalty"] == 1.05 for r in writers)
