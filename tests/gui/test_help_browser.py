"""Help shows each node's documentation generated from its declaration."""

from __future__ import annotations

from nodeflow.core import default_registry
from nodeflow.gui.help_browser import HelpBrowser, matches, node_help_html


def test_node_page_comes_from_the_declaration():
    cls = default_registry().get("sampling.sampler")
    html = node_help_html(cls)
    assert cls.title in html and cls.type_id in html
    for inp in cls.inputs:
        assert f"<b>{inp.name}</b>" in html
    assert "one of euler" in html and "range 1–1000" in html  # choices and bounds of 'steps'
    assert "link only" in html  # MODEL, CONDITIONING...


def test_search_filters_and_show_node_selects_its_page(qtbot):
    browser = HelpBrowser(default_registry(), {"Keyboard shortcuts": "<h2>Keys</h2>"})
    qtbot.addWidget(browser)
    assert browser.list.item(0).text() == "Keyboard shortcuts"
    browser.search.setText("painted_mask")
    titles = [browser.list.item(r).text() for r in range(browser.list.count())]
    assert titles and all("Load Image" in t for t in titles)
    browser.show_node("latent.empty")
    assert "Empty Latent" in browser.page.toPlainText()
    browser.search.setText("zzzz-nothing")
    assert browser.list.count() == 0 and "No node matches" in browser.page.toPlainText()
    assert not matches(default_registry().get("image.load"), "sampler")


def test_f1_opens_the_selected_nodes_page(qtbot, window):
    from PySide6.QtCore import Qt

    node = window.document.add_node("basic.math", (0, 0))
    window.scene.select_nodes([node])
    window.view.setFocus()
    qtbot.keyClick(window.view, Qt.Key.Key_F1)
    browser = window.help_browser
    assert browser is not None and browser.isVisible()
    assert window.registry.get("basic.math").title in browser.page.toPlainText()
    browser.close()
