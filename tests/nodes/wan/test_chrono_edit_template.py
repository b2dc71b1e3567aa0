"""ComfyUI's official image_chrono_edit_14B, image_to_video_wan (Wan 2.1 14B image-to-video) and
wan2.1_flf2v_720_f16 (Wan 2.1 first-last frame) templates import fully mapped and run, in the comfyui
convention, on tiny random weights stored as the files it names: a Wan 2.1 image-to-video transformer in
Wan's original key names (its image embedder and image keys / values included), the CLIP vision tower
(clip_vision_h's names), a UMT5 file with its tokenizer beside it, the VAE (as its folder) and a
LightX2V-style LoRA for the distilled branch. Its subgraph: Load CLIP Vision -> CLIP Vision Encode ->
Wan Image To Video (5 frames), Scale ROPE (scale_t 7), the sampler, VAE Decode, Image From Batch (the
fifth frame: the edited picture) -> Save Image. image_to_video_wan: the same CLIP vision path into Wan
Image To Video (33 frames, made 5), the video saved as an mp4; wan2.1_flf2v_720_f16: both pictures through
CLIP vision into Wan First-Last Frame To Video, on an FLF2V transformer file (its img_emb.emb_pos)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import torch
from safetensors.torch import save_file

from nodeflow.core import default_registry
from nodeflow.engine import Executor
from nodeflow.interop.comfyui import import_source
from nodeflow.interop.comfyui.source import read_source

templates = pytest.importorskip("comfyui_workflow_templates_json")
FOLDER = Path(templates.__file__).parent / "templates"

#: diffusers' names of Wan 2.1's image embedder -> Wan's original ones (diffusers' single-file converter,
#: inverted), renamed before the rest of the transformer's names.
_IMAGE_NAMES = (("condition_embedder.image_embedder.norm1.", "img_emb.proj.0."),
                ("condition_embedder.image_embedder.ff.net.0.proj.", "img_emb.proj.1."),
                ("condition_embedder.image_embedder.ff.net.2.", "img_emb.proj.3."),
                ("condition_embedder.image_embedder.norm2.", "img_emb.proj.4."),
                (".attn2.add_k_proj.", ".cross_attn.k_img."), (".attn2.add_v_proj.", ".cross_attn.v_img."),
                (".attn2.norm_added_k.", ".cross_attn.norm_k_img."),
                ("condition_embedder.image_embedder.pos_embed", "img_emb.emb_pos"))


def wan21_original_names(state: dict) -> dict:
    from tiny_wan import original_names

    renamed = {}
    for key, value in state.items():
        for old, new in _IMAGE_NAMES:
            key = key.replace(old, new)
        renamed[key] = value
    return original_names(renamed)


@pytest.fixture(scope="module")
def files(tmp_path_factory, torch_threads):
    """Tiny stand-ins by the loader that reads them."""
    from diffusers import WanTransformer3DModel
    from test_wan_templates import _lora
    from tiny_wan21 import build_wan21
    from transformers import UMT5EncoderModel

    folder = tmp_path_factory.mktemp("chrono_files")
    parts, tower = build_wan21(folder / "parts", seed=5)
    transformer = WanTransformer3DModel.from_pretrained(parts / "transformer")
    found = {"models.load_vae": parts / "vae", "vision.load_clip_vision": tower,
             "models.load_unet": folder / "chrono_edit_tiny.safetensors",
             "models.load_lora_model_only": folder / "chronoedit_distill_lora.safetensors",
             "models.load_clip": folder / "text_encoders" / "umt5_tiny.safetensors"}
    save_file(wan21_original_names(transformer.state_dict()), str(found["models.load_unet"]))
    flf_parts, _ = build_wan21(folder / "flf_parts", seed=6, first_last=True)
    found["flf2v"] = folder / "flf2v_tiny.safetensors"
    flf = WanTransformer3DModel.from_pretrained(flf_parts / "transformer")
    save_file(wan21_original_names(flf.state_dict()), str(found["flf2v"]))
    save_file(_lora(3), str(found["models.load_lora_model_only"]))
    found["models.load_clip"].parent.mkdir()
    encoder = UMT5EncoderModel.from_pretrained(parts / "text_encoder")
    tied = "encoder.embed_tokens.weight"
    save_file({k: v.clone().contiguous() for k, v in encoder.state_dict().items() if k != tied},
              str(found["models.load_clip"]))
    shutil.copytree(parts / "tokenizer", found["models.load_clip"].parent / "tokenizer")
    return found


_FILE_PARAMS = {"models.load_unet": "unet", "models.load_clip": "clip_name", "models.load_vae": "vae",
                "models.load_lora_model_only": "lora", "vision.load_clip_vision": "clip_name"}


def _imported(name: str, files: dict[str, Path], picture: Path, distilled: bool = False):
    """The template, its files and picture replaced by the tiny ones, its video 32x32 and 5 frames, 2
    steps; `distilled` turns ChronoEdit's switch to the LoRA branch (4 steps at cfg 1, made 2)."""
    graph, report = import_source(read_source(FOLDER / f"{name}.json"), default_registry(), flatten_subgraphs=True)
    assert report.fully_mapped, report.lines()
    for node_id, record in graph.nodes.items():
        if record.type in _FILE_PARAMS:
            name = record.params[_FILE_PARAMS[record.type]]
            stand_in = files["flf2v" if "flf2v" in name else record.type]
            graph.set_param(node_id, _FILE_PARAMS[record.type], str(stand_in))
        elif record.type == "image.load":
            graph.set_param(node_id, "image", str(picture))
        elif record.type.startswith("wan."):
            for size, value in (("width", 32), ("height", 32), ("length", 5)):
                graph.set_param(node_id, size, value)
        elif record.type == "sampling.sampler":
            graph.set_param(node_id, "steps", 2)
        elif record.type == "basic.int" and record.params["value"] in (20, 4):
            graph.set_param(node_id, "value", 2)
        elif record.type == "basic.boolean":
            graph.set_param(node_id, "value", distilled)
    return graph


