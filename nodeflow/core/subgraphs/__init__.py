"""Subgraphs: reusable, linked, versioned nodes made of nodes (Qt-free, torch-free).

- `definition`: a definition (inner nodes and links, exposed sockets, promoted widgets, version,
  socket migrations) and the boundary ids its links use.
- `overlay`: the node class each definition stands for, so an instance is an ordinary node to the
  graph model, the editor and validation; `SubgraphRegistry` adds those classes to a registry.
- `expand`: instances unfolded into ordinary nodes with ids `<instance>:<inner>`, the node count
  bounded before anything is made.
- `edit`: linked edits (a new definition version migrates every instance), detach, convert a
  selection into a subgraph.
- `files`: a definition as its own file, for a library of subgraphs shared between workflows.

This package's `__init__` imports nothing, so `core.graph` can use `overlay` without a circle.
"""
