"""ComfyUI's official Wan 2.2 14B image-to-video templates (comfyui-workflow-templates-json) import fully
mapped and run, in the comfyui convention, on tiny random Wan 2.2 i2v weights stored as the files they
name: the high-noise and low-noise transformers in Wan's original key names, a UMT5 file with its
tokenizer beside it, LightX2V-style LoRAs (original names, lora_down / lora_up / alpha), the VAE (as its
folder: the tiny one is narrower than the shipped config). video_wan2_2_14B_i2v: Wan Image To Video and
a KSampler (Advanced) pair; templates-6-key-frames: five Wan First-Last Frame To Video runs joined;
video_wan2_2_14B_t2v and text_to_video_wan (Empty Hunyuan Latent Video); video_wan2_2_14B_flf2v;
video_wan2_2_5B_ti2v (Wan 2.2 5B on the Wan 2.2 VAE: Wan 2.2 Image To Video Latent)."""

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
    """Tiny stand-ins by kind: "vae" (Wan 2.1's) and "vae22" (Wan 2.2's), "clip", "lora high" / "lora low",
    and "i2v high" / "i2v low" / "t2v high" / "t2v low" / "ti2v" transformer files (36, 16 and 48 input
    channels)."""
    from diffusers import WanTransformer3DModel
    from tiny_wan import build_wan, original_names, wan_transformer
    from transformers import UMT5EncoderModel

    folder = tmp_path_factory.mktemp("wan_files")
    parts = build_wan(folder / "parts", seed=1, i2v=True, real_heads=True)
    five_b = build_wan(folder / "five_b", seed=3, ti2v=True, real_heads=True)
    found: dict[str, Path] = {"vae": parts / "vae", "vae22": five_b / "vae"}
    torch.manual_seed(2)
    transformers = {"i2v high": WanTransformer3DModel.from_pretrained(parts / "transformer"),
                    "i2v low": wan_transformer(36, real_heads=True), "t2v high": wan_transformer(16, real_heads=True),
                    "t2v low": wan_transformer(16, real_heads=True),
                    "ti2v": WanTransformer3DModel.from_pretrained(five_b / "transformer")}
    for kind, transformer in transformers.items():
        found[kind] = folder / f"{kind.replace(' ', '_')}.safetensors"
        save_file(original_names(transformer.state_dict()), str(found[kind]))
    for seed, noise in enumerate(("high", "low"), start=1):
        found[f"lora {noise}"] = folder / f"lora_{noise}.safetensors"
        save_file(_lora(seed), str(found[f"lora {noise}"]))
    found["clip"] = folder / "text_encoders" / "umt5_xxl_fp8_e4m3fn_scaled.safetensors"
    found["clip"].parent.mkdir()
    encoder = UMT5EncoderModel.from_pretrained(parts / "text_encoder")
    tied = "encoder.embed_tokens.weight"  # UMT5's token table, kept once as shared.weight
    save_file({k: v.clone().contiguous() for k, v in encoder.state_dict().items() if k != tied}, str(found["clip"]))
    shutil.copytree(parts / "tokenizer", found["clip"].parent / "tokenizer")
    return found


def _stand_in(files: dict[str, Path], node_type: str, name: str) -> Path:
    """The tiny file standing for the one a template names (by its kind, and the words in its name)."""
    noise = "low" if "low_noise" in name else "high"
    if node_type == "models.load_unet":
        return files["ti2v"] if "ti2v" in name else files[f"{'i2v' if 'i2v' in name else 't2v'} {noise}"]
    if node_type == "models.load_lora_model_only":
        return files[f"lora {noise}"]
    if node_type == "models.load_clip":
        return files["clip"]
    return files["vae22" if "2.2" in name else "vae"]


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
    its pictures by `pictures` in order, its videos made 32x32 and 5 frames, its samplers 2 steps (a
    split one handing over at 1)."""
    graph, report = import_source(read_source(FOLDER / f"{name}.json"), default_registry(), flatten_subgraphs=True)
    assert report.fully_mapped, report.lines()
    loads = iter(pictures)
    for node_id, record in graph.nodes.items():
        param = _FILE_PARAMS.get(record.type)
        if param is not None:
            graph.set_param(node_id, param, str(_stand_in(files, record.type, record.params[param])))
        elif record.type == "image.load":
            graph.set_param(node_id, "image", str(next(loads)))
        elif record.type.startswith("wan.") or record.type == "latent.empty_video":
            side = 64 if record.type == "wan.image_to_video_latent" else 32  # Wan 2.2's VAE: 16x, 2x2 cells
            for size, value in (("width", side), ("height", side), ("length", 5)):
                graph.set_param(node_id, size, value)
        elif record.type.startswith("sampling.sampler"):
            graph.set_param(node_id, "steps", 2)
            for split in ("start_at_step", "end_at_step"):
                if 0 < record.params.get(split, 0) < 10000:
                    graph.set_param(node_id, split, 1)
    return graph


def _ran(graph, tmp_path: Path):
    result = Executor(device="cpu").run(graph, output_dir=tmp_path / "out")
    assert result.ok, result.errors
    return result


def _primitives(graph, values: dict[float, float]) -> None:
    """Set the template's number nodes holding these values (steps, handover steps, seconds)."""
    for node_id, record in graph.nodes.items():
        if record.type in ("basic.int", "basic.float") and record.params.get("value") in values:
            graph.set_param(node_id, "value", values[record.params["value"]])


