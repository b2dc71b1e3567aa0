"""Qwen-Image's InstantX inpainting ControlNet (Load ControlNet on its single file -> ControlNet Inpainting,
ComfyUI's ControlNetInpaintingAliMamaApply) gives QwenImageControlNetInpaintPipeline's pixels (tiny random
weights, CPU, cfg 1), and the official inpainting template imports fully mapped and runs on tiny files."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from flow_graphs import as_uint8, meaningful, reference_pipe
from graphs import add, new_graph, pixels, run
from official_templates import import_template, place_files
from safetensors.torch import save_file

from nodeflow.core import NodeError
from nodeflow.engine import Executor


def instantx_file(folder, path, extra: int = 4, seed: int = 5):
    """A tiny InstantX ControlNet for the transformer in `folder`, saved as ComfyUI's single file (diffusers'
    key names); every zero-initialised projection made random, or it would add nothing."""
    from diffusers import QwenImageControlNetModel, QwenImageTransformer2DModel
    from tiny_flow import _randomize_zero_inits

    config = QwenImageTransformer2DModel.load_config(folder / "transformer")
    torch.manual_seed(seed)
    net = QwenImageControlNetModel(
        in_channels=config["in_channels"], out_channels=config["out_channels"], num_layers=config["num_layers"],
        attention_head_dim=config["attention_head_dim"], num_attention_heads=config["num_attention_heads"],
        joint_attention_dim=config["joint_attention_dim"], axes_dims_rope=tuple(config["axes_dims_rope"]),
        extra_condition_channels=extra)
    _randomize_zero_inits(net)
    path.parent.mkdir(parents=True, exist_ok=True)
    save_file({k: v.contiguous() for k, v in net.state_dict().items()}, str(path))
    return net.eval()


def inpaint_graph(checkpoint, controlnet, picture, mask, *, strength: float = 0.8):
    g = new_graph()
    ids = {"ckpt": add(g, "models.load_checkpoint", checkpoint=str(checkpoint))}
    clip, vae = (ids["ckpt"], "clip"), (ids["ckpt"], "vae")
    ids["pos"] = add(g, "conditioning.text_encode", {"clip": clip}, text="a red circle")
    ids["neg"] = add(g, "conditioning.text_encode", {"clip": clip}, text="")
    ids["cn"] = add(g, "models.load_controlnet", control_net=str(controlnet))
    ids["picture"] = add(g, "image.load", image=str(picture))
    ids["mask_picture"] = add(g, "image.load", image=str(mask))
    ids["mask"] = add(g, "mask.from_image", {"image": (ids["mask_picture"], "image")})
    ids["apply"] = add(g, "conditioning.apply_inpaint_controlnet",
                       {"positive": (ids["pos"], "conditioning"), "negative": (ids["neg"], "conditioning"),
                        "control_net": (ids["cn"], "control_net"), "vae": vae, "image": (ids["picture"], "image"),
                        "mask": (ids["mask"], "mask")}, strength=strength)
    ids["latent"] = add(g, "latent.empty", width=32, height=32, batch_size=1)
    ids["sampler"] = add(g, "sampling.sampler",
                         {"model": (ids["ckpt"], "model"), "positive": (ids["apply"], "positive"),
                          "negative": (ids["apply"], "negative"), "latent_image": (ids["latent"], "latent")},
                         seed=4, steps=2, cfg=1.0, sampler_name="euler", scheduler="normal")
    ids["decode"] = add(g, "vae.decode", {"latent": (ids["sampler"], "latent"), "vae": vae})
    ids["out"] = add(g, "image.preview", {"images": (ids["decode"], "image")})
    return g, ids


def test_inpainting_controlnet_matches_the_pipeline(tiny_qwen_image8, source_png, tmp_path, monkeypatch):
    """cfg 1, 2 steps, strength 0.8. The pipeline draws the masked picture's latents from the posterior with the
    global generator; NodeFlow takes its mean, as ComfyUI does: the reference is made to take the mean too."""
    from diffusers import QwenImageControlNetInpaintPipeline
    from diffusers.models.autoencoders.vae import DiagonalGaussianDistribution
    from PIL import Image

    picture, mask = source_png
    path = tmp_path / "controlnet" / "Qwen-Image-InstantX-ControlNet-Inpainting.safetensors"
    net = instantx_file(tiny_qwen_image8, path)
    graph, ids = inpaint_graph(tiny_qwen_image8, path, picture, mask)
    executor = Executor(device="cpu")
    ours = pixels(run(executor, graph, tmp_path), ids["decode"])

    base = reference_pipe("QwenImagePipeline", tiny_qwen_image8)
    pipe = QwenImageControlNetInpaintPipeline(scheduler=base.scheduler, vae=base.vae, text_encoder=base.text_encoder,
                                              tokenizer=base.tokenizer, transformer=base.transformer, controlnet=net)
    pipe.set_progress_bar_config(disable=True)
    monkeypatch.setattr(DiagonalGaussianDistribution, "sample", lambda self, generator=None: self.mode())
    theirs = as_uint8(pipe("a red circle", control_image=Image.open(picture).convert("RGB"),
                           control_mask=Image.open(mask), controlnet_conditioning_scale=0.8, height=32, width=32,
                           num_inference_steps=2, true_cfg_scale=1.0,
                           generator=torch.Generator("cpu").manual_seed(4)).images)
    meaningful(theirs)
    np.testing.assert_array_equal(ours, theirs)
    graph.set_param(ids["apply"], "strength", 0.0)
    assert np.abs(pixels(run(executor, graph, tmp_path / "off"), ids["decode"]).astype(int)
                  - ours.astype(int)).max() > 8


def test_bad_inputs_are_one_line_each(tiny_qwen_image8, source_png, tmp_path):
    picture, mask = source_png
    executor = Executor(device="cpu")
    union = tmp_path / "controlnet" / "Qwen-Image-InstantX-ControlNet-Union.safetensors"
    instantx_file(tiny_qwen_image8, union, extra=0)
    graph, ids = inpaint_graph(tiny_qwen_image8, union, picture, mask)
    result = executor.run(graph, output_dir=tmp_path / "out")
    assert not result.ok and "takes no mask" in str(result.errors), result.errors
    inpainting = tmp_path / "controlnet" / "inpainting.safetensors"
    instantx_file(tiny_qwen_image8, inpainting)
    graph, ids = inpaint_graph(tiny_qwen_image8, inpainting, picture, mask)
    graph.set_param(ids["latent"], "width", 64)
    result = executor.run(graph, output_dir=tmp_path / "out")
    assert not result.ok and "the control picture's latents are" in str(result.errors), result.errors
    from nodeflow.core import RunContext
    from nodes.conditioning.controlnet import ApplyControlNet, LoadControlNet

    (loaded,) = LoadControlNet().run(RunContext(), str(inpainting))
    with pytest.raises(NodeError, match="ControlNet Inpainting") as caught:
        ApplyControlNet().run(RunContext(), None, None, loaded, torch.zeros(1, 32, 32, 3), 1.0, 0.0, 1.0, object())
    assert caught.value.field == "control_net"
    with pytest.raises(NodeError, match="connect the VAE") as caught:
        ApplyControlNet().run(RunContext(), None, None, loaded, torch.zeros(1, 32, 32, 3), 1.0, 0.0, 1.0)
    assert caught.value.field == "vae"


def test_instantx_inpainting_template_runs_on_tiny_weights(tiny_qwen_image8, tmp_path):
    """image_qwen_image_instantx_inpainting_controlnet (ControlNetInpaintingAliMamaApply, a mask grown and blurred
    with ImageBlur) imports fully mapped and runs on tiny files; its picture is scaled to 64 pixels at most."""
    from PIL import Image, ImageDraw
    from test_qwen_image_template import comfyui_files

    folder = tiny_qwen_image8
    controlnet = tmp_path / "controlnet" / "Qwen-Image-InstantX-ControlNet-Inpainting.safetensors"
    instantx_file(folder, controlnet)
    picture = tmp_path / "input.png"  # a painted mask: transparent where it repaints
    image = Image.new("RGBA", (64, 32), (40, 120, 200, 255))
    ImageDraw.Draw(image).rectangle((12, 8, 30, 24), fill=(0, 0, 0, 0))
    image.save(picture)
    files = {**comfyui_files(folder, tmp_path), "ControlNetLoader": ("control_net", controlnet),
             "LoadImage": ("image", picture)}

    graph, comfy_class = import_template("image_qwen_image_instantx_inpainting_controlnet")
    place_files(graph, comfy_class, files)
    for node_id, record in graph.nodes.items():
        kind = comfy_class.get(node_id)
        if kind == "ImageScaleToMaxDimension":
            graph.set_param(node_id, "largest_size", 64)
        elif record.type.startswith("sampling.") and "steps" in record.params:
            graph.set_param(node_id, "steps", 2)
    result = Executor(device="cpu").run(graph, output_dir=tmp_path / "out")
    assert result.ok, result.errors
    assert sorted((tmp_path / "out").glob("*.png"))
