"""NodeFlow's built-in node library: one module per family, each node a small declaration.

Modules here must import only `nodeflow.core` at top level; torch and diffusers are imported inside
`run`, so listing nodes and opening the GUI never pays for them.
"""
