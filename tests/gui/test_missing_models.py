"""The Missing models dialog: shown when a workflow opens with models the library lacks; fetch,
search by hash and choose a file, each updating the nodes that name the model."""

from __future__ import annotations

import hashlib
import json
import shutil

import numpy as np
from PySide6.QtCore import Qt
from safetensors.numpy import save

from nodeflow.core import Input, Node
from nodeflow.core.byte_sizes import format_bytes
from nodeflow.core.paths import user_models_dir
from nodeflow.core.types import STRING
from nodeflow.gui.missing_models import STATE, MissingModelsDialog, offer
from nodeflow.library import configure
from nodeflow.library.download import Options, Transfer
from tests.library.model_server import ModelServer, Route


class UseLora(Node):
    """A test node that names a LoRA from the library."""

    type_id = "test.use_lora"
    title = "Use LoRA"
    category = "test"
    is_output = True
    inputs = (Input("lora", STRING, default="", file="file", model="loras"),)
    outputs = ()

    def run(self, ctx, lora):
        return {}


def _weights(seed: int) -> bytes:
    return save({"w": np.random.default_rng(seed).standard_normal(2048).astype(np.float32)})


def _workflow(tmp_path, url: str, digests: dict[str, str]) -> object:
    names = ("a.safetensors", "b.safetensors", "c.safetensors")
    data = {"format": "nodeflow-workflow", "version": 1, "links": [],
            "nodes": [{"id": str(i + 1), "type": "test.use_lora", "version": 1, "params": {"lora": name},
                       "pos": [0, 150 * i]} for i, name in enumerate(names)],
            "manifest": {"models": {f"loras/{k}": f"sha256:{v}" for k, v in digests.items()},
                         "model_urls": {"loras/a.safetensors": url}}}
    path = tmp_path / "needs-models.json"
    path.write_text(json.dumps(data))
    return path


def test_missing_models_are_fetched_found_or_chosen_and_the_graph_follows(qtbot, window, registry, tmp_path):
    configure()
    registry.register(UseLora)
    a, b = _weights(1), _weights(2)
    digests = {"a.safetensors": hashlib.sha256(a).hexdigest(), "b.safetensors": hashlib.sha256(b).hexdigest()}
    with ModelServer() as server:
        route = server.routes["/a.safetensors"] = Route(a)
        assert window.files.open(_workflow(tmp_path, server.url("/a.safetensors"), digests))
        [shown] = window.findChildren(MissingModelsDialog)
        assert shown.isVisible() and shown.table.rowCount() == 3
        assert [shown.table.item(r, 0).text() for r in range(3)] == ["a.safetensors", "b.safetensors",
                                                                     "c.safetensors"]
        assert shown.table.item(0, 4).text() == server.url("/a.safetensors")
        assert shown.table.item(2, 4).text() == "no URL recorded"
        qtbot.mouseClick(shown.fetch_all_button, Qt.MouseButton.LeftButton)  # a shared file's loopback URL
        qtbot.waitUntil(lambda: "loopback" in shown.lines.get(0, ""), timeout=10_000)
        assert route.requests == [] and not (user_models_dir() / "loras" / "a.safetensors").exists()
        shown.close()

        dialog = offer(window, options=Options(allow_local=True, timeout=5))  # as after --allow-local
        estimates = []
        window.memory_bar.schedule = lambda: estimates.append(True)
        qtbot.mouseClick(dialog.fetch_all_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: 0 in dialog.settled and dialog.fetch_button.isEnabled(), timeout=10_000)
        assert (user_models_dir() / "loras" / "a.safetensors").read_bytes() == a
        assert "sha256 verified" in dialog.lines[0] and estimates  # the memory estimate looks again

    dialog._signals.progress.emit(1, Transfer(500_000, 2_000_000, 250_000, 6.0))  # as a worker would
    qtbot.waitUntil(lambda: dialog.table.cellWidget(1, STATE) is not None)
    bar = dialog.table.cellWidget(1, STATE)
    sizes = [format_bytes(n) for n in (500_000, 2_000_000, 250_000)]
    assert (bar.value(), bar.format()) == (250, f"{sizes[0]} / {sizes[1]}, {sizes[2]}/s, 6 s left")
    renamed = user_models_dir() / "loras" / "kept" / "bee.safetensors"  # appears after the workflow opened
    renamed.parent.mkdir(parents=True)
    renamed.write_bytes(b)
    dialog.table.selectRow(1)
    qtbot.mouseClick(dialog.search_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: 1 in dialog.settled, timeout=10_000)
    graph = window.document.graph
    assert graph.nodes["2"].params["lora"] == "kept/bee.safetensors"

    elsewhere = tmp_path / "elsewhere" / "sea.safetensors"
    elsewhere.parent.mkdir()
    shutil.copyfile(renamed, elsewhere)
    dialog.ask_file = lambda item: str(elsewhere)
    dialog.table.selectRow(2)
    qtbot.mouseClick(dialog.choose_button, Qt.MouseButton.LeftButton)
    assert graph.nodes["3"].params["lora"] == str(elsewhere) and 2 in dialog.settled
    window.document.undo.undo()  # each landing is an ordinary edit
    assert graph.nodes["3"].params["lora"] == "c.safetensors"
    assert offer(window) is not None  # c is missing again


def test_a_dropped_a1111_jpeg_opens_as_its_graph(full_window, tmp_path):
    from PIL import Image

    from nodeflow.interop.a1111.reading import EXIF_IFD, USER_COMMENT

    text = "a red circle on a blue background\nSteps: 3, Sampler: Euler a, CFG scale: 5, Seed: 8, Model: tiny-shapes"
    exif = Image.Exif()
    exif.get_ifd(EXIF_IFD)[USER_COMMENT] = b"UNICODE\0" + text.encode("utf-16-be")
    path = tmp_path / "00001-8.jpg"
    Image.new("RGB", (8, 8)).save(path, exif=exif)
    full_window.files.dropped([str(path)])
    graph = full_window.document.graph
    sampler = next(r for r in graph.nodes.values() if r.type == "sampling.sampler")
    assert (sampler.params["seed"], sampler.params["sampler_name"]) == (8, "euler_ancestral")
    assert full_window.document.path is None and full_window.document.dirty  # Save never overwrites the picture
    assert "imported A1111/Forge parameters (00001-8.jpg)" in full_window.run_panel.log.toPlainText()
    assert not full_window.findChildren(MissingModelsDialog)  # tiny-shapes is built in
