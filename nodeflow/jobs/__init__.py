"""Batches of jobs: sweeps expand into jobs, a SQLite queue holds them, runners execute them.

A job is a workflow snapshot plus the parameters it overrides. The queue (`store`) is shared by
the GUI and every CLI process; runners execute jobs in this process (`local`) or on Ray actors
(`ray_runner`, Ray imported only there); the driver writes every output file and `index.jsonl`
(`outputs`), which is what makes a killed batch resumable. Depends on engine and core only.
"""
