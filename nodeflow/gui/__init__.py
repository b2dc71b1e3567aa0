"""NodeFlow's desktop editor (PySide6). Every edit goes through the core graph model.

The scene and its items follow the graph's signals; undo commands only call graph methods;
interaction rules (which sockets may connect, where a drop goes) live in plain objects in
`interaction.py`. Nothing here imports torch: the engine is imported when a run starts.
"""
