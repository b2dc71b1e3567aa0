"""ControlNet: Load + Apply ControlNet give diffusers' StableDiffusion(XL)ControlNetPipeline's pixels."""

from __future__ import annotations

import numpy as np
import pytest
from graphs import add, pixels, run, txt2img
from PIL import Image
from pipelines import as_uint8, generator, settled
from tiny_controlnet import build_controlnet

from nodeflow.core import NodeError, RunContext
from nodeflow.engine import Executor


@pytest.fixture(scope="module")
def control_png(tmp_path_factory):
    folder = tmp_path_factory.mktemp("control")
    y, x = np.mgrid[0:32, 0:32]
    edges = (((x - 16) ** 2 + (y - 16) ** 2) // 40 % 2 * 255).astype("uint8")
    Image.fromarray(np.stack([edges] * 3, axis=-1)).save(folder / "edges.png")
    return folder / "edges.png"


@pytest.fixture(scope="module")
def tiny_cn(tiny_sd, tmp_path_factory):
    return build_controlnet(tiny_sd, tmp_path_factory.mktemp("cn"))


@pytest.fixture(scope="module")
def tiny_cn_xl(tiny_xl, tmp_path_factory):
    return build_controlnet(tiny_xl, tmp_path_factory.mktemp("cn_xl"))


def _graph(checkpoint, controlnet, image, *, strength, sampler, steps=4, both=True, start=0.0):
    graph, ids = txt2img(checkpoint, prompt="a red circle", seed=5, steps=steps, sampler=sampler, save=False)
    net = add(graph, "models.load_controlnet", control_net=str(controlnet))
    picture = add(graph, "image.load", image=str(image))
    links = {"positive": (ids["pos"], "conditioning"), "control_net": (net, "control_net"),
             "image": (picture, "image")}
    if both:
        links["negative"] = (ids["neg"], "conditioning")
    apply = add(graph, "conditioning.apply_controlnet", links, strength=strength, start=start, end=1.0)
    ids["apply"] = apply
    graph.connect(apply, "positive", ids["sampler"], "positive")
    if both:
        graph.connect(apply, "negative", ids["sampler"], "negative")
    return graph, ids


def test_controlnet_matches_the_sd_pipeline(tiny_sd, tiny_cn, control_png, tmp_path):
    from diffusers import ControlNetModel, StableDiffusionControlNetPipeline

    graph, ids = _graph(tiny_sd, tiny_cn, control_png, strength=0.8, sampler="ddim")
    ours = pixels(run(Executor(device="cpu"), graph, tmp_path), ids["decode"])
    net = ControlNetModel.from_pretrained(tiny_cn, local_files_only=True)
    pipe = settled(StableDiffusionControlNetPipeline.from_pretrained(
        tiny_sd, controlnet=net, safety_checker=None, requires_safety_checker=False, local_files_only=True))
    pipe.set_progress_bar_config(disable=True)
    out = pipe("a red circle", negative_prompt="", image=Image.open(control_png), height=32, width=32,
               num_inference_steps=4, guidance_scale=7.0, generator=generator(5), controlnet_conditioning_scale=0.8)
    theirs = as_uint8(out.images)
    np.testing.assert_array_equal(ours, theirs)
    graph, ids = txt2img(tiny_sd, prompt="a red circle", seed=5, steps=4, sampler="ddim", save=False)
    plain = pixels(run(Executor(device="cpu"), graph, tmp_path / "plain"), ids["decode"])
    assert np.abs(plain.astype(int) - ours).mean() > 2  # the ControlNet does change the picture


def test_controlnet_matches_the_sdxl_pipeline(tiny_xl, tiny_cn_xl, control_png, tmp_path):
    from diffusers import ControlNetModel, StableDiffusionXLControlNetPipeline

    graph, ids = _graph(tiny_xl, tiny_cn_xl, control_png, strength=1.0, sampler="euler", steps=3)
    ours = pixels(run(Executor(device="cpu"), graph, tmp_path), ids["decode"])
    net = ControlNetModel.from_pretrained(tiny_cn_xl, local_files_only=True)
    pipe = settled(StableDiffusionXLControlNetPipeline.from_pretrained(tiny_xl, controlnet=net, local_files_only=True))
    pipe.set_progress_bar_config(disable=True)
    out = pipe("a red circle", negative_prompt="", image=Image.open(control_png), height=32, width=32,
               num_inference_steps=3, guidance_scale=7.0, generator=generator(5))
    np.testing.assert_array_equal(ours, as_uint8(out.images))


def test_positive_only_control_and_time_range(tiny_sd, tiny_cn, control_png, tmp_path):
    """Steering only the positive prompt differs from steering both; a range that never holds is no control."""
    from nodes.conditioning.controlnet import ApplyControlNet

    def render(name, **kwargs):
        graph, ids = _graph(tiny_sd, tiny_cn, control_png, strength=0.8, sampler="ddim", **kwargs)
        return pixels(run(Executor(device="cpu"), graph, tmp_path / name), ids["decode"]).astype(int)

    both = render("both")
    positive_only = render("positive", both=False)
    assert np.abs(both - positive_only).mean() > 0.5
    graph, ids = txt2img(tiny_sd, prompt="a red circle", seed=5, steps=4, sampler="ddim", save=False)
    plain = pixels(run(Executor(device="cpu"), graph, tmp_path / "plain"), ids["decode"]).astype(int)
    # DDIM's last timestep is 1: start 0.9995 means t <= 0.4995, which no step reaches.
    np.testing.assert_array_equal(render("never", start=0.9995), plain)
    assert np.abs(render("late", start=0.5) - plain).mean() > 0.5
    with pytest.raises(NodeError, match="after end"):
        ApplyControlNet().run(RunContext(), None, None, None, None, 1.0, 0.8, 0.2)


def test_single_file_controlnet_loads_with_the_shipped_unet_config(tiny_sd, tmp_path, monkeypatch):
    """A lone .safetensors ControlNet gets its config from the architecture's UNet config."""
    import torch
    from ldm_format import write_configs
    from safetensors.torch import load_file, save_file

    import nodes.models._checkpoint as ck
    from nodes.conditioning.controlnet import LoadControlNet

    folder = build_controlnet(tiny_sd, tmp_path / "cn", channels=(16, 32, 96, 256))  # diffusers' default
    (weights,) = folder.glob("*.safetensors")
    save_file(load_file(str(weights)), str(tmp_path / "cn.safetensors"))
    configs = write_configs(tiny_sd, tmp_path / "configs" / "sd15")
    monkeypatch.setattr(ck, "configs_dir", lambda: configs.parent)
    (from_file,) = LoadControlNet().run(RunContext(), str(tmp_path / "cn.safetensors"))
    (from_folder,) = LoadControlNet().run(RunContext(), str(folder))
    expected = from_folder.state_dict()
    for key, value in from_file.state_dict().items():
        torch.testing.assert_close(value, expected[key], rtol=0, atol=0)
    with pytest.raises(NodeError, match="not a ControlNet"):
        save_file({"x": torch.zeros(1)}, str(tmp_path / "junk.safetensors"))
        LoadControlNet().run(RunContext(), str(tmp_path / "junk.safetensors"))


def test_the_memory_plan_puts_the_controlnet_on_the_sampler_not_the_text_encoders(tiny_sd, tiny_cn, control_png):
    """A ControlNet rides on the conditioning it was applied to: the sampler needs it in memory;
    the text encoder that made that conditioning stays out of the sampler's needs."""
    from nodeflow.engine.memory_plan import make_memory_plan
    from nodeflow.engine.plan import make_plan
    from nodes.models._weights import weight_count

    graph, ids = _graph(tiny_sd, tiny_cn, control_png, strength=1.0, sampler="euler")
    plan = {n.node_id: n for n in make_memory_plan(graph, make_plan(graph).order, (), "cpu", 8 * 10**9).nodes}
    net = graph.link_into(ids["apply"], "control_net").src
    sampler = dict(plan[ids["sampler"]].components)
    assert set(sampler) == {f"unet (node {ids['ckpt']})", f"controlnet (node {net})"}
    assert sampler[f"controlnet (node {net})"] == weight_count(tiny_cn) * 4 > 0  # float32 on the CPU
    assert set(dict(plan[ids["pos"]].components)) == {f"text_encoder (node {ids['ckpt']})"}
