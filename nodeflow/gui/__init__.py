"""NodeFlow's desktop editor (PySide6). Every edit goes through the core graph model.

Where each job lives:
- main_window.py wires the parts together; document.py is one open workflow (graph, path, undo)
  and commands.py its undo steps; file_ops.py New/Open/Save (signals to the window), settings.py
  what is remembered between sessions, autosave.py the crash backup;
- edit_actions.py the selection's edit operations (owned by the window, used by menus and view);
- wire_rules.py which sockets a dragged wire may reach (the rule itself is core/connections.py),
  node_search.py search ranking, auto_layout.py positions for files without any, clipboard.py
  copy/paste as workflow JSON;
- canvas/: the scene (follows the graph's signals, commits moves) and its items, which see it
  only through canvas/host.py; node_paint.py how a node looks, layout.py where its rows go,
  theme.py (here) every colour, including socket colours; wire_route.py where a wire goes (around
  nodes), wire_hits.py which wire lies at a place, rect_index.py where nodes and wires are;
- run_actions.py Run/Stop/Validate: every run is a job of the shared queue (jobs.store), which
  job_runner.py works off on a worker thread; run_states.py shows its engine events on the nodes.
Nothing here imports torch: the engine is imported when a run starts.
"""
