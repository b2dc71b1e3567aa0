"""Stable Diffusion 3 / 3.5 nodes (prompts with one text per encoder). The family's maths is in
`_adapter`; its declaration in `nodes.families`."""
