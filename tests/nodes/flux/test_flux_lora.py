"""Flux LoRAs in the formats people share land on the right layers (diffusers' converters) and change
the picture as their maths says: W + strength * alpha / rank * up @ down."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from flow_graphs import as_uint8, flux_txt2img, reference_pipe
from graphs import add, pixels, run
from safetensors.torch import save_file

from nodeflow.engine import Executor

RANK = 4


@pytest.fixture(scope="module")
def executor():
    return Executor(device="cpu")


def _pair(out_features: int, in_features: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(seed)
    down = torch.randn(RANK, in_features, generator=generator) * 0.3
    up = torch.randn(out_features, RANK, generator=generator) * 0.3
    return down, up


def _with_lora(checkpoint, lora_path, strength):
    graph, ids = flux_txt2img(checkpoint, seed=3)
    ids["lora"] = add(graph, "models.load_lora", {"model": (ids["ckpt"], "model"), "clip": (ids["ckpt"], "clip")},
                      lora=str(lora_path), strength_model=strength, strength_clip=1.0)
    graph.connect(ids["lora"], "model", ids["sampler"], "model")
    return graph, ids


def test_diffusers_lora_matches_the_merged_pipeline_and_off_is_the_plain_model(tiny_flux, executor, tmp_path):
    pipe = reference_pipe("FluxPipeline", tiny_flux)
    layer = pipe.transformer.transformer_blocks[0].attn.to_q
    down, up = _pair(layer.out_features, layer.in_features, 1)
    lora = tmp_path / "flux_lora.safetensors"
    save_file({"transformer.transformer_blocks.0.attn.to_q.lora_A.weight": down,
               "transformer.transformer_blocks.0.attn.to_q.lora_B.weight": up,
               "transformer.transformer_blocks.0.attn.to_q.alpha": torch.tensor(2.0)}, str(lora))
    graph, ids = _with_lora(tiny_flux, lora, 0.8)
    ours = pixels(run(executor, graph, tmp_path), ids["decode"])
    original = layer.weight.data.clone()
    try:
        layer.weight.data = (original.float() + 0.8 * (up @ down) * (2.0 / RANK)).to(original.dtype)
        theirs = as_uint8(pipe("a red circle", height=32, width=32, num_inference_steps=3, guidance_scale=3.5,
                               generator=torch.Generator("cpu").manual_seed(3)).images)
    finally:
        layer.weight.data = original
    np.testing.assert_array_equal(ours, theirs)
    graph, ids = _with_lora(tiny_flux, lora, 0.0)
    off = pixels(run(executor, graph, tmp_path), ids["decode"])
    graph, ids = flux_txt2img(tiny_flux, seed=3)
    plain = pixels(run(executor, graph, tmp_path), ids["decode"])
    np.testing.assert_array_equal(off, plain)
    assert not np.array_equal(ours, plain)


def test_kohya_lora_lands_where_its_diffusers_twin_does(tiny_flux, executor, tmp_path):
    pipe = reference_pipe("FluxPipeline", tiny_flux)
    layer = pipe.transformer.single_transformer_blocks[0].proj_out
    down, up = _pair(layer.out_features, layer.in_features, 2)
    kohya, named = tmp_path / "kohya.safetensors", tmp_path / "named.safetensors"
    save_file({"lora_unet_single_blocks_0_linear2.lora_down.weight": down,
               "lora_unet_single_blocks_0_linear2.lora_up.weight": up,
               "lora_unet_single_blocks_0_linear2.alpha": torch.tensor(float(RANK))}, str(kohya))
    save_file({"transformer.single_transformer_blocks.0.proj_out.lora_A.weight": down,
               "transformer.single_transformer_blocks.0.proj_out.lora_B.weight": up}, str(named))
    results = []
    for path in (kohya, named):
        graph, ids = _with_lora(tiny_flux, path, 1.0)
        results.append(pixels(run(executor, graph, tmp_path), ids["decode"]))
    np.testing.assert_allclose(results[0].astype(int), results[1].astype(int), atol=1)
    graph, ids = flux_txt2img(tiny_flux, seed=3)
    assert not np.array_equal(results[0], pixels(run(executor, graph, tmp_path), ids["decode"]))
