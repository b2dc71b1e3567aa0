"""ComfyUI's official MiniMax H3 templates (text to video, first / last frame to video, continuation,
reference to video, multi-frame reference) import fully mapped and run, in the comfyui convention, on
tiny random MiniMax H3 weights stored as ComfyUI's files are (the transformer in the original names,
Qwen3-VL with ComfyUI's `model.` prefix and the tokenizer beside it; the VAEs as diffusers folders; the
text-to-video one with a pruned transformer file, as the templates name), to
an mp4 with its stereo soundtrack; the multi-frame reference one says in one line what it lacks."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from safetensors.torch import save_file
from test_minimax_h3_pruned import pruned_state
from tiny_minimax_h3 import original_state, parts

from nodeflow.core import default_registry
from nodeflow.engine import Executor
from nodeflow.engine import events as ev
from nodeflow.interop.comfyui import import_source
from nodeflow.interop.comfyui.source import read_source

templates = pytest.importorskip("comfyui_workflow_templates_json")
FOLDER = Path(templates.__file__).parent / "templates"
FULLY_MAPPED = ("video_minimax_h3_t2v", "video_minimax_h3_i2v", "video_minimax_h3_i2v_continuation",
                "video_minimax_h3_r2v", "video_minimax_h3_multiframe_reference", "image_minimax_h3_t2i",
                "video_fastvideo_fasth3_t2v", "video_fastvideo_fasth3_i2v", "video_fasth3_ominiref_r2v")


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    tiny = parts()
    out = tmp_path_factory.mktemp("minimax_h3_files")
    unet = out / "minimax_h3_fl2va_bf16.safetensors"
    save_file(original_state(tiny["transformer"].state_dict()), str(unet))
    clip = out / "text_encoders" / "qwen3vl_32b_minimax_h3_bf16.safetensors"
    clip.parent.mkdir()
    save_file({"model." + k: v.contiguous() for k, v in tiny["text_encoder"].state_dict().items()}, str(clip))
    tiny["tokenizer"].save_pretrained(str(clip.parent / "tokenizer"))
    tiny["vae"].save_pretrained(str(out / "video_vae"))
    tiny["audio_vae"].save_pretrained(str(out / "audio_vae"))
    pruned = out / "minimax_h3_fl2va_pruned_bf16.safetensors"  # the templates' own kind of file
    save_file(pruned_state(tiny["transformer"]), str(pruned))
    return {"unet": unet, "pruned": pruned, "clip": clip, "vae": out / "video_vae", "audio_vae": out / "audio_vae"}


@pytest.mark.parametrize("name", FULLY_MAPPED)
def test_the_templates_import_fully_mapped(name):
    graph, report = import_source(read_source(FOLDER / f"{name}.json"), default_registry())
    assert report.fully_mapped, report.lines()


def _prepared(name: str, files: dict, picture: Path | None = None, length: int = 22, unet: str = "unet"):
    graph, report = import_source(read_source(FOLDER / f"{name}.json"), default_registry(), flatten_subgraphs=True)
    assert report.fully_mapped, report.lines()
    for node_id, record in list(graph.nodes.items()):
        params = record.params
        if record.type == "models.load_unet":
            graph.set_param(node_id, "unet", str(files[unet]))
        elif record.type == "models.load_clip":
            assert params["family"] == "minimax"
            graph.set_param(node_id, "clip_name", str(files["clip"]))
        elif record.type == "models.load_vae":
            graph.disconnect(node_id, "vae")
            graph.set_param(node_id, "vae", str(files["audio_vae" if "audio" in str(params.get("vae")) else "vae"]))
        elif record.type == "image.load" and picture is not None:
            graph.set_param(node_id, "image", str(picture))
        elif record.type in ("minimax_h3.image_to_video", "minimax_h3.reference_to_video"):
            for field, value in (("width", 32), ("height", 32), ("length", length)):
                graph.disconnect(node_id, field)
                graph.set_param(node_id, field, value)
        if "steps" in params:
            graph.disconnect(node_id, "steps")
            graph.set_param(node_id, "steps", 2)
    return graph


def test_the_text_to_video_template_runs_on_tiny_weights(files, tmp_path):
    graph = _prepared("video_minimax_h3_t2v", files, unet="pruned")
    torch.manual_seed(0)
    result = Executor(device="cpu").run(graph, output_dir=tmp_path / "out")
    assert result.ok, result.errors
    (video,) = sorted((tmp_path / "out").rglob("*.mp4"))
    import av

    with av.open(str(video)) as container:
        assert container.streams.video[0].frames == 22 and container.streams.audio[0].channels == 2


def test_the_first_frame_template_runs_on_tiny_weights(files, source_png, tmp_path):
    graph = _prepared("video_minimax_h3_i2v", files, source_png[0])
    result = Executor(device="cpu").run(graph, output_dir=tmp_path / "out")
    assert result.ok, result.errors
    assert len(sorted((tmp_path / "out").rglob("*.mp4"))) == 1


def test_the_reference_to_video_template_runs_on_tiny_weights(files, source_png, tmp_path):
    graph = _prepared("video_minimax_h3_r2v", files, source_png[0])
    result = Executor(device="cpu").run(graph, output_dir=tmp_path / "out")
    assert result.ok, result.errors
    assert len(sorted((tmp_path / "out").rglob("*.mp4"))) == 1


def test_the_multiframe_reference_template_says_in_one_line_what_it_lacks(files, source_png, tmp_path):
    graph = _prepared("video_minimax_h3_multiframe_reference", files, source_png[0], length=124)  # guides at 5 s
    result = Executor(device="cpu").run(graph, output_dir=tmp_path / "out")
    assert not result.ok
    (message,) = [m for m in result.errors.values() if "Add Guide" in m]
    assert "\n" not in message and "reference pictures" in message, message


@pytest.mark.parametrize("name", ["video_fastvideo_fasth3_t2v", "video_fastvideo_fasth3_i2v"])
def test_the_fasth3_templates_do_not_promise_block_sparse_pixels(name):
    graph, report = import_source(read_source(FOLDER / f"{name}.json"), default_registry())
    assert any("BlockSparseAttention (vsa) runs as dense PyTorch attention" in line for line in report.unproven)
    (params,) = [record.params for record in _flat(name).nodes.values()
                 if record.type == "models.block_sparse_attention"]
    assert params["selection"] == "vsa" and params["keep_percent"] == 10 and params["start_percent"] == 0.2


def _flat(name: str):
    return import_source(read_source(FOLDER / f"{name}.json"), default_registry(), flatten_subgraphs=True)[0]


def test_the_fasth3_image_to_video_template_runs_dense_on_tiny_weights(files, source_png, tmp_path):
    graph = _prepared("video_fastvideo_fasth3_i2v", files, source_png[0], unet="pruned")
    said: list[str] = []
    executor = Executor(device="cpu")
    executor.subscribe(lambda event: said.append(event.text) if isinstance(event, ev.NodeMessage) else None)
    result = executor.run(graph, output_dir=tmp_path / "out")
    assert result.ok, result.errors
    assert len(sorted((tmp_path / "out").rglob("*.mp4"))) == 1
    assert sum("block-sparse attention (vsa) is not available" in line for line in said) == 1, said
