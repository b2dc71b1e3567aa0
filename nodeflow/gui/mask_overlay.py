"""A painted mask shown over its picture (Load Image's preview on the canvas): the repainted area
tinted, so the node shows what the mask editor made."""

from __future__ import annotations

from PySide6.QtGui import QColor, QImage, QPainter

from nodeflow.core.masks import decode_mask

TINT = QColor(230, 60, 60, 140)


def with_mask_overlay(image: QImage, mask_text: str) -> QImage:
    """`image` with the mask's painted pixels tinted; unchanged for a mask that does not decode
    or does not have the picture's size (the run reports those)."""
    try:
        width, height, pixels = decode_mask(mask_text)
    except ValueError:
        return image
    if (width, height) != (image.width(), image.height()):
        return image
    alpha = QImage(pixels, width, height, width, QImage.Format.Format_Alpha8).copy()
    tint = QImage(width, height, QImage.Format.Format_ARGB32_Premultiplied)
    tint.fill(TINT)
    painter = QPainter(tint)
    painter.setCompositionMode(QPainter.CompositionMode.CompositionMode_DestinationIn)
    painter.drawImage(0, 0, alpha)  # the tint only where the mask is painted
    painter.end()
    shown = image.convertToFormat(QImage.Format.Format_ARGB32_Premultiplied)
    painter = QPainter(shown)
    painter.drawImage(0, 0, tint)
    painter.end()
    return shown
