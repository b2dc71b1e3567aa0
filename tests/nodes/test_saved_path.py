"""Save Image tells the output viewer which file each shown image went to."""

from __future__ import annotations

import torch

from nodeflow.core import RunContext
from nodeflow.core.files import SAVED_PATH_INFO
from nodes.image.load_save import PreviewImage, SaveImage


def test_shown_images_name_the_file_they_were_saved_to(tmp_path):
    shown = []
    ctx = RunContext(output_dir=tmp_path)
    ctx.on_images = lambda node, images: shown.extend(images)
    SaveImage().run(ctx, images=torch.rand(2, 8, 8, 3), filename_prefix="shot")
    assert [p.info[SAVED_PATH_INFO] for p in shown] == [str(tmp_path / "shot_00001.png"),
                                                         str(tmp_path / "shot_00002.png")]
    shown.clear()
    PreviewImage().run(ctx, images=torch.rand(1, 8, 8, 3))
    assert SAVED_PATH_INFO not in shown[0].info
