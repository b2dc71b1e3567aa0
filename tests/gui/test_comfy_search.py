"""The node search finds nodes as a ComfyUI user names them (class and display names from the
class map, fuzzy, best first), and a wire dropped on empty canvas offers its likeliest node first."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPointF, Qt

from nodeflow.core import default_registry
from nodeflow.gui import node_search, wire_habits
from nodeflow.interop.comfyui.classmap import ENTRIES

from .helpers import drag, main_window, socket


@pytest.fixture
def builtin(qtbot, tmp_path):
    with main_window(qtbot, default_registry(), tmp_path) as win:
        yield win


def _tab_search(qtbot, window, text: str):
    popups = []
    window.view.search_shown.connect(popups.append)
    window.view.setFocus()
    qtbot.keyClick(window.view, Qt.Key.Key_Tab)
    (popup,) = popups
    qtbot.keyClicks(popup.edit, text)
    return popup


@pytest.mark.parametrize("typed, expected", [
    ("KSampler", "sampling.sampler"), ("CLIPTextEncode", "conditioning.text_encode"),
    ("empty latent image", "latent.empty"), ("CheckpointLoaderSimple", "models.load_checkpoint"),
    ("CLIP Text Encode (Prompt)", "conditioning.text_encode"), ("ksampelr", "sampling.sampler"),
    ("vae dec", "vae.decode"), ("KSamplerAdvanced", "sampling.sampler_advanced"),
])
def test_tab_search_finds_comfyui_names_best_first_and_enter_adds_it(qtbot, builtin, typed, expected):
    popup = _tab_search(qtbot, builtin, typed)
    assert popup.type_ids()[0] == expected, popup.type_ids()[:5]
    qtbot.keyClick(popup.edit, Qt.Key.Key_Return)
    assert [r.type for r in builtin.document.graph.nodes.values()] == [expected]


def test_every_mapped_comfyui_class_name_finds_its_node_first():
    registry = default_registry()
    for entry in ENTRIES:
        if registry.get(entry.node) is None:
            continue
        found = [c.type_id for c in node_search.search(registry, entry.comfy)]
        assert entry.node in found[:2], (entry.comfy, found[:3])


def test_a_latent_wire_dropped_on_the_canvas_offers_vae_decode_first(qtbot, builtin):
    doc = builtin.document
    sampler = doc.add_node("sampling.sampler", (0, 0))
    builtin.view.centerOn(300, 150)
    popups = []
    builtin.view.search_shown.connect(popups.append)
    item = builtin.scene.nodes[sampler]
    drag(qtbot, builtin.view, socket(builtin, sampler, "latent", True),
         item.sceneBoundingRect().topRight() + QPointF(150, 40))
    (popup,) = popups
    assert popup.type_ids()[0] == "vae.decode", popup.type_ids()[:5]
    assert "basic.format_text" in popup.type_ids()  # still offered, after the likely ones
    qtbot.keyClick(popup.edit, Qt.Key.Key_Return)
    decode = next(i for i, r in doc.graph.nodes.items() if r.type == "vae.decode")
    assert doc.graph.link_into(decode, "latent").src == sampler


def test_without_examples_a_socket_of_the_wire_s_own_type_comes_before_a_wildcard():
    from nodeflow.core import Graph
    from nodeflow.gui.wire_rules import SocketRef, node_types_fitting

    registry = default_registry()
    graph = Graph(registry)
    empty = graph.add_node("latent.empty").id
    weights = wire_habits.likely_for(graph, SocketRef(empty, "latent", True), "LATENT", links=())
    assert weights["vae.decode"] == wire_habits.EXACT_TYPE and "basic.format_text" not in weights
    order = [c.type_id for c in node_search.search(registry, "", node_types_fitting(registry, "LATENT", True),
                                                   weights)]
    assert order.index("vae.decode") < order.index("basic.format_text")
