"""Colours and metrics of the dark theme: socket colours by data type, category colours."""

from __future__ import annotations

import hashlib

from PySide6.QtGui import QColor, QPalette

BACKGROUND = QColor("#1e1f22")
GRID_MINOR = QColor("#26282c")
GRID_MAJOR = QColor("#2e3036")
NODE_BODY = QColor("#2b2d31")
NODE_BORDER = QColor("#121314")
NODE_SELECTED = QColor("#f0f0f0")
NODE_TEXT = QColor("#dcdcdc")
#: Labels: at least 4.5:1 against the node body and the widget background (WCAG AA; was 4.15:1).
NODE_TEXT_DIM = QColor("#9a9da3")
#: Titles on the category colours: white keeps 5:1 on the lightest built-in one (#dcdcdc gave 3.7:1).
TITLE_TEXT = QColor("#ffffff")
WIDGET_BG = QColor("#1c1d20")
WIDGET_FILL = QColor("#3d5a80")
PLACEHOLDER = QColor("#6b2a2a")
MUTED_TINT = QColor(0, 0, 0, 140)
BYPASS_TINT = QColor(150, 60, 200, 90)
ERROR = QColor("#e0524c")
WARNING = QColor("#e8a23a")
GROUP_DEFAULT = QColor("#3b4a5a")

STATE_COLORS = {
    "queued": QColor("#a08a3c"),
    "running": QColor("#4caf50"),
    "cached": QColor("#4f7fae"),
    "done": QColor("#4f9e6b"),
    "failed": ERROR,
    "skipped": QColor("#77797e"),
    "invalid": ERROR,
}

TYPE_COLORS = {
    "MODEL": "#b39ddb",
    "CLIP": "#ffd54f",
    "VAE": "#ef5350",
    "CONDITIONING": "#ffa726",
    "LATENT": "#f48fb1",
    "IMAGE": "#64b5f6",
    "MASK": "#81c784",
    "NOISE": "#bdbdbd",
    "SAMPLER": "#4db6ac",
    "SIGMAS": "#aed581",
    "GUIDER": "#ce93d8",
    "AUDIO": "#a1887f",
    "VIDEO": "#7986cb",
    "CLIP_VISION": "#a8dadc",
    "CLIP_VISION_OUTPUT": "#ad7452",
    "INT": "#7fd6c2",
    "FLOAT": "#a5d6a7",
    "STRING": "#90caf9",
    "BOOLEAN": "#e6ee9c",
    "*": "#9e9e9e",
}

CATEGORY_COLORS = {
    "basic": "#4a5568",
    "models": "#6b4f8a",
    "conditioning": "#8a6a2f",
    "latent": "#8a4f6b",
    "noise": "#555a60",
    "sampling": "#2f6b66",
    "vae": "#7a3b3b",
    "image": "#2f5a86",
    "mask": "#3f6f45",
    "video": "#3b4a86",
    "audio": "#6b5244",
}

#: Colours offered in the node and group colour menus.
USER_COLORS = {
    "red": "#7a3232", "brown": "#6b4a2f", "green": "#2f6b3a", "blue": "#2f4f7a",
    "cyan": "#2f6b6b", "purple": "#5a3a7a", "yellow": "#7a6a2a", "black": "#202020",
}


def _hashed_color(name: str, saturation: int, value: int) -> QColor:
    hue = int(hashlib.md5(name.encode()).hexdigest()[:4], 16) % 360
    return QColor.fromHsv(hue, saturation, value)


def type_color(type_name: str) -> QColor:
    """The socket and wire colour for a data type; plugin types get a stable hashed colour."""
    known = TYPE_COLORS.get(type_name)
    return QColor(known) if known else _hashed_color(type_name, 120, 220)


def category_color(category: str) -> QColor:
    known = CATEGORY_COLORS.get(category.split("/")[0])
    return QColor(known) if known else _hashed_color(category, 90, 130)


def dark_palette() -> QPalette:
    p = QPalette()
    window, base, text = QColor("#25272b"), QColor("#1c1d20"), QColor("#dcdcdc")
    for role, color in (
        (QPalette.ColorRole.Window, window), (QPalette.ColorRole.WindowText, text),
        (QPalette.ColorRole.Base, base), (QPalette.ColorRole.AlternateBase, QColor("#232529")),
        (QPalette.ColorRole.ToolTipBase, QColor("#2b2d31")), (QPalette.ColorRole.ToolTipText, text),
        (QPalette.ColorRole.Text, text), (QPalette.ColorRole.Button, QColor("#2e3035")),
        (QPalette.ColorRole.ButtonText, text), (QPalette.ColorRole.BrightText, QColor("#ff6b6b")),
        (QPalette.ColorRole.Highlight, QColor("#3d6fb0")),
        (QPalette.ColorRole.HighlightedText, QColor("#ffffff")),
        (QPalette.ColorRole.PlaceholderText, QColor("#7a7d83")),
    ):
        p.setColor(role, color)
    for role in (QPalette.ColorRole.Text, QPalette.ColorRole.WindowText, QPalette.ColorRole.ButtonText):
        p.setColor(QPalette.ColorGroup.Disabled, role, QColor("#6a6d73"))
    return p


STYLESHEET = """
QDockWidget::title { background: #2b2d31; padding: 4px 6px; }
QToolBar { border: none; spacing: 4px; padding: 2px; }
QLineEdit, QPlainTextEdit, QSpinBox, QDoubleSpinBox, QComboBox {
    border: 1px solid #3a3d43; border-radius: 3px; padding: 2px 4px; background: #1c1d20; }
QTreeWidget, QListWidget { border: none; }
QToolTip { border: 1px solid #4a4d53; }
"""


def apply(app) -> None:
    """Dark Fusion style for the whole application."""
    app.setStyle("Fusion")
    app.setPalette(dark_palette())
    app.setStyleSheet(STYLESHEET)
