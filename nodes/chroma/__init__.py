"""Chroma: a Flux-shaped transformer prompted by T5 alone (with its token mask), no pooled vector or
distilled guidance; real classifier-free guidance. Its maths is in `_adapter`; its declaration in
`nodes.families`."""
