"""ComfyUI's official Wan 2.2 14B image-to-video templates (comfyui-workflow-templates-json) import fully
mapped and run, in the comfyui convention, on tiny random Wan 2.2 i2v weights stored as the files they
name: the high-noise and low-noise transformers in Wan's original key names, a UMT5 file with its
tokenizer beside it, LightX2V-style LoRAs (original names, lora_down / lora_up / alpha), the VAE (as its
folder: the tiny one is narrower than the shipped config). video_wan2_2_14B_i2v: Wan Image To Video and
a KSampler (Advanced) pair; templates-6-key-frames: five Wan First-Last Frame To Video runs joined."""

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


def _lora(seed: int) -> dict[str, torch.Tensor]:
    """A rank-4 LoRA on block 0's attention and feed-forward layers, as LightX2V's files name them."""
    generator = torch.Generator().manual_seed(seed)
    state = {}
    for layer, (out, inner) in {"self_attn.q": (128, 128), "self_attn.o": (128, 128), "cross_attn.k": (128, 128),
                                "ffn.0": (64, 128), "ffn.2": (128, 64)}.items():
        name = f"diffusion_model.blocks.0.{layer}"
        state[f"{name}.lora_down.weight"] = torch.randn(4, inner, generator=generator) * 0.1
        state[f"{name}.lora_up.weight"] = torch.randn(out, 4, generator=generator) * 0.1
        state[f"{name}.alpha"] = torch.tensor(4.0)
    return state


@pytest.fixture(scope="module")
def files(tmp_path_factory, torch_threads):
    """ComfyUI's file names -> tiny files (the models/ folders flattened into one)."""
    from diffusers import WanTransformer3DModel
    from tiny_wan import build_wan, original_names, wan_transformer
    from transformers import UMT5EncoderModel

    folder = tmp_path_factory.mktemp("wan_files")
    parts = build_wan(folder / "parts", seed=1, i2v=True, real_heads=True)
    names: dict[str, Path] = {"wan_2.1_vae.safetensors": parts / "vae"}
    torch.manual_seed(2)
    transformers = {"high": WanTransformer3DModel.from_pretrained(parts / "transformer"),
                    "low": wan_transformer(36, real_heads=True)}
    for seed, (noise, transformer) in enumerate(transformers.items(), start=1):
        unet = folder / f"wan2.2_i2v_{noise}_noise_14B_fp8_scaled.safetensors"
        save_file(original_names(transformer.state_dict()), str(unet))
        names[unet.name] = unet
        lora = folder / f"wan2.2_i2v_lightx2v_4steps_lora_v1_{noise}_noise.safetensors"
        save_file(_lora(seed), str(lora))
        names[lora.name] = lora
    clip = folder / "text_encoders" / "umt5_xxl_fp8_e4m3fn_scaled.safetensors"
    clip.parent.mkdir()
    encoder = UMT5EncoderModel.from_pretrained(parts / "text_encoder")
    tied = "encoder.embed_tokens.weight"  # UMT5's token table, kept once as shared.weight
    save_file({k: v.clone().contiguous() for k, v in encoder.state_dict().items() if k != tied}, str(clip))
    shutil.copytree(parts / "tokenizer", clip.parent / "tokenizer")
    names[clip.name] = clip
    return names


@pytest.fixture(scope="module")
def pictures(tmp_path_factory):
    """Six different 40x48 pictures (the templates' inputs are resized to the video's 32x32)."""
    import numpy as np
    from PIL import Image

    folder = tmp_path_factory.mktemp("wan_pictures")
    paths = []
    for i in range(6):
        y, x = np.mgrid[0:40, 0:48]
        array = np.stack([(x * 5 + 40 * i) % 256, y * 6, ((x + y) * 3 + 90 * i) % 256], axis=-1).astype("uint8")
        paths.append(folder / f"key{i}.png")
        Image.fromarray(array).save(paths[-1])
    return paths


_FILE_PARAMS = {"models.load_unet": "unet", "models.load_clip": "clip_name", "models.load_vae": "vae",
                "models.load_lora_model_only": "lora"}


