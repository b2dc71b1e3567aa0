"""Z-Image's Fun union ControlNet (Load Model Patch -> Model Patch ControlNet) gives
ZImageControlNetPipeline's pixels (tiny random weights, CPU), and its bad inputs are one line each."""

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


def tiny_control_net(transformer_config: dict, seed: int = 3, places: tuple[int, ...] = (0,)):
    """A ZImageControlNetModel shaped like the Fun union file for this transformer (control blocks at
    `places`, 16 control channels), every weight random: its zero-initialised projections would add nothing."""
    from diffusers import ZImageControlNetModel

    torch.manual_seed(seed)
    net = ZImageControlNetModel(control_layers_places=list(places), control_in_dim=16, dim=transformer_config["dim"],
                                n_refiner_layers=transformer_config["n_refiner_layers"],
                                n_heads=transformer_config["n_heads"], n_kv_heads=transformer_config["n_kv_heads"])
    with torch.no_grad():
        for parameter in net.parameters():
            parameter.copy_(torch.randn_like(parameter) * 0.3)
    return net.eval()


@pytest.fixture(scope="module")
def control_file(tiny_z_image, tmp_path_factory):
    import json

    config = json.loads((tiny_z_image / "transformer" / "config.json").read_text())
    net = tiny_control_net(config)
    path = tmp_path_factory.mktemp("model_patches") / "Z-Image-Turbo-Fun-Controlnet-Union.safetensors"
    save_file({k: v.contiguous() for k, v in net.state_dict().items()}, str(path))
    return path, net


def control_graph(checkpoint, patch, picture, *, strength: float = 0.75, cfg: float = 1.0, steps: int = 2,
                  seed: int = 4):
    g = new_graph()
    ids = {"ckpt": add(g, "models.load_checkpoint", checkpoint=str(checkpoint))}
    clip, vae = (ids["ckpt"], "clip"), (ids["ckpt"], "vae")
    ids["pos"] = add(g, "conditioning.text_encode", {"clip": clip}, text="a red circle")
    ids["neg"] = add(g, "conditioning.text_encode", {"clip": clip}, text="a green square")
    ids["patch"] = add(g, "models.load_model_patch", name=str(patch))
    ids["picture"] = add(g, "image.load", image=str(picture))
    ids["control"] = add(g, "conditioning.model_patch_controlnet",
                         {"model": (ids["ckpt"], "model"), "model_patch": (ids["patch"], "model_patch"),
                          "vae": vae, "image": (ids["picture"], "image")}, strength=strength)
    ids["latent"] = add(g, "latent.empty", width=32, height=32, batch_size=1)
    ids["sampler"] = add(g, "sampling.sampler",
                         {"model": (ids["control"], "model"), "positive": (ids["pos"], "conditioning"),
                          "negative": (ids["neg"], "conditioning"), "latent_image": (ids["latent"], "latent")},
                         seed=seed, steps=steps, cfg=cfg, sampler_name="euler", scheduler="normal")
    ids["decode"] = add(g, "vae.decode", {"latent": (ids["sampler"], "latent"), "vae": vae})
    ids["out"] = add(g, "image.preview", {"images": (ids["decode"], "image")})
    return g, ids


@pytest.fixture(scope="module")
def executor():
    return Executor(device="cpu")


def _theirs(tiny_z_image, net, picture, strength, cfg):
    from diffusers import ZImageControlNetPipeline
    from PIL import Image

    base = reference_pipe("ZImagePipeline", tiny_z_image)
    pipe = ZImageControlNetPipeline(scheduler=base.scheduler, vae=base.vae, text_encoder=base.text_encoder,
                                    tokenizer=base.tokenizer, transformer=base.transformer, controlnet=net)
    pipe.set_progress_bar_config(disable=True)
    try:
        out = pipe("a red circle", negative_prompt="a green square", control_image=Image.open(picture),
                   controlnet_conditioning_scale=strength, height=32, width=32, num_inference_steps=2,
                   guidance_scale=cfg - 1, generator=torch.Generator("cpu").manual_seed(4)).images
    finally:
        type(net).from_transformer(net, base.transformer)  # lent back as NodeFlow lends them: cleared
        for name in ("t_embedder", "all_x_embedder", "cap_embedder", "noise_refiner", "context_refiner",
                     "t_scale", "rope_embedder", "x_pad_token", "cap_pad_token"):
            setattr(net, name, None)
    return as_uint8(out)


