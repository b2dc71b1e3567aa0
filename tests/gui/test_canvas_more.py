"""More canvas behaviour: group frames, panning, search popup, thumbnails, help."""

from PySide6.QtCore import QPoint, QPointF, Qt

from .helpers import drag, vp


def test_dragging_a_group_title_moves_its_nodes_in_one_step(qtbot, window):
    doc = window.document
    a = doc.add_node("basic.int", (0, 0))
    b = doc.add_node("basic.int", (0, 150))
    outside = doc.add_node("basic.int", (600, 0))
    g = doc.add_group("Inputs", [-20, -50, 300, 320])
    window.view.set_zoom(1.0)
    window.view.centerOn(200, 100)
    window.scene.clearSelection()
    steps = doc.undo.count()
    drag(qtbot, window.view, QPointF(100, -35), QPointF(200, 5), steps=6)
    assert doc.graph.groups[g].rect[:2] == [80, -10]
    assert doc.graph.nodes[a].ui["pos"] == [100, 40]
    assert doc.graph.nodes[b].ui["pos"] == [100, 190]
    assert doc.graph.nodes[outside].ui["pos"] == [600, 0]
    assert doc.undo.count() == steps + 1
    doc.undo.undo()
    assert doc.graph.groups[g].rect[:2] == [-20, -50]
    assert window.scene.nodes[a].pos() == QPointF(0, 0)


def test_middle_drag_pans_the_view(qtbot, window):
    view = window.view
    view.set_zoom(1.0)
    view.centerOn(0, 0)
    before = view.mapToScene(view.viewport().rect().center())
    drag(qtbot, view, before, before + QPointF(100, 50), button=Qt.MouseButton.MiddleButton)
    after = view.mapToScene(view.viewport().rect().center())
    assert abs((before.x() - after.x()) - 100) <= 2 and abs((before.y() - after.y()) - 50) <= 2
    assert window.document.graph.nodes == {}


def test_tab_opens_the_search_and_enter_adds_the_node(qtbot, window):
    popups = []
    window.view.search_shown.connect(popups.append)
    window.view.setFocus()
    qtbot.keyClick(window.view, Qt.Key.Key_Tab)
    assert len(popups) == 1
    qtbot.keyClicks(popups[0].edit, "round")
    qtbot.keyClick(popups[0].edit, Qt.Key.Key_Return)
    assert [r.type for r in window.document.graph.nodes.values()] == ["basic.round"]


def test_double_click_on_empty_canvas_opens_the_search(qtbot, window):
    popups = []
    window.view.search_shown.connect(popups.append)
    qtbot.mouseDClick(window.view.viewport(), Qt.MouseButton.LeftButton, pos=QPoint(300, 300))
    assert len(popups) == 1 and len(popups[0].type_ids()) == len(window.registry)


def test_collapsed_nodes_keep_their_wires(qtbot, window):
    doc = window.document
    a = doc.add_node("basic.int", (0, 0))
    s = doc.add_node("basic.show", (300, 0))
    doc.connect(a, "value", s, "value")
    window.scene.select_nodes([a])
    window.view.edit_actions.toggle_collapse()
    item = window.scene.nodes[a]
    assert item.layout.collapsed and item.layout.height < 30
    end = window.scene.links[(s, "value")].path().pointAtPercent(0)
    assert end == item.socket_scene_pos("value", True)


def test_converted_widget_becomes_an_input_socket(qtbot, window):
    doc = window.document
    m = doc.add_node("basic.math", (0, 0))
    item = window.scene.nodes[m]
    assert "operation" not in item.layout.inputs
    window.view.edit_actions.set_converted(m, "operation", True)
    assert "operation" in item.layout.inputs
    assert doc.graph.nodes[m].ui["widget_inputs"] == ["operation"]
    doc.undo.undo()
    assert "operation" not in item.layout.inputs


