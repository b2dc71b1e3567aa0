"""Wires go around the nodes in their way instead of hiding behind them (issue 21, item 4)."""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF

from nodeflow.gui.canvas.wire_route import curve, route

from .helpers import drag


def _inside(path, rect: QRectF, count: int = 200) -> list[QPointF]:
    return [p for p in (path.pointAtPercent(i / count) for i in range(count + 1)) if rect.contains(p)]


def _over(rects: list[QRectF]):
    return lambda area: [r for r in rects if r.intersects(area)]


def test_a_wire_passes_over_or_under_a_node_in_its_way_whichever_is_shorter():
    a, b = QPointF(0, 100), QPointF(600, 110)
    block = QRectF(200, 60, 200, 200)  # nearer its top than its bottom
    path = route(a, b, _over([block]))
    assert _inside(curve(a, b), block) and not _inside(path, block)
    assert path.boundingRect().top() < block.top() < path.boundingRect().bottom() < block.bottom()
    assert path.pointAtPercent(0) == a and path.pointAtPercent(1) == b


def test_a_run_that_grazes_a_neighbour_goes_around_both_and_a_clear_wire_stays_plain():
    a, b = QPointF(0, 100), QPointF(900, 100)
    first, second = QRectF(200, 60, 200, 200), QRectF(450, 20, 200, 80)  # the second over the first's top run
    path = route(a, b, _over([first, second]))
    assert not _inside(path, first) and not _inside(path, second)
    assert route(a, b, _over([QRectF(200, 300, 100, 100)])) == curve(a, b)
    assert route(b, a, _over([first])) == curve(b, a)  # backwards: its own loop


def test_nodes_on_a_wire_make_it_detour_and_moving_them_away_straightens_it(qtbot, window):
    doc, scene = window.document, window.scene
    src = doc.add_node("basic.int", (0, 0))
    dst = doc.add_node("basic.show", (700, 0))
    doc.connect(src, "value", dst, "value")
    wire = scene.links[(dst, "value")]
    plain = wire.path()
    middle = doc.add_node("basic.round", (330, -20))  # lands where it was asked: the canvas is empty there
    window.view.fit_all()
    body = scene.nodes[middle].sceneBoundingRect()
    assert _inside(plain, body) and not _inside(wire.path(), body)
    assert wire.isVisible() and wire.zValue() < scene.nodes[middle].zValue()  # still drawn under nodes
    title = scene.nodes[middle].mapToScene(QPointF(30, 10))
    drag(qtbot, window.view, title, title + QPointF(0, 400))  # the user moves it out of the way
    assert doc.graph.nodes[middle].ui["pos"][1] > 300
    assert wire.path() == plain
    doc.undo.undo()  # back in the way: around it again
    assert not _inside(wire.path(), scene.nodes[middle].sceneBoundingRect())
    doc.delete([middle])
    assert wire.path() == plain


def test_the_rect_index_answers_like_a_scan_after_moves_and_removals():
    from nodeflow.gui.canvas.rect_index import RectIndex

    index: RectIndex[int] = RectIndex(cell=100)
    rects = {i: QRectF((i * 37) % 900 - 300, (i * 53) % 700 - 200, 20 + i % 150, 15 + i % 90) for i in range(300)}
    for key, rect in rects.items():
        index.set(key, rect)
    for key in range(0, 300, 3):
        rects[key] = rects[key].translated(250, -120)
        index.set(key, rects[key])
    for key in range(1, 300, 7):
        del rects[key]
        index.remove(key)
    for area in (QRectF(-50, -50, 200, 1), QRectF(0, 0, 5000, 5000), QRectF(-400, 300, 90, 90)):
        expected = {k for k, r in rects.items() if r.left() <= area.right() and r.right() >= area.left()
                    and r.top() <= area.bottom() and r.bottom() >= area.top()}
        assert set(index.query(area)) == expected