@pytest.mark.parametrize("distilled", [False, True])
def test_the_chrono_edit_template_runs_on_tiny_weights(files, source_png, tmp_path, distilled):
    graph = _imported("image_chrono_edit_14B", files, source_png[0], distilled)
    result = Executor(device="cpu").run(graph, output_dir=tmp_path / "out")
    assert result.ok, result.errors
    rope = next(v for k, v in result.values.items() if graph.nodes[k].type == "models.scale_rope")
    assert rope["model"].rope_options == (1.0, 0.0, 1.0, 0.0, 7.0, 0.0)
    decoded = next(v["image"] for k, v in result.values.items() if graph.nodes[k].type == "vae.decode")
    edited = next(v["image"] for k, v in result.values.items() if graph.nodes[k].type == "image.from_batch")
    assert tuple(decoded.shape) == (5, 32, 32, 3)
    torch.testing.assert_close(edited, decoded[4:5], rtol=0, atol=0)
    assert len(sorted((tmp_path / "out").rglob("Chrono_Edit_14B*.png"))) == 1


def test_the_wan21_i2v_template_runs_on_tiny_weights(files, source_png, tmp_path):
    graph = _imported("image_to_video_wan", files, source_png[0])
    result = Executor(device="cpu").run(graph, output_dir=tmp_path / "out")
    assert result.ok, result.errors
    decoded = next(v["image"] for k, v in result.values.items() if graph.nodes[k].type == "vae.decode")
    assert tuple(decoded.shape) == (5, 32, 32, 3)
    assert len(sorted((tmp_path / "out").rglob("*.mp4"))) == 1


def test_the_wan21_flf2v_template_runs_on_tiny_weights(files, source_png, tmp_path):
    graph = _imported("wan2.1_flf2v_720_f16", files, source_png[0])
    result = Executor(device="cpu").run(graph, output_dir=tmp_path / "out")
    assert result.ok, result.errors
    decoded = next(v["image"] for k, v in result.values.items() if graph.nodes[k].type == "vae.decode")
    assert tuple(decoded.shape) == (5, 32, 32, 3)
    assert len(sorted((tmp_path / "out").rglob("*.mp4"))) == 1
