"""Qwen-Image graphs give QwenImagePipeline's pixels (tiny random weights, CPU): txt2img without
guidance and with the pipeline's true CFG and its norm rescale."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from flow_graphs import as_uint8, flux_txt2img, meaningful, reference_pipe
from graphs import pixels, run

from nodeflow.engine import Executor


@pytest.fixture(scope="module")
def executor():
    return Executor(device="cpu")


@pytest.mark.parametrize("cfg", [1.0, 4.0])
def test_txt2img_matches_qwen_image_pipeline(tiny_qwen_image, executor, tmp_path, cfg):
    graph, ids = flux_txt2img(tiny_qwen_image, guidance=None, negative="a green square" if cfg > 1 else None,
                              cfg=cfg, steps=3, seed=5)
    ours = pixels(run(executor, graph, tmp_path), ids["decode"])
    pipe = reference_pipe("QwenImagePipeline", tiny_qwen_image)
    theirs = as_uint8(pipe("a red circle", negative_prompt="a green square" if cfg > 1 else None, height=32,
                           width=32, num_inference_steps=3, true_cfg_scale=cfg,
                           generator=torch.Generator("cpu").manual_seed(5)).images)
    meaningful(theirs)
    np.testing.assert_array_equal(ours, theirs)


def test_a_lone_comfyui_transformer_file_samples_like_the_folder(tiny_qwen_image8, executor, tmp_path):
    """UNETLoader on ComfyUI's Qwen-Image file (diffusers' names under model.diffusion_model.): the
    family is recognised, its sizes read off the weights, the rest from the shipped configs."""
    from diffusers import QwenImageTransformer2DModel
    from graphs import add
    from safetensors.torch import save_file

    transformer = QwenImageTransformer2DModel.from_pretrained(tiny_qwen_image8 / "transformer")
    path = tmp_path / "qwen_image_bf16.safetensors"
    save_file({"model.diffusion_model." + k: v.contiguous() for k, v in transformer.state_dict().items()}, str(path))
    graph, ids = flux_txt2img(tiny_qwen_image8, guidance=None, steps=3, seed=5)
    expected = pixels(run(executor, graph, tmp_path / "folder"), ids["decode"])
    meaningful(expected)
    unet = add(graph, "models.load_unet", unet=str(path))
    graph.connect(unet, "model", ids["sampler"], "model")

    np.testing.assert_array_equal(pixels(run(executor, graph, tmp_path / "file"), ids["decode"]), expected)


def test_a_lone_vae_file_of_the_video_vae_decodes_like_the_folder(tiny_qwen_image8, executor, tmp_path):
    """VAELoader (no family, as ComfyUI's) on Qwen-Image's VAE as one file: recognised as a video
    VAE by its keys, built from the shipped config."""
    from diffusers import AutoencoderKLQwenImage
    from graphs import add
    from safetensors.torch import save_file

    vae = AutoencoderKLQwenImage.from_pretrained(tiny_qwen_image8 / "vae")
    path = tmp_path / "qwen_image_vae.safetensors"
    save_file({k: v.contiguous() for k, v in vae.state_dict().items()}, str(path))
    graph, ids = flux_txt2img(tiny_qwen_image8, guidance=None, steps=2, seed=5)
    expected = pixels(run(executor, graph, tmp_path / "folder"), ids["decode"])
    loader = add(graph, "models.load_vae", vae=str(path))
    graph.connect(loader, "vae", ids["decode"], "vae")

    np.testing.assert_array_equal(pixels(run(executor, graph, tmp_path / "file"), ids["decode"]), expected)


def test_img2img_matches_qwen_image_img2img_pipeline(tiny_qwen_image, source_png, executor, tmp_path):
    """Load Image -> VAE Encode (the video VAE, latents normalised per channel) -> Sampler at
    denoise 0.6: QwenImageImg2ImgPipeline's strength, its posterior sample from the same generator."""
    from diffusers import QwenImageImg2ImgPipeline
    from PIL import Image

    source, _ = source_png
    graph, ids = flux_txt2img(tiny_qwen_image, guidance=None, image=source, denoise=0.6, steps=5, seed=2,
                              prompt="a blue circle")
    ours = pixels(run(executor, graph, tmp_path), ids["decode"])
    pipe = QwenImageImg2ImgPipeline.from_pipe(reference_pipe("QwenImagePipeline", tiny_qwen_image))
    theirs = as_uint8(pipe("a blue circle", image=Image.open(source), strength=0.6, height=32, width=32,
                           num_inference_steps=5, generator=torch.Generator("cpu").manual_seed(2)).images)
    meaningful(theirs)
    np.testing.assert_array_equal(ours, theirs)


def _edit_pixels(executor, tmp_path, checkpoint, source, encode_type: str, image_input: str) -> np.ndarray:
    """NodeFlow's pixels for "make it blue" with `source` given to the edit text encoder `encode_type`."""
    from graphs import add, new_graph

    g = new_graph()
    ckpt = add(g, "models.load_checkpoint", checkpoint=str(checkpoint))
    picture = add(g, "image.load", image=str(source))
    text = add(g, encode_type, {"clip": (ckpt, "clip"), "vae": (ckpt, "vae"), image_input: (picture, "image")},
               prompt="make it blue")
    latent = add(g, "latent.empty", width=32, height=32, batch_size=1)
    sampler = add(g, "sampling.sampler", {"model": (ckpt, "model"), "positive": (text, "conditioning"),
                                          "latent_image": (latent, "latent")},
                  seed=3, steps=2, cfg=1.0, sampler_name="euler", scheduler="normal")
    decode = add(g, "vae.decode", {"latent": (sampler, "latent"), "vae": (ckpt, "vae")})
    add(g, "image.preview", {"images": (decode, "image")})
    return pixels(run(executor, g, tmp_path), decode)


def _edit_reference(pipeline_class, checkpoint, image) -> np.ndarray:
    """The diffusers edit pipeline's pixels for the same request, its processor as NodeFlow's."""
    from nodes.qwen_image._edit import picture_processor_for

    base = reference_pipe("QwenImagePipeline", checkpoint)
    pipe = pipeline_class.from_pipe(base, processor=picture_processor_for(base.tokenizer))
    theirs = as_uint8(pipe(image=image, prompt="make it blue", height=32, width=32, num_inference_steps=2,
                           true_cfg_scale=1.0, generator=torch.Generator("cpu").manual_seed(3)).images)
    meaningful(theirs)
    return theirs


@pytest.mark.slow  # about a minute on 2 cores: the reference picture is encoded at 1024x1024
def test_edit_plus_matches_qwen_image_edit_plus_pipeline(tiny_qwen_image8, source_png, executor, tmp_path):
    """Text Encode (Qwen-Image Edit Plus) with one picture: Qwen2.5-VL sees it at about 384x384, the
    transformer refers to its latents at about 1024x1024, as QwenImageEditPlusPipeline does."""
    from diffusers import QwenImageEditPlusPipeline
    from PIL import Image

    source, _ = source_png
    ours = _edit_pixels(executor, tmp_path, tiny_qwen_image8, source, "qwen_image.text_encode_edit_plus", "image1")
    theirs = _edit_reference(QwenImageEditPlusPipeline, tiny_qwen_image8, [Image.open(source).convert("RGB")])
    np.testing.assert_array_equal(ours, theirs)


@pytest.mark.slow  # about a minute on 2 cores: the picture is seen and encoded at 1024x1024
def test_edit_matches_qwen_image_edit_pipeline(tiny_qwen_image8, source_png, executor, tmp_path):
    """Text Encode (Qwen-Image Edit): the first Edit pipeline shows its one picture at about 1024x1024
    to both Qwen2.5-VL and the transformer."""
    from diffusers import QwenImageEditPipeline
    from PIL import Image

    source, _ = source_png
    ours = _edit_pixels(executor, tmp_path, tiny_qwen_image8, source, "qwen_image.text_encode_edit", "image")
    theirs = _edit_reference(QwenImageEditPipeline, tiny_qwen_image8, Image.open(source).convert("RGB"))
    np.testing.assert_array_equal(ours, theirs)


def test_inpaint_matches_qwen_image_inpaint_pipeline(tiny_qwen_image, source_png, executor, tmp_path):
    """VAE Encode -> Set Latent Noise Mask -> Sampler at denoise 0.8: QwenImageInpaintPipeline's strength,
    its posterior sample and noise from the same generator, the unmasked part reset to the picture
    noised to each next level."""
    from diffusers import QwenImageInpaintPipeline
    from graphs import add
    from PIL import Image

    source, mask = source_png
    graph, ids = flux_txt2img(tiny_qwen_image, guidance=None, image=source, denoise=0.8, steps=4, seed=6,
                              prompt="a blue circle")
    picture = add(graph, "image.load", image=str(mask))
    drawn = add(graph, "mask.from_image", {"image": (picture, "image")}, channel="red")
    masked = add(graph, "latent.set_noise_mask", {"latent": (ids["latent"], "latent"), "mask": (drawn, "mask")})
    graph.connect(masked, "latent", ids["sampler"], "latent_image")
    ours = pixels(run(executor, graph, tmp_path), ids["decode"])
    pipe = QwenImageInpaintPipeline.from_pipe(reference_pipe("QwenImagePipeline", tiny_qwen_image))
    theirs = as_uint8(pipe("a blue circle", image=Image.open(source), mask_image=Image.open(mask), strength=0.8,
                           height=32, width=32, num_inference_steps=4,
                           generator=torch.Generator("cpu").manual_seed(6)).images)
    meaningful(theirs)
    np.testing.assert_array_equal(ours, theirs)
