"""Images the runs produced: a large view of the selected one and a strip of all of them."""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QIcon, QImage, QPixmap
from PySide6.QtWidgets import QLabel, QListWidget, QListWidgetItem, QSizePolicy, QVBoxLayout, QWidget

MAX_KEPT = 200


class OutputViewer(QWidget):
    def __init__(self, parent=None):
        super().__init__(parent)
        self.view = QLabel("No images yet")
        self.view.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.view.setMinimumSize(160, 160)
        self.view.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Ignored)
        self.strip = QListWidget()
        self.strip.setViewMode(QListWidget.ViewMode.IconMode)
        self.strip.setFlow(QListWidget.Flow.LeftToRight)
        self.strip.setWrapping(False)
        self.strip.setIconSize(QSize(64, 64))
        self.strip.setFixedHeight(90)
        self.strip.currentRowChanged.connect(self._show_row)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.strip)
        self.images: list[QImage] = []

    def add_images(self, node_id: str, images: list[QImage]) -> None:
        for image in images:
            self.images.append(image)
            item = QListWidgetItem(QIcon(QPixmap.fromImage(image.scaled(
                64, 64, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.SmoothTransformation))), "")
            item.setToolTip(f"node {node_id} · {image.width()}×{image.height()}")
            self.strip.addItem(item)
        while len(self.images) > MAX_KEPT:
            self.images.pop(0)
            self.strip.takeItem(0)
        self.strip.setCurrentRow(self.strip.count() - 1)

    def _show_row(self, row: int) -> None:
        if 0 <= row < len(self.images):
            self._show(self.images[row])

    def _show(self, image: QImage) -> None:
        pixmap = QPixmap.fromImage(image)
        self.view.setPixmap(pixmap.scaled(self.view.size(), Qt.AspectRatioMode.KeepAspectRatio,
                                          Qt.TransformationMode.SmoothTransformation))

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._show_row(self.strip.currentRow())
