"""Flux.2 (Klein): the family's maths (`_adapter`); its nodes are ComfyUI's Flux.2 vocabulary."""
