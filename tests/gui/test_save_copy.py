"""Output viewer's Save a Copy writes atomically: whole files, no temp files left, PNG bytes kept."""

from __future__ import annotations

from PySide6.QtGui import QColor, QImage

from nodeflow.gui.outputs.actions import save_copy


def test_save_copy_keeps_png_bytes_and_encodes_other_targets(qapp, tmp_path):
    image = QImage(4, 3, QImage.Format.Format_RGB32)
    image.fill(QColor("red"))
    source = tmp_path / "made.png"
    source.write_bytes(b"\x89PNG pretend bytes with a workflow inside")
    save_copy(image, source, tmp_path / "copies" / "copy.png")
    assert (tmp_path / "copies" / "copy.png").read_bytes() == source.read_bytes()
    save_copy(image, None, tmp_path / "copies" / "pixels.jpg")
    assert QImage(str(tmp_path / "copies" / "pixels.jpg")).size() == image.size()
    assert sorted(p.name for p in (tmp_path / "copies").iterdir()) == ["copy.png", "pixels.jpg"]
