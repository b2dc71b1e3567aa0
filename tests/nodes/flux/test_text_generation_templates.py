"""ComfyUI's text-generation templates (llm_qwen3_text_gen: CLIPLoader type ltxv with Qwen3-4B;
llm_qwen3vl_text_gen: type ideogram4 with Qwen3-VL 4B and a picture) import fully mapped, their
encoders loading as the declared families whose files they are (Z-Image's Qwen3, Krea 2's Qwen3-VL),
and run end to end on tiny ComfyUI-style files: Generate Text writes text, and Qwen3-VL reads the picture."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from safetensors.torch import save_file
from tiny_flow import qwen3_encoder, qwen_tokenizer
from tiny_krea2 import qwen3_vl

from nodeflow.core import NodeError, RunContext, default_registry
from nodeflow.engine import Executor
from nodeflow.interop.comfyui import import_source
from nodeflow.interop.comfyui.source import read_source
from nodes.conditioning.generate import TextGenerate

templates = pytest.importorskip("comfyui_workflow_templates_json")


def _template(name: str):
    path = Path(templates.__file__).parent / "templates" / f"{name}.json"
    graph, report = import_source(read_source(path), default_registry(), flatten_subgraphs=True)
    assert report.fully_mapped, report.lines()
    return graph, report


def _run(graph, report, clip: Path, out: Path, picture: Path | None = None):
    comfy_class = {m[0]: m[1] for m in report.mapped}
    for node_id, record in graph.nodes.items():
        kind = comfy_class.get(node_id)
        if kind == "CLIPLoader":
            graph.set_param(node_id, "clip_name", str(clip))
        elif kind == "LoadImage":
            graph.set_param(node_id, "image", str(picture))
        elif record.type == "conditioning.generate_text":
            graph.set_param(node_id, "max_length", 6)
    result = Executor(device="cpu").run(graph, output_dir=out)
    assert result.ok, result.errors
    generate = next(i for i, r in graph.nodes.items() if r.type == "conditioning.generate_text")
    return result.values[generate]["text"]


def test_qwen3_text_generation_template_writes_with_z_images_encoder_file(tmp_path):
    graph, report = _template("llm_qwen3_text_gen")
    loader = next(r for r in graph.nodes.values() if r.type == "models.load_clip")
    assert loader.params["family"] == "lumina2"  # type ltxv: Z-Image's Qwen3 (ComfyUI picks it by the file)
    assert any("ltxv" in line for line in report.lines())
    clip = tmp_path / "text_encoders" / "qwen_3_4b.safetensors"
    clip.parent.mkdir()
    torch.manual_seed(0)
    save_file({"model." + k: v.contiguous() for k, v in qwen3_encoder().state_dict().items()}, str(clip))
    qwen_tokenizer(clip.parent / "tokenizer")
    text = _run(graph, report, clip, tmp_path / "out")
    assert isinstance(text, str) and text


def test_qwen3_vl_text_generation_template_reads_its_picture(tmp_path):
    graph, report = _template("llm_qwen3vl_text_gen")
    loader = next(r for r in graph.nodes.values() if r.type == "models.load_clip")
    assert loader.params["family"] == "krea2"  # type ideogram4: Qwen3-VL 4B as Krea 2 loads it
    clip = tmp_path / "text_encoders" / "qwen3vl_4b.safetensors"
    clip.parent.mkdir()
    tokenizer = qwen_tokenizer(clip.parent / "tokenizer", vision=True)
    torch.manual_seed(0)
    encoder = qwen3_vl(tokenizer, layers=2)
    state = {"model." + k: v.contiguous() for k, v in encoder.state_dict().items()}
    save_file(state, str(clip))
    picture = tmp_path / "picture.png"
    Image.fromarray(np.random.default_rng(0).integers(0, 256, (64, 64, 3), dtype=np.uint8)).save(picture)
    for record in graph.nodes.values():
        if record.type == "conditioning.generate_text":
            record.params["sampling_mode"] = "off"
    first = _run(graph, report, clip, tmp_path / "a", picture)
    assert isinstance(first, str) and first
    assert _run(graph, report, clip, tmp_path / "b", picture) == first  # greedy: the same text again



def test_the_pictures_take_their_slots_and_reach_the_model():
    from nodes.conditioning._generate import causal_lm
    from nodes.conditioning._pictures import picture_prompt
    from nodes.values import Clip

    tokenizer = qwen_tokenizer(vision=True)
    torch.manual_seed(0)
    clip = Clip(tokenizer=tokenizer, text_encoder=qwen3_vl(tokenizer, layers=2).eval(), device="cpu",
                dtype=torch.float32)
    model = causal_lm(clip.text_encoder)
    pictures = torch.rand(2, 64, 64, 3, generator=torch.Generator().manual_seed(1))
    logits = []
    for image in (pictures[:1], pictures[1:]):
        ids, extra = picture_prompt(clip, image, "what is this", "", thinking=False, template=True)
        pads = int((ids == tokenizer.convert_tokens_to_ids("<|image_pad|>")).sum())
        assert pads == int(extra["image_grid_thw"].prod()) // 4  # 2x2 patches merged into one token
        with torch.no_grad():
            logits.append(model(input_ids=ids, **extra).logits[0, -1])
    assert not torch.equal(logits[0], logits[1])


def test_a_picture_for_a_text_only_encoder_is_one_line_naming_image():
    from transformers import Qwen3Config, Qwen3ForCausalLM

    from nodes.values import Clip

    lm = Qwen3ForCausalLM(Qwen3Config(hidden_size=32, intermediate_size=64, num_hidden_layers=1, num_attention_heads=2,
                                      num_key_value_heads=1, head_dim=16, vocab_size=300, tie_word_embeddings=True))
    clip = Clip(tokenizer=qwen_tokenizer(), text_encoder=lm.model, device="cpu", dtype=torch.float32)
    options = dict(prompt="a", system_prompt="", max_length=2, sampling_mode="off", temperature=1.0, top_k=0,
                   top_p=1.0, min_p=0.0, repetition_penalty=1.0, seed=0, presence_penalty=0.0, thinking=False,
                   use_default_template=True, max_seconds=60.0)
    with pytest.raises(NodeError, match="sees no pictures") as caught:
        TextGenerate().run(RunContext(node_id="7"), clip, image=torch.zeros(1, 8, 8, 3), **options)
    assert caught.value.field == "image"


def test_other_files_of_those_types_stay_unmapped():
    """Ideogram 4's Qwen3-VL 8B (type ideogram4) and LTX-Video's T5 (type ltxv) are not the stand-ins' files."""
    for name in ("image_ideogram4_t2i", "ltxv_text_to_video"):
        path = Path(templates.__file__).parent / "templates" / f"{name}.json"
        _, report = import_source(read_source(path), default_registry(), flatten_subgraphs=True)
        assert "CLIPLoader" in {c for _, c, _ in report.placeholders}, name