@pytest.mark.parametrize("cfg", [1.0, 3.0])
def test_control_matches_z_image_controlnet_pipeline(tiny_z_image, control_file, source_png, executor, tmp_path,
                                                     cfg):
    patch, net = control_file
    picture, _ = source_png
    graph, ids = control_graph(tiny_z_image, patch, picture, cfg=cfg)
    ours = pixels(run(executor, graph, tmp_path), ids["decode"])
    theirs = _theirs(tiny_z_image, net, picture, 0.75, cfg)
    meaningful(theirs)
    if cfg == 1.0:
        np.testing.assert_array_equal(ours, theirs)
    else:  # neg + cfg * (pos - neg) against pos + (cfg - 1) * (pos - neg): see test_z_image_parity
        assert np.abs(ours.astype(int) - theirs.astype(int)).max() <= 1
    graph, ids = control_graph(tiny_z_image, patch, picture, strength=0.0, cfg=cfg)
    assert np.abs(pixels(run(executor, graph, tmp_path), ids["decode"]).astype(int) - ours.astype(int)).max() > 8


def test_control_blocks_feed_every_nth_layer(tiny_z_image, source_png, executor, tmp_path):
    """The file does not say which layers its blocks feed: as the published one (6 blocks, 30 layers: 0, 5,
    ... 25), block k feeds layer k x layers / blocks. A 4-layer transformer with 2 blocks: layers 0 and 2."""
    import shutil

    from diffusers import ZImageTransformer2DModel
    from tiny_flow import _randomize_zero_inits

    folder = tmp_path / "z_image4"
    shutil.copytree(tiny_z_image, folder)
    config = dict(ZImageTransformer2DModel.load_config(folder / "transformer"), n_layers=4)
    torch.manual_seed(7)
    transformer = ZImageTransformer2DModel.from_config(config)
    _randomize_zero_inits(transformer)
    shutil.rmtree(folder / "transformer")
    transformer.save_pretrained(folder / "transformer")
    net = tiny_control_net(config, places=(0, 2))
    patch = tmp_path / "patch.safetensors"
    save_file({k: v.contiguous() for k, v in net.state_dict().items()}, str(patch))
    graph, ids = control_graph(folder, patch, source_png[0])
    ours = pixels(run(executor, graph, tmp_path), ids["decode"])
    theirs = _theirs(folder, net, source_png[0], 0.75, 1.0)
    meaningful(theirs)
    np.testing.assert_array_equal(ours, theirs)


def test_bad_inputs_are_one_line_each(tiny_z_image, control_file, source_png, executor, tmp_path):
    from types import SimpleNamespace

    from nodeflow.core import RunContext
    from nodes.families import by_name
    from nodes.models.model_patch import LoadModelPatch, ModelPatchControlNet

    save_file({"x.weight": torch.zeros(2, 2)}, tmp_path / "other.safetensors")
    with pytest.raises(NodeError, match="not a model patch NodeFlow loads") as caught:
        LoadModelPatch().run(RunContext(), str(tmp_path / "other.safetensors"))
    assert caught.value.field == "name"
    patch, net = control_file
    flux = SimpleNamespace(family="flux", spec=by_name("flux"))
    with pytest.raises(NodeError, match="takes no Z-Image Fun ControlNet") as caught:
        ModelPatchControlNet().run(RunContext(), flux, net, None, None)
    assert caught.value.field == "model"
    z_image = SimpleNamespace(family="z-image", spec=by_name("z-image"))
    with pytest.raises(NodeError, match="not a model patch from Load Model Patch") as caught:
        ModelPatchControlNet().run(RunContext(), z_image, torch.nn.Linear(2, 2), None, None)
    assert caught.value.field == "model_patch"
    with pytest.raises(NodeError, match="inpainting") as caught:
        ModelPatchControlNet().run(RunContext(), z_image, net, None, None, 1.0, torch.ones(1, 32, 32))
    assert caught.value.field == "mask"
    graph, ids = control_graph(tiny_z_image, patch, source_png[0])
    graph.set_param(ids["latent"], "width", 64)
    result = executor.run(graph, output_dir=tmp_path / "out")
    assert not result.ok and "the control picture's latents are" in str(result.errors)


