"""NodeFlow's built-in node library: one subpackage per family, each node a small declaration.

The library registers like any plugin: pyproject.toml names this package in the `nodeflow.nodes`
entry-point group, and the registry (nodeflow/core/registry.py) registers the node classes of every
public module of every public subpackage. `_`-prefixed modules are helpers, and helpers never
import public node modules. `values` holds the values that travel on links (Model, Clip, Vae,
Conditioning, ...) and `media` the sound and video ones (AUDIO, VIDEO): they are the plugin API.
Modules here import only `nodeflow.core` at top level, never Qt; torch and diffusers are imported
inside `run` (or lazily, `_lazy`), so listing nodes and opening the GUI never pays for them.
"""