def test_image_file_parameters_show_a_thumbnail(qtbot, window, tmp_path):
    from PIL import Image

    from nodeflow.core import Input, Node, Output

    class LoadPicture(Node):
        type_id = "test.load_picture"
        title = "Load Picture"
        inputs = (Input("image", "STRING", default="", file="file"),)
        outputs = (Output("image", "IMAGE"),)

        def run(self, ctx, image):
            return (None,)

    window.registry.register(LoadPicture)
    png = tmp_path / "pic.png"
    Image.new("RGB", (40, 20), "green").save(png)
    n = window.document.add_node("test.load_picture", (0, 0))
    assert window.scene.nodes[n].image is None
    window.document.set_param(n, "image", str(png))
    image = window.scene.nodes[n].image
    assert image is not None and image.width() == 2 * image.height()


def test_help_lists_the_shortcuts(qtbot, window):
    from nodeflow.gui.shortcuts import SHORTCUTS, ShortcutsDialog

    dialog = ShortcutsDialog(window)
    qtbot.addWidget(dialog)
    texts = [dialog.tree.topLevelItem(i).text(0) for i in range(dialog.tree.topLevelItemCount())]
    assert "Ctrl+Return / Ctrl+Enter" in texts
    assert window.actions_["run"].shortcut().toString() == "Ctrl+Return"
    assert set(SHORTCUTS) <= set(window.actions_) | {"stop"}


def test_shift_click_adds_to_the_selection(qtbot, window):
    doc = window.document
    a = doc.add_node("basic.int", (0, 0))
    b = doc.add_node("basic.int", (300, 0))
    window.view.centerOn(200, 50)
    window.scene.select_nodes([a])
    qtbot.mouseClick(window.view.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.ShiftModifier,
                     vp(window.view, QPointF(360, 10)))
    assert sorted(window.scene.selected_node_ids()) == sorted([a, b])


def test_wiring_backwards_and_dropping_on_a_node_body(qtbot, window):
    from .helpers import socket

    doc = window.document
    a = doc.add_node("basic.int", (0, 0))
    fmt = doc.add_node("basic.format_text", (350, 0))
    show = doc.add_node("basic.show", (350, 250))
    window.view.set_zoom(1.0)
    window.view.centerOn(300, 150)
    # from an input back to an output
    drag(qtbot, window.view, socket(window, show, "value", False), socket(window, a, "value", True))
    assert doc.graph.link_into(show, "value").src == a
    # dropped on the body of a node: the first free input that fits
    body = window.scene.nodes[fmt].mapToScene(window.scene.nodes[fmt].body_rect().center())
    drag(qtbot, window.view, socket(window, a, "value", True), body)
    assert doc.graph.link_into(fmt, "a").src == a


def test_resizing_a_node_by_its_corner_is_saved_and_undoable(qtbot, window):
    doc = window.document
    n = doc.add_node("basic.math", (0, 0))
    window.view.set_zoom(1.0)
    window.view.centerOn(150, 100)
    item = window.scene.nodes[n]
    corner = QPointF(item.layout.width - 4, item.layout.height - 4)
    drag(qtbot, window.view, corner, corner + QPointF(80, 40))
    assert doc.graph.nodes[n].ui["size"] == [round(corner.x() + 80), round(corner.y() + 40)]
    assert item.layout.width == corner.x() + 80
    doc.undo.undo()
    assert "size" not in doc.graph.nodes[n].ui and item.layout.width == 240


def test_node_widgets_toggle_and_step(qtbot, window):
    doc = window.document
    b = doc.add_node("basic.boolean", (0, 0))
    i = doc.add_node("basic.int", (0, 150))
    window.view.set_zoom(1.0)
    window.view.centerOn(120, 100)
    row = window.scene.nodes[b].layout.widgets[0]
    qtbot.mouseClick(window.view.viewport(), Qt.MouseButton.LeftButton,
                     pos=vp(window.view, QPointF(120, row.y + row.height / 2)))
    assert doc.graph.nodes[b].params["value"] is True
    row = window.scene.nodes[i].layout.widgets[0]
    right_arrow = QPointF(window.scene.nodes[i].layout.width - 14, 150 + row.y + row.height / 2)
    qtbot.mouseClick(window.view.viewport(), Qt.MouseButton.LeftButton, pos=vp(window.view, right_arrow))
    qtbot.mouseClick(window.view.viewport(), Qt.MouseButton.LeftButton, pos=vp(window.view, right_arrow))
    assert doc.graph.nodes[i].params["value"] == 2


