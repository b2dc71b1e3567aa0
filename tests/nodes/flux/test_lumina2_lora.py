"""A Lumina 2 LoRA in diffusers' names lands where Lumina2Pipeline's merged weights say (W + strength *
alpha / rank * up @ down), the family's loader (`Family.lora_loader`, Lumina2LoraLoaderMixin) reading it."""

from __future__ import annotations

import numpy as np
import torch
from flow_graphs import as_uint8, reference_pipe
from graphs import add, pixels, run
from safetensors.torch import save_file
from test_lumina2_parity import SIZE, lumina_txt2img

from nodeflow.engine import Executor

RANK = 4


def test_a_diffusers_lora_matches_the_merged_pipeline(tiny_lumina2, tmp_path):
    pipe = reference_pipe("Lumina2Pipeline", tiny_lumina2)
    layer = pipe.transformer.layers[0].feed_forward.linear_1
    generator = torch.Generator().manual_seed(1)
    down = torch.randn(RANK, layer.in_features, generator=generator) * 0.3
    up = torch.randn(layer.out_features, RANK, generator=generator) * 0.3
    lora = tmp_path / "lumina2_lora.safetensors"
    save_file({"transformer.layers.0.feed_forward.linear_1.lora_A.weight": down,
               "transformer.layers.0.feed_forward.linear_1.lora_B.weight": up,
               "transformer.layers.0.feed_forward.linear_1.alpha": torch.tensor(2.0)}, str(lora))
    graph, ids = lumina_txt2img(tiny_lumina2, cfg=4.0)
    ids["lora"] = add(graph, "models.load_lora", {"model": (ids["ckpt"], "model"), "clip": (ids["ckpt"], "clip")},
                      lora=str(lora), strength_model=0.8, strength_clip=1.0)
    graph.connect(ids["lora"], "model", ids["sampler"], "model")
    ours = pixels(run(Executor(device="cpu"), graph, tmp_path), ids["decode"])
    original = layer.weight.data.clone()
    try:
        layer.weight.data = (original.float() + 0.8 * (up @ down) * (2.0 / RANK)).to(original.dtype)
        theirs = as_uint8(pipe("a red circle", height=SIZE, width=SIZE, num_inference_steps=3, guidance_scale=4.0,
                               generator=torch.Generator("cpu").manual_seed(5)).images)
    finally:
        layer.weight.data = original
    np.testing.assert_array_equal(ours, theirs)
    graph, ids = lumina_txt2img(tiny_lumina2, cfg=4.0)
    assert not np.array_equal(ours, pixels(run(Executor(device="cpu"), graph, tmp_path), ids["decode"]))
