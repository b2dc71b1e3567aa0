"""LoRA Loader Model Only: the UNet gets exactly Load LoRA's patch; text-encoder keys are left out quietly."""

from __future__ import annotations

import pytest
import torch
from test_nodes_io import _lora_file

from nodeflow.core import NodeError, RunContext


@pytest.mark.parametrize("style", ["peft", "kohya"])
def test_model_only_patches_the_unet_like_load_lora(tiny_sd, tmp_path, style):
    from nodes.models.checkpoint import LoadCheckpoint, LoadLora, LoadLoraModelOnly

    messages = []
    ctx = RunContext(on_message=lambda level, text: messages.append((level, text)))
    model, clip, _ = LoadCheckpoint().run(ctx, checkpoint=str(tiny_sd))
    path, unet_mod, te_mod, _ = _lora_file(tmp_path, style)
    (only,) = LoadLoraModelOnly().run(ctx, model=model, lora=str(path), strength_model=0.7)
    both, _ = LoadLora().run(RunContext(), model=model, clip=clip, lora=str(path), strength_model=0.7,
                             strength_clip=1.0)
    torch.testing.assert_close(only.unet.get_submodule(unet_mod).weight, both.unet.get_submodule(unet_mod).weight,
                               rtol=0, atol=0)
    assert not torch.equal(only.unet.get_submodule(unet_mod).weight, model.unet.get_submodule(unet_mod).weight)
    assert only.clip is model.clip  # the text encoder is not touched
    assert not [m for m in messages if "could not be placed" in m[1]]
    assert LoadLoraModelOnly().run(ctx, model=model, lora=str(path), strength_model=0.0)[0] is model
    with pytest.raises(NodeError, match="LoRA not found"):
        LoadLoraModelOnly().run(ctx, model=model, lora="nowhere.safetensors", strength_model=1.0)


@pytest.mark.parametrize("style", ["peft", "kohya"])
def test_the_memory_plan_adds_a_loras_patched_copies_to_the_model_they_patch(tiny_sd, tmp_path, style):
    """The plan reads the patched layers' sizes from the LoRA's header: what apply_lora copies."""
    from graphs import add, txt2img

    from nodeflow.engine.memory_plan import make_memory_plan
    from nodeflow.engine.plan import make_plan
    from nodes.models.checkpoint import LoadCheckpoint, LoadLora

    path, unet_mod, te_mod, _ = _lora_file(tmp_path, style)
    model, clip, _ = LoadCheckpoint().run(RunContext(), checkpoint=str(tiny_sd))
    patched, patched_clip = LoadLora().run(RunContext(), model=model, clip=clip, lora=str(path),
                                           strength_model=1.0, strength_clip=1.0)
    copies = patched.unet.get_submodule(unet_mod).weight.numel()
    text_copies = patched_clip.text_encoder.get_submodule(te_mod).weight.numel()

    graph, ids = txt2img(tiny_sd, prompt="a red circle", seed=1, steps=2, sampler="euler", save=False)
    lora = add(graph, "models.load_lora", {"model": (ids["ckpt"], "model"), "clip": (ids["ckpt"], "clip")},
               lora=str(path))
    graph.connect(lora, "model", ids["sampler"], "model")
    for encode in (ids["pos"], ids["neg"]):
        graph.connect(lora, "clip", encode, "clip")
    plan = {n.node_id: dict(n.components) for n in make_memory_plan(graph, make_plan(graph).order, (), "cpu",
                                                                     8 * 10**9).nodes}
    assert set(plan[ids["sampler"]]) == {f"unet (node {ids['ckpt']})", f"lora_unet (node {lora})"}
    assert plan[ids["sampler"]][f"lora_unet (node {lora})"] == copies * 4
    assert plan[ids["pos"]][f"lora_text_encoders (node {lora})"] == text_copies * 4
    graph.set_param(lora, "strength_model", 0.0)
    plan = {n.node_id: dict(n.components) for n in make_memory_plan(graph, make_plan(graph).order, (), "cpu",
                                                                     8 * 10**9).nodes}
    assert set(plan[ids["sampler"]]) == {f"unet (node {ids['ckpt']})"}
