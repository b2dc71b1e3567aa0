"""Interaction rules and value rules, tested without a mouse or a scene."""

import random

import pytest

from nodeflow.core import Graph, GraphEditError
from nodeflow.gui import auto_layout, clipboard, node_search, wire_rules
from nodeflow.gui.canvas import geometry
from nodeflow.gui.widgets import values
from nodeflow.gui.widgets.seed_control import SeedControls, SeedMode, next_seed
from nodeflow.gui.wire_rules import SocketRef, WireRules


def chain(registry):
    g = Graph(registry)
    a = g.add_node("basic.int", {"value": 2}, {"pos": [0, 0]}).id
    m = g.add_node("basic.math", ui={"pos": [300, 0]}).id
    s = g.add_node("basic.show", ui={"pos": [600, 0]}).id
    g.connect(a, "value", m, "a")
    g.connect(m, "result", s, "value")
    return g, a, m, s


def test_wire_rules_refuse_wrong_type_cycles_and_same_direction(registry):
    g, a, m, s = chain(registry)
    rules = WireRules(g, SocketRef(m, "result", True))  # FLOAT output
    assert rules.connection(SocketRef(s, "value", False)) == (m, "result", s, "value")  # ANY input
    assert not rules.allows(SocketRef(a, "value", False))  # INT input: wrong type and a cycle
    assert not rules.allows(SocketRef(m, "b", False))  # its own input: a cycle
    assert not rules.allows(SocketRef(s, "text", True))  # output to output
    g2 = g.add_node("basic.round").id
    assert rules.allows(SocketRef(g2, "value", False))


def test_wire_rules_from_an_input_look_for_outputs(registry):
    g, a, m, s = chain(registry)
    r = g.add_node("basic.round").id
    rules = WireRules(g, SocketRef(r, "value", False))  # FLOAT input accepts INT and FLOAT
    assert rules.connection(SocketRef(a, "value", True)) == (a, "value", r, "value")
    assert rules.allows(SocketRef(m, "result", True))
    text = g.add_node("basic.text").id
    assert not rules.allows(SocketRef(text, "text", True))  # STRING into FLOAT


def test_best_socket_prefers_free_link_inputs(registry):
    g, a, m, s = chain(registry)
    fmt = g.add_node("basic.format_text").id
    rules = WireRules(g, SocketRef(a, "value", True))
    assert rules.best_socket_on(fmt) == SocketRef(fmt, "a", False)
    g.connect(a, "value", fmt, "a")
    assert rules.best_socket_on(fmt) == SocketRef(fmt, "b", False)


def test_search_ranks_title_prefix_first_and_filters_by_type(registry):
    found = [c.type_id for c in node_search.search(registry, "ma")]
    assert found[0] == "basic.math"
    assert node_search.search(registry, "zzzz") == []
    fitting = {c.type_id for c in wire_rules.node_types_fitting(registry, "IMAGE", want_input=True)}
    assert "test.take_image" in fitting and "basic.math" not in fitting
    assert "basic.show" in fitting  # ANY input takes an image


def test_insertion_on_link_picks_matching_sockets(registry):
    g, a, m, s = chain(registry)
    link = g.link_into(s, "value")
    r = g.add_node("basic.round").id
    assert wire_rules.insertion_on_link(g, r, link) == ("value", "value")
    assert wire_rules.insertion_on_link(g, m, link) is None  # already part of the link


def test_auto_positions_only_for_nodes_without_one(registry):
    g, a, m, s = chain(registry)
    extra = g.add_node("basic.round").id
    g.connect(a, "value", extra, "value")
    positions = auto_layout.auto_positions(g)
    assert set(positions) == {extra}
    assert positions[extra][0] > 0  # a column right of its source


def test_remap_for_paste_gives_fresh_ids_and_keeps_inner_links(registry):
    g, a, m, s = chain(registry)
    records, links = g.snapshot([a, m])
    new_records, new_links = clipboard.remap_for_paste(g, records, links, (10, 20))
    assert {r.id for r in new_records}.isdisjoint(g.nodes)
    assert new_records[0].ui["pos"] == [10, 20]
    assert len(new_links) == 1 and new_links[0].src == new_records[0].id


