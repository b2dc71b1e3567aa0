"""Wan 2.1 / 2.2: text- and image-to-video (`_adapter` holds the maths, `video` the ComfyUI nodes)."""
