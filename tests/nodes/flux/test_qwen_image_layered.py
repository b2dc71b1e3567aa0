"""Qwen-Image Layered: Empty Qwen Image Layered Latent -> Sampler (the picture by Reference Latent on
both prompts) -> Latent Cut -> Latent Cut To Batch -> VAE Decode gives QwenImageLayeredPipeline's layers
(tiny random weights, CPU, tolerance 0 on the 8-bit pixels; the pipeline's alpha is not carried: NodeFlow's
pictures are RGB). The pipeline's 640 / 1024 picture buckets are patched to the test picture's 32 px."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from flow_graphs import as_uint8, meaningful
from graphs import add, new_graph, pixels, run
from official_templates import import_template, place_files

from nodeflow.core import RunContext
from nodeflow.engine import Executor


@pytest.fixture(scope="module")
def tiny_layered(tmp_path_factory, torch_threads):
    from tiny_qwen_layered import build_qwen_image_layered

    return build_qwen_image_layered(tmp_path_factory.mktemp("tiny_qwen_layered"))


@pytest.fixture(scope="module")
def executor():
    return Executor(device="cpu")


def layered_graph(checkpoint, source, *, layers: int, cfg: float, steps: int, seed: int):
    g = new_graph()
    ckpt = add(g, "models.load_checkpoint", checkpoint=str(checkpoint))
    clip, vae = (ckpt, "clip"), (ckpt, "vae")
    picture = add(g, "image.load", image=str(source))
    encoded = add(g, "vae.encode", {"pixels": (picture, "image"), "vae": vae})
    conds = []
    for text in ("a red circle", "a green square"):
        enc = add(g, "conditioning.text_encode", {"clip": clip}, text=text)
        conds.append(add(g, "flux.reference_latent", {"conditioning": (enc, "conditioning"),
                                                      "latent": (encoded, "latent")}))
    empty = add(g, "qwen_image.empty_layered_latent", width=32, height=32, layers=layers, batch_size=1)
    sampler = add(g, "sampling.sampler", {"model": (ckpt, "model"), "positive": (conds[0], "conditioning"),
                                          "negative": (conds[1], "conditioning"), "latent_image": (empty, "latent")},
                  seed=seed, steps=steps, cfg=cfg, sampler_name="euler", scheduler="normal")
    cut = add(g, "latent.cut", {"samples": (sampler, "latent")}, dim="t", index=1, amount=16384)
    batch = add(g, "latent.cut_to_batch", {"samples": (cut, "latent")}, dim="t", slice_size=1)
    decode = add(g, "vae.decode", {"latent": (batch, "latent"), "vae": vae})
    add(g, "image.preview", {"images": (decode, "image")})
    return g, decode


@pytest.mark.parametrize(("layers", "cfg", "steps"), [(1, 1.0, 2), (2, 2.5, 2)])
def test_layers_match_qwen_image_layered_pipeline(tiny_layered, source_png, executor, tmp_path, monkeypatch,
                                                  layers, cfg, steps):
    from diffusers import QwenImageLayeredPipeline
    from diffusers.pipelines.qwenimage import pipeline_qwenimage_layered
    from PIL import Image
    from pipelines import settled  # the weights laid out as NodeFlow's loaders lay them out

    source, _ = source_png
    graph, decode = layered_graph(tiny_layered, source, layers=layers, cfg=cfg, steps=steps, seed=4)
    ours = pixels(run(executor, graph, tmp_path), decode)

    monkeypatch.setattr(pipeline_qwenimage_layered, "calculate_dimensions", lambda area, ratio: (32, 32))
    pipe = settled(QwenImageLayeredPipeline.from_pretrained(tiny_layered, processor=None, local_files_only=True))
    pipe.set_progress_bar_config(disable=True)
    out = pipe(image=Image.open(source).convert("RGBA"), prompt="a red circle", negative_prompt="a green square",
               true_cfg_scale=cfg, layers=layers, num_inference_steps=steps,
               generator=torch.Generator("cpu").manual_seed(4))
    theirs = as_uint8(out.images[0])[..., :3]
    assert ours.shape == (layers, 32, 32, 3)
    meaningful(theirs)
    np.testing.assert_array_equal(ours, theirs)


def test_the_empty_latent_holds_the_composite_and_each_layer():
    from nodes.qwen_image.layered import EmptyQwenImageLayeredLatent

    ctx = RunContext()
    (latent,) = EmptyQwenImageLayeredLatent().run(ctx, width=64, height=40, layers=2, batch_size=3)
    assert latent["samples"].shape == (3, 16, 3, 4, 8)  # 40 rounded down to 32: whole 2x2 cells of 8 px
    assert not latent["samples"].any()


def test_a_layered_model_needs_one_reference_picture(tiny_layered, executor, tmp_path):
    g = new_graph()
    ckpt = add(g, "models.load_checkpoint", checkpoint=str(tiny_layered))
    enc = add(g, "conditioning.text_encode", {"clip": (ckpt, "clip")}, text="a red circle")
    empty = add(g, "qwen_image.empty_layered_latent", width=32, height=32, layers=1, batch_size=1)
    sampler = add(g, "sampling.sampler", {"model": (ckpt, "model"), "positive": (enc, "conditioning"),
                                          "latent_image": (empty, "latent")},
                  seed=1, steps=2, cfg=1.0, sampler_name="euler", scheduler="normal")
    decode = add(g, "vae.decode", {"latent": (sampler, "latent"), "vae": (ckpt, "vae")})
    add(g, "image.preview", {"images": (decode, "image")})
    result = executor.run(g, output_dir=tmp_path)
    assert not result.ok
    assert "splits one picture" in str(result.errors)


@pytest.mark.parametrize("name", ["image_qwen_image_layered", "image_qwen_image_layered_control"])
def test_the_official_layered_templates_run_on_tiny_files(name, source_png, tmp_path_factory, tmp_path):
    """ComfyUI's Qwen-Image Layered templates import fully mapped and run (comfyui convention, 2 steps,
    32 px) on tiny files stored as the ones they name: the transformer, Qwen2.5-VL and the RGBA VAE."""
    import shutil

    from diffusers import AutoencoderKLQwenImage, QwenImageTransformer2DModel
    from safetensors.torch import save_file
    from tiny_qwen_layered import build_qwen_image_layered
    from transformers import Qwen2_5_VLForConditionalGeneration
    from transformers.core_model_loading import revert_weight_conversion

    folder = build_qwen_image_layered(tmp_path_factory.mktemp("tiny_layered_files"), real_heads=True, seed=1)
    unet = tmp_path / "qwen_image_layered_bf16.safetensors"
    transformer = QwenImageTransformer2DModel.from_pretrained(folder / "transformer")
    save_file({"model.diffusion_model." + k: v.contiguous() for k, v in transformer.state_dict().items()}, str(unet))
    clip = tmp_path / "text_encoders" / "qwen_2.5_vl_7b_fp8_scaled.safetensors"
    clip.parent.mkdir()
    encoder = Qwen2_5_VLForConditionalGeneration.from_pretrained(folder / "text_encoder")
    save_file({k: v.contiguous() for k, v in revert_weight_conversion(encoder, encoder.state_dict()).items()},
              str(clip))
    shutil.copytree(folder / "tokenizer", clip.parent / "tokenizer")
    vae = tmp_path / "qwen_image_layered_vae.safetensors"
    save_file({k: v.contiguous() for k, v in AutoencoderKLQwenImage.from_pretrained(folder / "vae").state_dict()
               .items()}, str(vae))
    files = {"UNETLoader": ("unet", unet), "CLIPLoader": ("clip_name", clip), "VAELoader": ("vae", vae),
             "LoadImage": ("image", source_png[0])}

    graph, comfy_class = import_template(name)
    place_files(graph, comfy_class, files)
    for node_id, record in graph.nodes.items():
        kind = comfy_class.get(node_id)
        if kind == "ImageScaleToMaxDimension":
            graph.set_param(node_id, "largest_size", 32)
        elif kind == "KSampler":
            assert record.params["convention"] == "comfyui"
            graph.set_param(node_id, "steps", 2)
    result = Executor(device="cpu").run(graph, output_dir=tmp_path / "out")
    assert result.ok, result.errors
    assert len(sorted((tmp_path / "out").glob("*.png"))) == 2  # the template's two layers
