"""The flow families' lone parts (transformer, text encoders) load through the model store like
Load Checkpoint: with their real size announced before loading and their weights where the store
says (see tests/nodes/test_loader_store.py for the SD parts)."""

from __future__ import annotations

import shutil
from typing import Any

import pytest

from nodeflow.core import RunContext
from nodeflow.core.context import ModelStore
from nodeflow.engine.memory import _modules_with_paths
from nodeflow.engine.sizes import module_bytes, module_tensors


class Spy(ModelStore):
    """A store that hands out `place` and records the room each load asks for."""

    def __init__(self, place: str) -> None:
        super().__init__()
        self.place = place
        self.asked: list[int] = []

    def load_place(self, device: str) -> str:
        return self.place

    def get(self, key: tuple, load: Any, size_hint: int = 0) -> Any:
        self.asked.append(size_hint)
        return super().get(key, load, size_hint)


@pytest.fixture(scope="module")
def flux_parts(tiny_flux, tmp_path_factory):
    """(node class, run arguments) of Load Diffusion Model and Load CLIP on a tiny Flux's parts, each
    text encoder kept apart with its tokenizer beside it, as ComfyUI users keep them."""
    from nodes.models.loaders import LoadCLIP, LoadUNet

    folder = tmp_path_factory.mktemp("flux_parts")
    encoders = []
    for encoder in sorted(tiny_flux.glob("text_encoder*")):
        shutil.copytree(encoder, folder / encoder.name)
        for item in (tiny_flux / encoder.name.replace("text_encoder", "tokenizer")).iterdir():
            shutil.copy(item, folder / encoder.name / item.name)
        encoders.append(str(folder / encoder.name))
    return {"unet": (LoadUNet, {"unet": str(tiny_flux / "transformer")}),
            "clip": (LoadCLIP, {"clip_name": encoders[0], "clip_name_2": encoders[1], "family": "flux"})}


@pytest.mark.parametrize("part", ["unet", "clip"])
def test_a_flow_part_announces_its_size_and_loads_where_the_store_says(flux_parts, part):
    cls, args = flux_parts[part]
    sized = Spy("cpu")
    (value,) = cls().run(RunContext(models=sized), **args)
    modules = [m for _, m in _modules_with_paths(value)]
    assert sized.asked == [pytest.approx(sum(module_bytes(m) for m in modules), rel=0.01)]
    (elsewhere,) = cls().run(RunContext(models=Spy("meta")), **args)
    tensors = [t for _, m in _modules_with_paths(elsewhere) for t in module_tensors(m)]
    assert tensors and {t.device.type for t in tensors} == {"meta"}
