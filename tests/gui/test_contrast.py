"""Node text meets WCAG AA contrast (4.5:1) on what it is drawn over, and is at least 9 px at 100%."""

from __future__ import annotations

import pytest
from PySide6.QtGui import QColor

from nodeflow.core import default_registry
from nodeflow.gui import theme
from nodeflow.gui.canvas import node_paint
from nodeflow.gui.canvas.detail import font_px


def luminance(color: QColor) -> float:
    def channel(value: int) -> float:
        v = value / 255
        return v / 12.92 if v <= 0.03928 else ((v + 0.055) / 1.055) ** 2.4

    return 0.2126 * channel(color.red()) + 0.7152 * channel(color.green()) + 0.0722 * channel(color.blue())


def contrast(a: QColor, b: QColor) -> float:
    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


@pytest.mark.parametrize("text, background", [
    ("NODE_TEXT_DIM", "NODE_BODY"), ("NODE_TEXT_DIM", "WIDGET_BG"), ("NODE_TEXT", "NODE_BODY"),
    ("NODE_TEXT", "WIDGET_BG"), ("NODE_TEXT", "WIDGET_FILL"),
])
def test_labels_and_values_reach_4_5_to_1(text, background):
    assert contrast(getattr(theme, text), getattr(theme, background)) >= 4.5


def test_titles_reach_4_5_to_1_on_every_built_in_category():
    categories = {cls.category for cls in default_registry()}
    low = {c: round(contrast(theme.TITLE_TEXT, theme.category_color(c)), 2) for c in categories}
    assert min(low.values()) >= 4.5, sorted(low.items(), key=lambda kv: kv[1])[:3]


def test_node_text_is_at_least_9_px_at_100_percent(qapp):
    for kind in ("title", "normal", "small"):
        assert font_px(node_paint.font(kind)) >= 9, kind