def _imported(name: str, files: dict[str, Path], pictures: list[Path]):
    """The template imported (subgraphs flattened), every file it names replaced by its tiny stand-in,
    its pictures by `pictures` in order, and its videos made 32x32."""
    graph, report = import_source(read_source(FOLDER / f"{name}.json"), default_registry(), flatten_subgraphs=True)
    assert report.fully_mapped, report.lines()
    loads = iter(pictures)
    for node_id, record in graph.nodes.items():
        param = _FILE_PARAMS.get(record.type)
        if param is not None:
            graph.set_param(node_id, param, str(files[record.params[param]]))
        elif record.type == "image.load":
            graph.set_param(node_id, "image", str(next(loads)))
        elif record.type.startswith("wan."):
            graph.set_param(node_id, "width", 32)
            graph.set_param(node_id, "height", 32)
    return graph


def _ran(graph, tmp_path: Path):
    result = Executor(device="cpu").run(graph, output_dir=tmp_path / "out")
    assert result.ok, result.errors
    return result


def test_the_i2v_template_runs_on_tiny_weights(files, pictures, tmp_path):
    """The template's own choice (no LightX2V LoRA: 20 steps at cfg 3.5, handing over at step 10) at 2
    steps handing over at 1; 81 frames made 5 (its length is seconds x 16 + 1)."""
    graph = _imported("video_wan2_2_14B_i2v", files, pictures)
    small = {20: 2, 10: 1, 5.0: 0.25}  # steps, the handover step, seconds
    for node_id, record in graph.nodes.items():
        if record.type in ("basic.int", "basic.float") and record.params.get("value") in small:
            graph.set_param(node_id, "value", small[record.params["value"]])
    result = _ran(graph, tmp_path)
    decoded = [v["image"] for k, v in result.values.items() if graph.nodes[k].type == "vae.decode"]
    assert [tuple(d.shape) for d in decoded] == [(5, 32, 32, 3)]
    assert sorted((tmp_path / "out").rglob("*.mp4"))


def test_the_key_frames_template_runs_on_tiny_weights(files, pictures, tmp_path):
    """Six key frames, five first-last frame videos of 25 frames (made 5) with the LightX2V LoRAs on both
    models (4 steps, handing over at 2), joined into one video."""
    graph = _imported("templates-6-key-frames", files, pictures)
    for node_id, record in graph.nodes.items():
        if record.type == "wan.first_last_frame_to_video":
            graph.set_param(node_id, "length", 5)
    result = _ran(graph, tmp_path)
    batched = [v["image"] for k, v in result.values.items() if graph.nodes[k].type == "image.batch_many"]
    assert [tuple(b.shape) for b in batched] == [(25, 32, 32, 3)]
    assert sorted((tmp_path / "out").rglob("*.mp4"))


def test_the_files_load_and_the_lora_patches_what_it_names(files):
    """The high-noise file (Wan's original names) loads to the folder's weights; its LightX2V-style LoRA
    (original names, alpha 4 at rank 4) adds up x down to each layer it names, converted by diffusers'
    Wan LoRA loader (which folds the alphas into the weights itself)."""
    from diffusers import WanTransformer3DModel

    from nodeflow.core import RunContext
    from nodes.models.checkpoint import LoadLoraModelOnly
    from nodes.models.loaders import LoadUNet

    model = LoadUNet().run(RunContext(), unet=str(files["wan2.2_i2v_high_noise_14B_fp8_scaled.safetensors"]))[0]
    parts = files["wan_2.1_vae.safetensors"].parent
    own = WanTransformer3DModel.from_pretrained(parts / "transformer").state_dict()
    assert model.unet.config.in_channels == 36
    for key, value in model.unet.state_dict().items():
        torch.testing.assert_close(value, own[key], rtol=0, atol=0)
    patched = LoadLoraModelOnly().run(RunContext(), model=model, strength_model=0.5,
                                      lora=str(files["wan2.2_i2v_lightx2v_4steps_lora_v1_high_noise.safetensors"]))[0]
    lora = _lora(1)
    for layer, target in (("self_attn.q", "attn1.to_q"), ("cross_attn.k", "attn2.to_k"), ("ffn.2", "ffn.net.2")):
        name = f"diffusion_model.blocks.0.{layer}"
        delta = lora[f"{name}.lora_up.weight"] @ lora[f"{name}.lora_down.weight"] * 0.5
        torch.testing.assert_close(patched.unet.state_dict()[f"blocks.0.{target}.weight"],
                                   own[f"blocks.0.{target}.weight"] + delta, rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(model.unet.state_dict()["blocks.0.attn1.to_q.weight"], own["blocks.0.attn1.to_q.weight"],
                               rtol=0, atol=0)  # the loaded model itself is left as it was
