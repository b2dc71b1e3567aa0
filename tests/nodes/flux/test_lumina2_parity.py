"""Lumina 2 graphs give Lumina2Pipeline's pixels (tiny random weights, CPU), byte for byte: the
pipeline's system prompt before the positive prompt (Text Encode (Lumina 2)), the negative as written
(Text Encode), its guidance rescaled to the positive output's norm, and Lumina 2 Guidance's
cfg_normalization / cfg_trunc_ratio as the pipeline's arguments of those names."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
import torch
from flow_graphs import as_uint8, meaningful, reference_pipe
from graphs import add, new_graph, pixels, run

from nodeflow.engine import Executor

SIZE = 64


@pytest.fixture(scope="module")
def executor():
    return Executor(device="cpu")


def lumina_txt2img(checkpoint, *, cfg: float, seed: int = 5, steps: int = 3, system: str = "superior",
                   guidance: dict | None = None, size: int = SIZE):
    """Load Checkpoint -> Text Encode (Lumina 2) / Text Encode "" -> (Lumina 2 Guidance) -> Sampler -> Decode."""
    g = new_graph()
    ids = {"ckpt": add(g, "models.load_checkpoint", checkpoint=str(checkpoint))}
    clip = (ids["ckpt"], "clip")
    ids["pos"] = add(g, "lumina2.text_encode", {"clip": clip}, system_prompt=system, user_prompt="a red circle")
    ids["neg"] = add(g, "conditioning.text_encode", {"clip": clip}, text="")
    model = (ids["ckpt"], "model")
    if guidance is not None:
        ids["guidance"] = add(g, "lumina2.guidance", {"model": model}, **guidance)
        model = (ids["guidance"], "model")
    ids["latent"] = add(g, "latent.empty", width=size, height=size, batch_size=1)
    ids["sampler"] = add(g, "sampling.sampler", {"model": model, "positive": (ids["pos"], "conditioning"),
                                                 "negative": (ids["neg"], "conditioning"),
                                                 "latent_image": (ids["latent"], "latent")},
                         seed=seed, steps=steps, cfg=cfg, sampler_name="euler", scheduler="normal", denoise=1.0)
    ids["decode"] = add(g, "vae.decode", {"latent": (ids["sampler"], "latent"), "vae": (ids["ckpt"], "vae")})
    ids["out"] = add(g, "image.preview", {"images": (ids["decode"], "image")})
    return g, ids


def _theirs(folder, cfg: float, seed: int = 5, steps: int = 3, size: int = SIZE, **options):
    pipe = reference_pipe("Lumina2Pipeline", folder)
    return as_uint8(pipe("a red circle", height=size, width=size, num_inference_steps=steps, guidance_scale=cfg,
                         generator=torch.Generator("cpu").manual_seed(seed), **options).images)


@pytest.mark.parametrize("cfg", [1.0, 4.0])
def test_txt2img_matches_lumina2_pipeline(tiny_lumina2, executor, tmp_path, cfg):
    graph, ids = lumina_txt2img(tiny_lumina2, cfg=cfg)
    ours = pixels(run(executor, graph, tmp_path), ids["decode"])
    theirs = _theirs(tiny_lumina2, cfg)
    meaningful(theirs)
    np.testing.assert_array_equal(ours, theirs)


@pytest.mark.parametrize("options", [{"cfg_normalization": False, "cfg_trunc_ratio": 1.0},
                                     {"cfg_normalization": True, "cfg_trunc_ratio": 0.5}])
def test_lumina2_guidance_is_the_pipelines_arguments(tiny_lumina2, executor, tmp_path, options):
    graph, ids = lumina_txt2img(tiny_lumina2, cfg=4.0, steps=4, guidance=options)
    ours = pixels(run(executor, graph, tmp_path), ids["decode"])
    theirs = _theirs(tiny_lumina2, 4.0, steps=4, **options)
    np.testing.assert_array_equal(ours, theirs)
    default = _theirs(tiny_lumina2, 4.0, steps=4)
    assert not np.array_equal(theirs, default)  # the setting changed the pipeline's pixels, and ours with them


def test_the_pipelines_shift_rule_counts_latent_channels(tiny_lumina2, executor, tmp_path):
    """With dynamic shifting, Lumina2Pipeline's mu is calculate_shift of latents.shape[1]: the channels
    (16), not the picture's 36 tokens."""
    folder = tmp_path / "dynamic"
    shutil.copytree(tiny_lumina2, folder)
    config_path = folder / "scheduler" / "scheduler_config.json"
    config = json.loads(config_path.read_text())
    config.update(use_dynamic_shifting=True, base_shift=0.5, max_shift=1.15)
    config_path.write_text(json.dumps(config))
    graph, ids = lumina_txt2img(folder, cfg=1.0, size=96)
    ours = pixels(run(executor, graph, tmp_path / "out"), ids["decode"])
    np.testing.assert_array_equal(ours, _theirs(folder, 1.0, size=96))
    assert not np.array_equal(ours, _theirs(tiny_lumina2, 1.0, size=96))