def _decoded(graph, result) -> list[tuple[int, ...]]:
    return [tuple(v["image"].shape) for k, v in result.values.items() if graph.nodes[k].type == "vae.decode"]


@pytest.mark.parametrize("lightx2v", [False, True])
def test_the_i2v_template_runs_on_tiny_weights(files, pictures, tmp_path, lightx2v):
    """The template's own choice (no LightX2V LoRA: 20 steps at cfg 3.5, handing over at step 10) at 2
    steps handing over at 1, and its switch turned on (the LightX2V LoRAs on both models: 4 steps at cfg 1,
    handing over at 2); 81 frames made 5 (its length is seconds x 16 + 1)."""
    graph = _imported("video_wan2_2_14B_i2v", files, pictures)
    _primitives(graph, {20: 2, 10: 1, 5.0: 0.25})
    if lightx2v:
        switch = next(k for k, r in graph.nodes.items() if r.type == "basic.boolean")
        graph.set_param(switch, "value", True)
    result = _ran(graph, tmp_path)
    patched = [k for k in result.executed if graph.nodes[k].type == "models.load_lora_model_only"]
    assert len(patched) == (2 if lightx2v else 0)
    assert _decoded(graph, result) == [(5, 32, 32, 3)]
    assert sorted((tmp_path / "out").rglob("*.mp4"))


def test_the_t2v_template_runs_on_tiny_weights(files, pictures, tmp_path):
    """Wan 2.2 14B text-to-video: Empty Hunyuan Latent Video and the high/low-noise pair."""
    graph = _imported("video_wan2_2_14B_t2v", files, pictures)
    _primitives(graph, {20: 2, 10: 1, 5.0: 0.25})
    result = _ran(graph, tmp_path)
    assert _decoded(graph, result) == [(5, 32, 32, 3)]


def test_the_flf2v_template_runs_on_tiny_weights(files, pictures, tmp_path):
    """Wan 2.2 14B first-last frame: the branch the template leaves on (20 steps at cfg 4, made 2); its
    bypassed LightX2V branch, Save Video included, stays unrun as in ComfyUI."""
    graph = _imported("video_wan2_2_14B_flf2v", files, pictures)
    result = _ran(graph, tmp_path)
    assert _decoded(graph, result) == [(5, 32, 32, 3)]
    assert len(sorted((tmp_path / "out").rglob("*.mp4"))) == 1


def test_the_wan21_t2v_template_runs_on_tiny_weights(files, pictures, tmp_path):
    """Wan 2.1 text-to-video (one transformer, KSampler with uni_pc)."""
    graph = _imported("text_to_video_wan", files, pictures)
    result = _ran(graph, tmp_path)
    assert _decoded(graph, result) == [(5, 32, 32, 3)]


@pytest.mark.parametrize("start", [False, True])
def test_the_5b_ti2v_template_runs_on_tiny_weights(files, pictures, tmp_path, start):
    """Wan 2.2 5B: Wan 2.2 Image To Video Latent from text alone (the template bypasses its Load Image,
    which then feeds nothing) and, with the Load Image turned on, from a start picture (its latent frame
    comes out near as it went in: the template's uni_pc mixes its steps' outputs, so not exactly)."""
    graph = _imported("video_wan2_2_5B_ti2v", files, pictures)
    if start:
        graph.set_mode(next(k for k, r in graph.nodes.items() if r.type == "image.load"), "normal")
    result = _ran(graph, tmp_path)
    assert _decoded(graph, result) == [(5, 64, 64, 3)]
    latent = next(v["latent"] for k, v in result.values.items() if graph.nodes[k].type == "wan.image_to_video_latent")
    made = next(v["latent"] for k, v in result.values.items() if graph.nodes[k].type == "sampling.sampler")
    assert ("noise_mask" in latent) is start
    if start:
        torch.testing.assert_close(made["samples"][:, :, :1], latent["samples"][:, :, :1], rtol=0, atol=1e-2)


def test_the_key_frames_template_runs_on_tiny_weights(files, pictures, tmp_path):
    """Six key frames, five first-last frame videos of 25 frames (made 5) with the LightX2V LoRAs on both
    models (4 steps handing over at 2, made 2 and 1), joined into one video."""
    graph = _imported("templates-6-key-frames", files, pictures)
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

    model = LoadUNet().run(RunContext(), unet=str(files["i2v high"]))[0]
    parts = files["vae"].parent
    own = WanTransformer3DModel.from_pretrained(parts / "transformer").state_dict()
    assert model.unet.config.in_channels == 36
    for key, value in model.unet.state_dict().items():
        torch.testing.assert_close(value, own[key], rtol=0, atol=0)
    patched = LoadLoraModelOnly().run(RunContext(), model=model, strength_model=0.5,
                                      lora=str(files["lora high"]))[0]
    lora = _lora(1)
    for layer, target in (("self_attn.q", "attn1.to_q"), ("cross_attn.k", "attn2.to_k"), ("ffn.2", "ffn.net.2")):
        name = f"diffusion_model.blocks.0.{layer}"
        delta = lora[f"{name}.lora_up.weight"] @ lora[f"{name}.lora_down.weight"] * 0.5
        torch.testing.assert_close(patched.unet.state_dict()[f"blocks.0.{target}.weight"],
                                   own[f"blocks.0.{target}.weight"] + delta, rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(model.unet.state_dict()["blocks.0.attn1.to_q.weight"], own["blocks.0.attn1.to_q.weight"],
                               rtol=0, atol=0)  # the loaded model itself is left as it was
