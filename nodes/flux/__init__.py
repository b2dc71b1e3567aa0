"""Flux.1 (dev, schnell, Kontext, Fill) nodes: guidance, prompts with one text per encoder, and
Kontext's reference pictures. The family's maths is in `_adapter`; its declaration in
`nodes.families`."""
