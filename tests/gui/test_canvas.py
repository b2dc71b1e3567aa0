"""The canvas driven with real mouse events on the viewport; assertions on the core graph."""

from PySide6.QtCore import QEvent, QPoint, QPointF, Qt
from PySide6.QtGui import QDragEnterEvent, QDropEvent, QMouseEvent
from PySide6.QtWidgets import QApplication

from .helpers import drag, socket, vp, wire


def drop_from_palette(window, type_id: str, scene_point: QPointF) -> None:
    """What a drag from the palette delivers: the palette's own mime data, dropped on the view."""
    palette = window.palette
    item = palette.item_for(type_id)
    mime = palette.tree.mimeData([item])
    viewport = window.view.viewport()
    pos = QPointF(vp(window.view, scene_point))
    enter = QDragEnterEvent(pos.toPoint(), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                            Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(viewport, enter)
    assert enter.isAccepted()
    drop = QDropEvent(pos, Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                      Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(viewport, drop)


def test_build_and_wire_a_graph_with_the_mouse(qtbot, window):
    graph = window.document.graph
    window.view.set_zoom(1.0)
    window.view.centerOn(300, 100)
    drop_from_palette(window, "basic.int", QPointF(0, 0))
    drop_from_palette(window, "basic.round", QPointF(300, 0))
    drop_from_palette(window, "basic.show", QPointF(300, 200))
    assert [r.type for r in graph.nodes.values()] == ["basic.int", "basic.round", "basic.show"]
    assert graph.nodes["1"].ui["pos"] == [0, 0]
    wire(qtbot, window, "1", "value", "2", "value")  # INT into FLOAT: allowed (widening)
    wire(qtbot, window, "2", "value", "3", "value")
    assert set(graph.links) == {("2", "value"), ("3", "value")}
    assert window.scene.links[("3", "value")].isVisible()


def test_wrong_type_wire_is_refused_and_says_why(qtbot, window):
    doc = window.document
    text = doc.add_node("basic.text", (0, 0))
    rnd = doc.add_node("basic.round", (300, 0))
    window.view.centerOn(200, 50)
    steps = doc.undo.count()
    wire(qtbot, window, text, "text", rnd, "value")
    assert doc.graph.links == {}
    assert doc.undo.count() == steps
    assert window.view.last_wire.outcome == "refused"
    assert "expects FLOAT" in window.view.last_wire.message


def test_incompatible_sockets_dim_while_dragging(qtbot, window):
    doc = window.document
    text = doc.add_node("basic.text", (0, 0))
    rnd = doc.add_node("basic.round", (300, 0))
    show = doc.add_node("basic.show", (300, 200))
    window.view.centerOn(200, 100)
    viewport = window.view.viewport()
    start = vp(window.view, socket(window, text, "text", True))
    qtbot.mousePress(viewport, Qt.MouseButton.LeftButton, pos=start)
    qtbot.mouseMove(viewport, start + QPoint(40, 40))
    rules = window.scene.wire_rules
    from nodeflow.gui.wire_rules import SocketRef

    assert rules is not None
    assert not rules.allows(SocketRef(rnd, "value", False))
    assert rules.allows(SocketRef(show, "value", False))
    qtbot.mouseRelease(viewport, Qt.MouseButton.LeftButton, pos=start + QPoint(40, 40))
    assert window.scene.wire_rules is None


def test_new_wire_replaces_and_dragging_off_an_input_detaches(qtbot, window):
    doc = window.document
    a = doc.add_node("basic.int", (0, 0))
    b = doc.add_node("basic.float", (0, 150))
    show = doc.add_node("basic.show", (350, 50))
    window.view.centerOn(200, 100)
    wire(qtbot, window, a, "value", show, "value")
    wire(qtbot, window, b, "value", show, "value")
    assert doc.graph.link_into(show, "value").src == b
    # pick the wire up at the input and drop it on empty canvas: detached
    drag(qtbot, window.view, socket(window, show, "value", False), QPointF(250, 300))
    assert doc.graph.links == {}
    doc.undo.undo()
    assert doc.graph.link_into(show, "value").src == b


def test_wire_released_on_empty_canvas_offers_fitting_nodes_and_connects(qtbot, window):
    doc = window.document
    a = doc.add_node("basic.text", (0, 0))
    window.view.centerOn(200, 100)
    popups = []
    window.view.search_shown.connect(popups.append)
    drag(qtbot, window.view, socket(window, a, "text", True), QPointF(400, 150))
    assert len(popups) == 1
    offered = popups[0].type_ids()
    assert "basic.save_text" in offered and "basic.round" not in offered
    popups[0].edit.setText("save")
    popups[0].accept_current()
    new = [n for n in doc.graph.nodes if n != a][0]
    assert doc.graph.nodes[new].type == "basic.save_text"
    assert doc.graph.link_into(new, "text").src == a
    doc.undo.undo()  # adding and connecting is one step
    assert list(doc.graph.nodes) == [a]


def test_ctrl_right_drag_cuts_crossed_wires(qtbot, window):
    doc = window.document
    a = doc.add_node("basic.int", (0, 0))
    show = doc.add_node("basic.show", (400, 0))
    other = doc.add_node("basic.show", (400, 300))
    doc.connect(a, "value", show, "value")
    doc.connect(a, "value", other, "value")
    window.view.centerOn(300, 150)
    viewport = window.view.viewport()
    top, bottom = vp(window.view, QPointF(320, -60)), vp(window.view, QPointF(320, 60))
    ctrl = Qt.KeyboardModifier.ControlModifier
    for kind, point, buttons in ((QEvent.Type.MouseButtonPress, top, Qt.MouseButton.RightButton),
                                 (QEvent.Type.MouseMove, bottom, Qt.MouseButton.RightButton),
                                 (QEvent.Type.MouseButtonRelease, bottom, Qt.MouseButton.NoButton)):
        QApplication.sendEvent(viewport, QMouseEvent(kind, QPointF(point), QPointF(viewport.mapToGlobal(point)),
                                                     Qt.MouseButton.RightButton, buttons, ctrl))
    assert set(doc.graph.links) == {(other, "value")}


def test_moving_nodes_writes_positions_once_and_undoes_in_one_step(qtbot, window):
    doc = window.document
    a = doc.add_node("basic.int", (0, 0))
    b = doc.add_node("basic.int", (0, 200))
    window.view.centerOn(150, 150)
    window.scene.select_nodes([a, b])
    steps = doc.undo.count()
    drag(qtbot, window.view, QPointF(60, 10), QPointF(160, 60), steps=8)  # by the title
    assert doc.graph.nodes[a].ui["pos"] == [100, 50]
    assert doc.graph.nodes[b].ui["pos"] == [100, 250]
    assert doc.undo.count() == steps + 1
    doc.undo.undo()
    assert doc.graph.nodes[b].ui["pos"] == [0, 200]
    assert window.scene.nodes[b].pos() == QPointF(0, 200)


def test_rubber_band_selects_nodes(qtbot, window):
    doc = window.document
    ids = [doc.add_node("basic.int", (x, 0)) for x in (0, 300, 900)]
    window.view.set_zoom(0.6)
    window.view.centerOn(450, 50)
    drag(qtbot, window.view, QPointF(-50, -80), QPointF(560, 120))
    assert sorted(window.scene.selected_node_ids()) == sorted(ids[:2])


def test_dropping_a_node_onto_a_wire_inserts_it(qtbot, window):
    doc = window.document
    a = doc.add_node("basic.int", (0, 0))
    show = doc.add_node("basic.show", (600, 0))
    rnd = doc.add_node("basic.round", (250, 300))
    doc.connect(a, "value", show, "value")
    window.view.centerOn(350, 150)
    item = window.scene.nodes[rnd]
    centre = item.mapToScene(item.body_rect().center())
    grab = QPointF(item.pos().x() + 60, item.pos().y() + 10)
    wire_point = window.scene.links[(show, "value")].path().pointAtPercent(0.5)
    drag(qtbot, window.view, grab, grab + (wire_point - centre), steps=6)
    assert doc.graph.link_into(rnd, "value").src == a
    assert doc.graph.link_into(show, "value").src == rnd


def test_dragging_a_number_is_one_undo_step(qtbot, window):
    doc = window.document
    n = doc.add_node("basic.int", (0, 0))
    window.view.set_zoom(1.0)
    window.view.centerOn(100, 50)
    row = window.scene.nodes[n].layout.widgets[0]
    start = QPointF(120, row.y + row.height / 2)
    steps = doc.undo.count()
    drag(qtbot, window.view, start, start + QPointF(60, 0), steps=6)
    assert doc.graph.nodes[n].params["value"] == 10
    assert doc.undo.count() == steps + 1
    doc.undo.undo()
    assert doc.graph.nodes[n].params["value"] == 0


def test_clicking_a_number_opens_an_editor_that_sets_the_value(qtbot, window):
    doc = window.document
    n = doc.add_node("basic.int", (0, 0))
    window.view.centerOn(100, 50)
    row = window.scene.nodes[n].layout.widgets[0]
    point = vp(window.view, QPointF(120, row.y + row.height / 2))
    qtbot.mouseClick(window.view.viewport(), Qt.MouseButton.LeftButton, pos=point)
    editor = window.scene.nodes[n].widgets.editor
    assert editor is not None
    line = editor.widget()
    line.setText("42")
    line.returnPressed.emit()
    assert doc.graph.nodes[n].params["value"] == 42


def test_unknown_node_types_show_and_can_be_deleted(qtbot, window):
    text = ('{"format": "nodeflow-workflow", "version": 1, "nodes": ['
            '{"id": "1", "type": "basic.int", "version": 1, "params": {"value": 1}, "pos": [0, 0]},'
            '{"id": "2", "type": "plugin.mystery", "version": 3, "params": {"k": 5}, "pos": [300, 0]}],'
            '"links": [{"from": ["1", "value"], "to": ["2", "x"]}]}')
    window.document.open_text(text, None, dirty=False)
    item = window.scene.nodes["2"]
    assert item.cls is None and "missing" in item.title
    assert ("2", "x") in window.scene.links
    assert "x" in item.layout.inputs
    window.scene.select_nodes(["2"])
    window.view.edit_actions.delete()
    assert list(window.document.graph.nodes) == ["1"]
    window.document.undo.undo()
    assert window.document.graph.link_into("2", "x") is not None


def test_zoom_is_limited_and_keeps_the_point_under_the_cursor(qtbot, window):
    view = window.view
    view.set_zoom(1.0)
    anchor = QPointF(200, 150)
    before = view.mapToScene(anchor.toPoint())
    view.zoom_by(1.5, anchor)
    after = view.mapToScene(anchor.toPoint())
    assert abs(before.x() - after.x()) < 2 and abs(before.y() - after.y()) < 2
    for _ in range(30):
        view.zoom_by(2.0)
    assert view.zoom() <= 3.0 + 1e-9
    for _ in range(30):
        view.zoom_by(0.5)
    assert view.zoom() >= 0.1 - 1e-9


def test_cached_items_repaint_correctly_after_zoom(qtbot, window):
    """Zooming with DeviceCoordinateCache must not show stale, blurry or misplaced nodes."""
    from PySide6.QtWidgets import QGraphicsItem

    doc = window.document
    n = doc.add_node("basic.int", (0, 0))
    assert window.scene.nodes[n].cacheMode() == QGraphicsItem.CacheMode.DeviceCoordinateCache
    view = window.view
    images = {}
    for zoom in (1.0, 2.0, 0.5, 2.0):
        view.set_zoom(zoom)
        view.centerOn(window.scene.nodes[n].sceneBoundingRect().center())
        images[zoom] = view.viewport().grab().toImage()
        title = vp(view, QPointF(5, 5))
        body = vp(view, QPointF(window.scene.nodes[n].layout.width / 2, window.scene.nodes[n].layout.height - 3))
        outside = vp(view, QPointF(-40, -40))
        assert images[zoom].pixelColor(title).name() != images[zoom].pixelColor(outside).name()
        assert images[zoom].pixelColor(body).name() != images[zoom].pixelColor(outside).name()
    window.scene.set_cache_mode(QGraphicsItem.CacheMode.NoCache)
    view.viewport().repaint()
    uncached = view.viewport().grab().toImage()
    same = sum(uncached.pixelColor(x, y) == images[2.0].pixelColor(x, y)
               for x in range(0, uncached.width(), 7) for y in range(0, uncached.height(), 7))
    total = len(range(0, uncached.width(), 7)) * len(range(0, uncached.height(), 7))
    assert same / total > 0.97


def test_wheel_zoom_paints_uncached_until_the_wheel_stops(qtbot, window):
    """During a wheel gesture nodes skip their cache and wires their antialiasing (each step is a
    new scale); when the wheel stops both come back and the picture is the same as before."""
    from PySide6.QtGui import QPainter, QWheelEvent
    from PySide6.QtWidgets import QGraphicsItem

    cached = QGraphicsItem.CacheMode.DeviceCoordinateCache
    doc = window.document
    a = doc.add_node("basic.int", (0, 0))
    s = doc.add_node("basic.show", (300, 60))
    doc.connect(a, "value", s, "value")
    view, viewport = window.view, window.view.viewport()
    view.set_zoom(1.0)
    view.centerOn(200, 60)
    centre = QPointF(viewport.width() / 2, viewport.height() / 2)

    def wheel(delta: int) -> None:
        event = QWheelEvent(centre, QPointF(viewport.mapToGlobal(centre.toPoint())), QPoint(), QPoint(0, delta),
                            Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier, Qt.ScrollPhase.NoScrollPhase,
                            False)
        QApplication.sendEvent(viewport, event)

    wheel(120)
    assert view.zoom() > 1.0
    assert window.scene.nodes[a].cacheMode() == QGraphicsItem.CacheMode.NoCache
    assert not view.renderHints() & QPainter.RenderHint.Antialiasing
    wheel(-120)  # the same gesture: still uncached
    assert window.scene.nodes[s].cacheMode() == QGraphicsItem.CacheMode.NoCache
    qtbot.waitUntil(lambda: not view.zoom_settle.isActive(), timeout=2_000)
    assert all(item.cacheMode() == cached for item in window.scene.nodes.values())
    assert view.renderHints() & QPainter.RenderHint.Antialiasing
    settled = viewport.grab().toImage()
    window.scene.set_cache_mode(QGraphicsItem.CacheMode.NoCache)
    viewport.repaint()
    direct = viewport.grab().toImage()
    same = sum(direct.pixelColor(x, y) == settled.pixelColor(x, y)
               for x in range(0, direct.width(), 5) for y in range(0, direct.height(), 5))
    assert same / (len(range(0, direct.width(), 5)) * len(range(0, direct.height(), 5))) > 0.97