def test_segments_cross():
    assert geometry.segments_cross((0, 0), (10, 10), (0, 10), (10, 0))
    assert not geometry.segments_cross((0, 0), (10, 0), (0, 5), (10, 5))


def test_number_rules(registry):
    steps = registry.get("test.slow").input("steps")  # INT 1..10000
    assert values.stepped(steps, 5, 1) == 6
    assert values.stepped(steps, 1, -1) == 1  # clamped at min
    assert values.dragged(steps, 5, 6 * 10) == 15
    strength = registry.get("test.take_image").input("strength")
    assert values.is_slider(strength)
    assert values.from_fraction(strength, 0.52) == 0.5  # snapped to the 0.05 step
    assert values.slider_fraction(strength, 0.25) == 0.25


def test_seed_control_after_run():
    assert next_seed("fixed", 7) == 7
    assert next_seed("increment", 7) == 8
    # The GUI's range is the nodes' range: the largest seed a node accepts wraps to 0, and back.
    from nodes.sampling.noise import RandomNoise

    top = RandomNoise.input("seed").max
    assert next_seed("decrement", 0) == top and RandomNoise.input("seed").check_value(top) == top
    assert next_seed("increment", top) == 0
    assert next_seed("randomize", 7, random.Random(1)) == random.Random(1).randint(0, 2**32 - 1)


def test_seed_modes_are_stored_without_the_default():
    assert SeedControls.from_ui({}).mode("seed") == SeedMode.FIXED
    ui = {"seed_control": {"seed": "increment", "old": "sometimes"}}
    controls = SeedControls.from_ui(ui)
    assert controls.mode("seed") == SeedMode.INCREMENT and controls.mode("old") == SeedMode.FIXED
    assert SeedControls.from_ui({}).with_mode("seed", "randomize").to_ui() == {"seed": "randomize"}
    assert controls.with_mode("seed", "fixed").to_ui() is None  # nothing left: the key goes away
    assert ui == {"seed_control": {"seed": "increment", "old": "sometimes"}}  # the record is not touched
    with pytest.raises(ValueError, match="seed mode must be one of fixed, increment"):
        controls.with_mode("seed", "sometimes")


def test_rules_look_through_reroutes(registry):
    g, a, m, s = chain(registry)
    r = g.add_node("basic.reroute").id
    assert wire_rules.socket_type(g, SocketRef(r, "value", True)) == "*"  # nothing reaches it yet
    g.connect(a, "value", r, "value")
    assert wire_rules.socket_type(g, SocketRef(r, "value", True)) == "INT"
    text_in = g.add_node("basic.save_text").id
    assert not WireRules(g, SocketRef(r, "value", True)).allows(SocketRef(text_in, "text", False))
    g.disconnect(r, "value")
    assert wire_rules.insertion_on_link(g, r, g.link_into(s, "value")) == ("value", "value")


def test_wire_rules_refuse_what_the_graph_refuses_through_a_reroute(registry):
    """A reroute already feeding an INT input: the canvas must not offer it a STRING source."""
    g = Graph(registry)
    r = g.add_node("basic.reroute").id
    m = g.add_node("basic.math").id
    g.connect(r, "value", m, "a")
    text = g.add_node("basic.text").id
    number = g.add_node("basic.int").id
    rules = WireRules(g, SocketRef(text, "text", True))
    assert not rules.allows(SocketRef(r, "value", False))
    with pytest.raises(GraphEditError, match="this reroute feeds"):
        g.check_connection(text, "text", r, "value")
    assert WireRules(g, SocketRef(number, "value", True)).allows(SocketRef(r, "value", False))


def test_pasted_ids_come_from_the_graph_allocator(registry):
    g, a, m, s = chain(registry)
    records, links = g.snapshot([a, m])
    new_records, _ = clipboard.remap_for_paste(g, records, links, (0, 0))
    assert [r.id for r in new_records] == g.new_ids(2) == ["4", "5"]
