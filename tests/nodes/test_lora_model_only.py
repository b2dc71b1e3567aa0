"""LoRA Loader Model Only: the UNet gets exactly Load LoRA's patch; text-encoder keys are left out quietly."""

from __future__ import annotations

import pytest
import torch
from test_nodes_io import _lora_file

from nodeflow.core import NodeError, RunContext


@pytest.mark.parametrize("style", ["peft", "kohya"])
def test_model_only_patches_the_unet_like_load_lora(tiny_sd, tmp_path, style):
    from nodes.models import LoadCheckpoint, LoadLora, LoadLoraModelOnly

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
