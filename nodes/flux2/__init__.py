"""Flux.2 (dev and Klein): the families' maths (`_adapter`, `_dev`) and ComfyUI's Flux.2 scheduler."""