def test_fun_union_controlnet_template_runs_on_tiny_weights(tiny_z_image8, source_png, tmp_path):
    """image_z_image_turbo_fun_union_controlnet imports fully mapped and runs (comfyui convention) on tiny
    random files put in place of the ones it names."""
    import json
    import shutil

    from diffusers import ZImageTransformer2DModel
    from test_z_image_files import comfyui_z_image_state
    from transformers import Qwen3Model

    folder = tiny_z_image8
    unet = tmp_path / "z_image_turbo_bf16.safetensors"
    transformer = ZImageTransformer2DModel.from_pretrained(folder / "transformer")
    save_file({k: v.contiguous() for k, v in comfyui_z_image_state(transformer.state_dict()).items()}, str(unet))
    clip = tmp_path / "text_encoders" / "qwen_3_4b.safetensors"
    clip.parent.mkdir()
    encoder = Qwen3Model.from_pretrained(folder / "text_encoder")
    save_file({"model." + k: v.contiguous() for k, v in encoder.state_dict().items()}, str(clip))
    shutil.copytree(folder / "tokenizer", clip.parent / "tokenizer")
    net = tiny_control_net(json.loads((folder / "transformer" / "config.json").read_text()))
    patch = tmp_path / "model_patches" / "Z-Image-Turbo-Fun-Controlnet-Union.safetensors"
    patch.parent.mkdir()
    save_file({k: v.contiguous() for k, v in net.state_dict().items()}, str(patch))
    files = {"UNETLoader": ("unet", unet), "CLIPLoader": ("clip_name", clip), "VAELoader": ("vae", folder / "vae"),
             "ModelPatchLoader": ("name", patch), "LoadImage": ("image", source_png[0])}

    graph, comfy_class = import_template("image_z_image_turbo_fun_union_controlnet")
    place_files(graph, comfy_class, files)
    for node_id, record in graph.nodes.items():
        if record.type.startswith("sampling.") and "steps" in record.params:
            graph.set_param(node_id, "steps", 2)
    torch.manual_seed(0)
    result = Executor(device="cpu").run(graph, output_dir=tmp_path / "out")
    assert result.ok, result.errors
    assert sorted((tmp_path / "out").glob("z-image-turbo*.png"))


def test_only_the_model_patches_nodeflow_loads_map():
    """Z-Image's Fun ControlNets and Qwen-Image's DiffSynth ControlNets map; the other model patches ComfyUI
    loads from model_patches stay unmapped: Load Model Patch would refuse their files."""
    from nodeflow.interop.comfyui import convert
    from nodeflow.interop.comfyui.classes.model_patches import model_patch_values

    for loaded in ("Z-Image-Turbo-Fun-Controlnet-Union.safetensors",
                   "qwen_image_canny_diffsynth_controlnet.safetensors",
                   "sub/qwen_image_inpaint_diffsynth_controlnet.safetensors"):
        assert model_patch_values({"name": loaded}, convert.Notes()) == {"name": loaded}
    for other in ("Qwen-Image-2512-Fun-Controlnet-Union-2602.safetensors", "uso-flux1-projector-v1.safetensors"):
        with pytest.raises(convert.Unmappable, match="DiffSynth ControlNets only"):
            model_patch_values({"name": other}, convert.Notes())
