"""NodeFlow's engine: validation, planning, caching and running of graphs; device choice.

Imports nothing heavy: torch is imported only when a run needs a device.
"""

from nodeflow.engine.executor import Executor, RunResult

__all__ = ["Executor", "RunResult"]
