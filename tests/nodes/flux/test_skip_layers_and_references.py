"""Skip Layer Guidance (SD3) and the reference-picture layouts of Edit Model Reference Method (Flux).

SLG in the diffusers convention gives StableDiffusion3Pipeline's pixels with skip_guidance_layers;
in the comfyui convention it applies within ComfyUI's sigma span, cfg 1 included. The reference
layouts are ComfyUI's reference_latents_method rules, with one picture FluxKontextPipeline's.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from flow_graphs import as_uint8, flux_txt2img, meaningful, reference_pipe
from graphs import add, pixels, run

from nodeflow.core import NodeError, RunContext
from nodeflow.engine import Executor
from nodes.flux._adapter import reference_positions


@pytest.fixture(scope="module")
def executor():
    return Executor(device="cpu")


def _with_slg(graph, ids, **params):
    slg = add(graph, "sd3.skip_layer_guidance", {"model": (ids["ckpt"], "model")}, **params)
    graph.connect(slg, "model", ids["sampler"], "model")
    return slg


def test_skip_layer_guidance_matches_sd3_pipeline(tiny_sd3, executor, tmp_path):
    graph, ids = flux_txt2img(tiny_sd3, guidance=None, negative="", cfg=5.0, steps=10, seed=5)
    plain = pixels(run(executor, graph, tmp_path), ids["decode"])
    _with_slg(graph, ids, layers="1", scale=2.8, start_percent=0.01, end_percent=0.5)
    ours = pixels(run(executor, graph, tmp_path), ids["decode"])
    pipe = reference_pipe("StableDiffusion3Pipeline", tiny_sd3)
    theirs = as_uint8(pipe("a red circle", height=32, width=32, num_inference_steps=10, guidance_scale=5.0,
                           skip_guidance_layers=[1], skip_layer_guidance_scale=2.8, skip_layer_guidance_start=0.01,
                           skip_layer_guidance_stop=0.5, generator=torch.Generator("cpu").manual_seed(5)).images)
    meaningful(theirs)
    np.testing.assert_array_equal(ours, theirs)
    assert not np.array_equal(ours, plain)


def test_comfyui_convention_skips_layers_within_the_sigma_span(tiny_sd3):
    import dataclasses

    from nodes.conditioning._text_encode import encode_text
    from nodes.models._checkpoint import load_checkpoint
    from nodes.sampling._comfy_denoiser import Denoiser
    from nodes.sampling._comfy_sampling import sigma_table
    from nodes.sampling._sigma_schedules import schedule
    from nodes.values import Conditioning, Guider, SkipLayers

    model, clip, _ = load_checkpoint(tiny_sd3, "cpu", torch.float32)
    model = dataclasses.replace(model, skip_layers=SkipLayers((1,), 3.0, 0.2, 0.6))
    table = sigma_table(model)
    entry = encode_text(RunContext(), clip, "a red circle")
    denoiser = Denoiser(Guider(model, Conditioning([entry]), None, 1.0), table, (1, 16, 4, 4))
    calls = []
    skipped = denoiser.call.skipped
    denoiser.call.skipped = lambda x, t: calls.append(float(t)) or skipped(x, t)
    sigmas = schedule(table, "simple", 10)
    x = torch.randn(1, 16, 4, 4, generator=torch.Generator().manual_seed(0))
    for sigma in sigmas[:-1]:
        denoiser(x, sigma)
    high, low = table.percent_to_sigma(0.2), table.percent_to_sigma(0.6)
    expected = [float(s) * 1000 for s in sigmas[:-1] if low <= float(s) <= high]
    assert calls == pytest.approx(expected) and 0 < len(calls) < len(sigmas) - 1


def test_skip_layer_guidance_refuses_other_families_and_missing_layers(tiny_sd3, tiny_flux, executor, tmp_path):
    graph, ids = flux_txt2img(tiny_flux, steps=1)
    _with_slg(graph, ids, layers="0")
    result = executor.run(graph, output_dir=tmp_path)
    assert not result.ok and "Skip Layer Guidance skips blocks of an SD3" in str(result.errors)
    graph, ids = flux_txt2img(tiny_sd3, guidance=None, negative="", cfg=5.0, steps=1)
    slg = _with_slg(graph, ids, layers="1, 7")
    result = executor.run(graph, output_dir=tmp_path)
    assert not result.ok and "layer 7 does not exist" in result.errors[slg]


def test_reference_layouts_follow_comfyuis_methods():
    shapes = [(4, 6), (6, 4), (2, 2)]
    # offset: the second sits below the first (so far wider than tall), the third to the right of both.
    assert reference_positions("offset", (8, 8), shapes) == [(1, 0, 0), (1, 2, 0), (1, 0, 3)]
    assert reference_positions("index", (8, 8), shapes) == [(1, 0, 0), (2, 0, 0), (3, 0, 0)]
    assert reference_positions("uxo", (8, 8), shapes) == [(0, 4, 4), (0, 6, 7), (0, 9, 9)]
    assert reference_positions("offset", (8, 8), shapes[:1]) == [(1, 0, 0)]  # FluxKontextPipeline's layout


def test_the_method_node_sets_the_layout_of_a_flux_prompt(tiny_flux):
    from nodes.conditioning._text_encode import encode_text
    from nodes.flux._adapter import Denoise
    from nodes.flux.conditioning import ReferenceMethod
    from nodes.models._checkpoint import load_checkpoint
    from nodes.values import Conditioning

    model, clip, _ = load_checkpoint(tiny_flux, "cpu", torch.float32)
    refs = (torch.zeros(1, 16, 4, 6), torch.zeros(1, 16, 6, 4))
    entry = encode_text(RunContext(), clip, "a red circle").with_(references=refs)
    (cond,) = ReferenceMethod().run(RunContext(), Conditioning([entry]), "uxo/uno")
    assert cond.entries[0].reference_method == "uxo"
    ids = Denoise(model, cond.entries[0], 1, (8, 8)).img_ids
    first, second = ids[16:22], ids[22:28]  # 16 picture tokens, then 2x3 and 3x2 reference tokens
    assert first[0].tolist() == [0, 4, 4] and second[0].tolist() == [0, 6, 7]
    default = Denoise(model, entry, 1, (8, 8)).img_ids
    assert default[16].tolist() == [1, 0, 0] and default[22].tolist() == [1, 2, 0]


def test_a_method_the_family_lacks_is_refused_naming_the_field(tiny_flux):
    from nodes.conditioning._text_encode import encode_text
    from nodes.models._checkpoint import load_checkpoint
    from nodes.sampling._flow_call import FlowCall
    from nodes.values import Conditioning

    model, clip, _ = load_checkpoint(tiny_flux, "cpu", torch.float32)
    entry = encode_text(RunContext(), clip, "x").with_(references=(torch.zeros(1, 16, 4, 4),),
                                                       reference_method="index_timestep_zero")
    with pytest.raises(NodeError, match="does not place reference pictures by 'index_timestep_zero'") as caught:
        FlowCall(model, Conditioning([entry]), None, 1.0, 1, (4, 4))
    assert caught.value.field == "positive"