def test_bad_inputs_are_one_line_naming_node_and_field(tiny_lumina2, executor, tmp_path):
    from nodeflow.core import NodeError, RunContext
    from nodes.lumina2.nodes import Lumina2Guidance, TextEncodeLumina2
    from nodes.values import Model

    sd = Model(unet=None, scheduler_config={}, vae_scale_factor=8, latent_channels=4, device="cpu", dtype=None)
    with pytest.raises(NodeError) as raised:
        Lumina2Guidance().run(RunContext(), model=sd)
    assert raised.value.field == "model" and "Lumina 2 Guidance is for Lumina 2 models" in str(raised.value)
    with pytest.raises(NodeError) as raised:
        TextEncodeLumina2().run(RunContext(), clip=None, system_prompt="best", user_prompt="a red circle")
    assert raised.value.field == "system_prompt" and "known: superior, alignment)" in str(raised.value)

    graph, ids = lumina_txt2img(tiny_lumina2, cfg=4.0, guidance={"cfg_normalization": False})
    graph.set_param(ids["sampler"], "convention", "comfyui")
    result = executor.run(graph, output_dir=tmp_path)
    message = result.errors[ids["sampler"]]
    assert not result.ok and "\n" not in message and "'model'" in message
    assert "followed in the diffusers convention" in message, message


def test_comfy_euler_over_the_pipeline_sigmas_matches_lumina2_pipeline(tiny_lumina2):
    """The comfyui convention's model call (timestep 1 - sigma, the output negated into a velocity,
    x0 = x - sigma * v) and its CFG on x0: Euler over the pipeline's own sigmas (shift 6, the one
    ComfyUI's Lumina 2 defaults to) agrees with Lumina2Pipeline without its norm rescale to float
    rounding (ComfyUI forms x0 and mixes there, the pipeline mixes velocities)."""
    from nodeflow.core import RunContext
    from nodes.conditioning._text_encode import encode_text
    from nodes.lumina2._adapter import SYSTEM_PROMPTS, with_system
    from nodes.models._checkpoint import load_checkpoint
    from nodes.sampling._comfy_sampling import sample
    from nodes.values import Conditioning, Guider, NoiseSource, SamplerChoice

    model, clip, _ = load_checkpoint(tiny_lumina2, "cpu", torch.float32)
    ctx = RunContext()
    positive = encode_text(ctx, clip, with_system(SYSTEM_PROMPTS["superior"], "a red circle"))
    negative = encode_text(ctx, clip, "")
    pipe = reference_pipe("Lumina2Pipeline", tiny_lumina2)
    theirs = pipe("a red circle", height=SIZE, width=SIZE, num_inference_steps=4, guidance_scale=4.0,
                  cfg_normalization=False, generator=torch.Generator("cpu").manual_seed(3),
                  output_type="latent").images
    guider = Guider(model, Conditioning([positive]), Conditioning([negative]), 4.0)
    latent = {"samples": torch.zeros(1, 16, SIZE // 8, SIZE // 8)}
    ours = sample(ctx, guider, SamplerChoice("euler"), pipe.scheduler.sigmas.clone(), NoiseSource(3), latent)
    assert theirs.abs().max() > 0.1
    torch.testing.assert_close(ours["samples"], theirs, atol=2e-5, rtol=1e-4)
