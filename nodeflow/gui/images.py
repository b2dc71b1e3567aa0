"""Turning the run's images (PIL, from the worker thread) into QImages for the canvas and viewer."""

from __future__ import annotations

from typing import Any

from PySide6.QtGui import QImage


def to_qimage(image: Any) -> QImage | None:
    """A deep-copied QImage from a PIL image (or a QImage); None for anything else."""
    if isinstance(image, QImage):
        return image.copy()
    if not hasattr(image, "convert") or not hasattr(image, "size"):
        return None
    rgba = image.convert("RGBA")
    width, height = rgba.size
    data = rgba.tobytes("raw", "RGBA")
    return QImage(data, width, height, width * 4, QImage.Format.Format_RGBA8888).copy()