def test_typing_into_inline_editors_is_not_taken_by_shortcuts(qtbot, window):
    doc = window.document
    n = doc.add_node("basic.math", (0, 0))
    t = doc.add_node("basic.text", (300, 0))
    window.view.set_zoom(1.0)
    window.view.centerOn(250, 60)
    window.scene.select_nodes([t])  # Delete/Backspace must not delete it while typing
    viewport = window.view.viewport()
    row = window.scene.nodes[n].layout.widgets[0]  # "a"
    qtbot.mouseClick(viewport, Qt.MouseButton.LeftButton, pos=vp(window.view, QPointF(120, row.y + 11)))
    qtbot.keyClicks(viewport, "3.5x")
    qtbot.keyClick(viewport, Qt.Key.Key_Backspace)
    qtbot.keyClick(viewport, Qt.Key.Key_Return)
    assert doc.graph.nodes[n].params["a"] == 3.5
    assert t in doc.graph.nodes
    row = window.scene.nodes[t].layout.widgets[0]
    qtbot.mouseClick(viewport, Qt.MouseButton.LeftButton, pos=vp(window.view, QPointF(400, row.y + 20)))
    qtbot.keyClicks(viewport, "a red circle")
    assert doc.graph.nodes[t].params["text"] == "a red circle"
    assert not window.view.space_held


def test_keyboard_nudges_merge_and_ctrl_m_mutes(qtbot, window):
    doc = window.document
    a = doc.add_node("basic.int", (0, 0))
    window.scene.select_nodes([a])
    window.view.setFocus()
    steps = doc.undo.count()
    for _ in range(3):
        qtbot.keyClick(window.view, Qt.Key.Key_Right)
    assert doc.graph.nodes[a].ui["pos"] == [30, 0]
    assert doc.undo.count() == steps + 1  # three nudges, one undo step
    qtbot.keyClick(window.view, Qt.Key.Key_M, Qt.KeyboardModifier.ControlModifier)
    assert doc.graph.nodes[a].mode == "muted"
    qtbot.keyClick(window.view, Qt.Key.Key_M, Qt.KeyboardModifier.ControlModifier)
    assert doc.graph.nodes[a].mode == "normal"


def test_clicking_a_wire_selects_it_and_delete_removes_it(qtbot, window):
    from nodeflow.gui.canvas import geometry

    assert geometry.distance_to_polyline((5, 3), [(0, 0), (10, 0)]) == 3
    doc = window.document
    a = doc.add_node("basic.int", (0, 0))
    s = doc.add_node("basic.show", (400, 100))
    doc.connect(a, "value", s, "value")
    window.view.set_zoom(1.0)
    window.view.centerOn(300, 100)
    middle = window.scene.links[(s, "value")].path().pointAtPercent(0.5)
    qtbot.mouseClick(window.view.viewport(), Qt.MouseButton.LeftButton, pos=vp(window.view, middle + QPointF(0, 3)))
    assert window.scene.selected_link == (s, "value")
    window.view.setFocus()
    qtbot.keyClick(window.view, Qt.Key.Key_Delete)
    assert doc.graph.links == {} and set(doc.graph.nodes) == {a, s}
    doc.undo.undo()
    assert doc.graph.link_into(s, "value") is not None
    qtbot.mouseClick(window.view.viewport(), Qt.MouseButton.LeftButton, pos=vp(window.view, QPointF(300, 400)))
    assert window.scene.selected_link is None
