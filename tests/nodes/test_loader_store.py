"""Every loader loads through the model store with its real size and where the store says.

A memory manager can keep its budget only if a load says beforehand how many bytes are coming (it
makes room first instead of going over and evicting afterwards) and puts the weights where the
manager asks (CPU RAM on CUDA/MPS, moved to the device part by part). Load Checkpoint always did;
these tests hold the VAE, UNet, CLIP and ControlNet loaders to the same promise.
"""

from __future__ import annotations

import shutil
from typing import Any

import pytest
from tiny_controlnet import build_controlnet

from nodeflow.core import RunContext
from nodeflow.core.context import ModelStore
from nodeflow.engine.memory import MemoryManager, _modules_with_paths
from nodeflow.engine.sizes import module_bytes, module_tensors


class Spy(ModelStore):
    """A store that hands out `place` and records the room each load asks for."""

    def __init__(self, place: str = "cpu") -> None:
        super().__init__()
        self.place = place
        self.asked: list[int] = []

    def load_place(self, device: str) -> str:
        return self.place

    def get(self, key: tuple, load: Any, size_hint: int = 0) -> Any:
        self.asked.append(size_hint)
        return super().get(key, load, size_hint)


def _modules(value: Any) -> list[Any]:
    return [m for _, m in _modules_with_paths(value)]


@pytest.fixture(scope="module")
def loaders(tiny_sd, tmp_path_factory):
    """(node class, its run arguments) for each loader of a part kept on its own."""
    from nodes.conditioning.controlnet import LoadControlNet
    from nodes.models.loaders import LoadCLIP, LoadUNet, LoadVAE

    folder = tmp_path_factory.mktemp("parts")
    clip = folder / "clip"
    shutil.copytree(tiny_sd / "text_encoder", clip)
    shutil.copytree(tiny_sd / "tokenizer", clip / "tokenizer")
    net = build_controlnet(tiny_sd, tmp_path_factory.mktemp("cn"))
    return {
        "vae": (LoadVAE, {"vae": str(tiny_sd / "vae"), "family": "sd"}),
        "unet": (LoadUNet, {"unet": str(tiny_sd / "unet")}),
        "clip": (LoadCLIP, {"clip_name": str(clip), "family": "sd"}),
        "controlnet": (LoadControlNet, {"control_net": str(net)}),
    }


@pytest.mark.parametrize("part", ["vae", "unet", "clip", "controlnet"])
def test_a_loader_asks_for_the_room_its_weights_take_before_loading(loaders, part):
    cls, args = loaders[part]
    store = Spy()
    (value,) = cls().run(RunContext(models=store), **args)
    loaded = sum(module_bytes(m) for m in _modules(value))
    assert len(store.asked) == 1
    assert store.asked[0] == pytest.approx(loaded, rel=0.01)  # what the memory plan counts, too


@pytest.mark.parametrize("part", ["vae", "unet", "clip", "controlnet"])
def test_a_loader_puts_the_weights_where_the_store_says(loaders, part):
    """On CUDA the memory manager says CPU RAM; "meta" stands in for a place other than the device."""
    cls, args = loaders[part]
    (value,) = cls().run(RunContext(models=Spy("meta")), **args)
    tensors = [t for m in _modules(value) for t in module_tensors(m)]
    assert tensors and {t.device.type for t in tensors} == {"meta"}


class Watching(MemoryManager):
    """A memory manager that notes, as each load returns, what the device would then hold."""

    def __init__(self) -> None:
        super().__init__()
        self.at_load: list[int] = []

    def get(self, key: tuple, load: Any, size_hint: int = 0) -> Any:
        def watched() -> Any:
            value = load()
            self.at_load.append(self.device_bytes() + sum(module_bytes(m) for m in _modules(value)))
            return value

        return super().get(key, watched, size_hint)


def test_under_a_budget_the_checkpoint_is_freed_before_a_vae_loads_not_after(tiny_sd, loaders):
    """With room for the checkpoint's UNet or the VAE but not both, the UNet goes first, so the
    budget holds at every moment of the load."""
    from nodes.models.checkpoint import LoadCheckpoint

    cls, args = loaders["vae"]
    manager = Watching()
    manager.attach("cpu")
    ctx = RunContext(models=manager)
    manager.begin_node({})
    model, _clip, own_vae = LoadCheckpoint().run(ctx, str(tiny_sd))
    manager.end_node()
    vae_bytes = sum(module_bytes(m) for m in _modules(own_vae))
    assert module_bytes(model.unet) > vae_bytes // 2
    manager.set_budget(manager.device_bytes() + vae_bytes // 2)
    manager.begin_node({})
    (vae,) = cls().run(ctx, **args)
    manager.end_node()
    assert model.unet.conv_in.weight.numel() == 0  # freed to make room
    assert len(manager.at_load) == 2 and manager.at_load[1] <= manager.budget
    assert manager.device_bytes() <= manager.budget and vae.vae.decoder.conv_out.weight.numel() > 0


@pytest.mark.parametrize("part", ["vae", "controlnet"])
def test_a_budget_below_a_lone_parts_size_is_refused_at_validation_like_a_checkpoints(loaders, part, tmp_path):
    from graphs import add, new_graph

    from nodeflow.core import ValidationError
    from nodeflow.engine import Executor

    cls, args = loaders[part]
    graph = new_graph()
    loader = add(graph, cls.type_id, **args)
    add(graph, "basic.show", {"value": (loader, cls.outputs[0].name)})
    with pytest.raises(ValidationError) as info:
        Executor(device="cpu", memory_budget=10_000).run(graph, output_dir=tmp_path)
    text = str(info.value)
    assert f"node {loader}:" in text and "memory budget of 10 KB" in text and part in text
