"""NodeFlow's built-in node library: one public module per family, each node a small declaration.

The library registers like any plugin: pyproject.toml names this package in the `nodeflow.nodes`
entry-point group, and the registry (nodeflow/core/registry.py) registers the node classes of every
public module here; `_`-prefixed modules are their helpers (the sampling loop in `_sampling`,
schedulers in `_schedulers`, prompt encoding in `_text_encode`, previews in `_preview`, ...).
Modules here import only `nodeflow.core` at top level, never Qt; torch and diffusers are imported
inside `run` (or lazily, `_lazy`), so listing nodes and opening the GUI never pays for them.
"""
