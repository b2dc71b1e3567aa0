"""The project's own errors. Each names the node and field it is about, so a message is actionable.

Everything a user can get wrong (a broken file, a bad edit, an invalid graph) surfaces as one of
these; anything else escaping the core is a bug.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a workflow: where it is and what is wrong."""

    message: str
    node_id: str | None = None
    field: str | None = None

    def __str__(self) -> str:
        where = ""
        if self.node_id is not None:
            where = f"node {self.node_id}"
            if self.field:
                where += f" input '{self.field}'"
            where += ": "
        return where + self.message


class NodeFlowError(Exception):
    """Base class of every error NodeFlow raises on purpose."""


class GraphEditError(NodeFlowError):
    """An edit the graph model refused (wrong type, unknown socket, ...). The graph is unchanged."""

    def __init__(self, message: str, node_id: str | None = None, field: str | None = None):
        self.problem = Problem(message, node_id, field)
        super().__init__(str(self.problem))


class WorkflowFormatError(NodeFlowError):
    """A workflow file that cannot be read: not JSON, wrong shape, unsupported version."""

    def __init__(self, message: str, node_id: str | None = None, field: str | None = None):
        self.problem = Problem(message, node_id, field)
        super().__init__(str(self.problem))


class ValidationError(NodeFlowError):
    """A graph that cannot run. Carries every problem found in one pass, not just the first."""

    def __init__(self, problems: list[Problem]):
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


class NodeError(NodeFlowError):
    """Raised by a node's run method for a failure it understands (bad image, wrong size...)."""

    def __init__(self, message: str, field: str | None = None):
        self.field = field
        super().__init__(message)


class Cancelled(NodeFlowError):
    """The run was cancelled by the user; raised at the next cancel check."""


class Interrupted(BaseException):  # noqa: N818 - named for what happened, like KeyboardInterrupt
    """The process is being stopped (SIGTERM, a second Ctrl+C). Unwinds the whole run.

    A BaseException, so the executor's catch-all for failing nodes lets it through: stopping the
    process is not a node's failure. Files being written are discarded (`core.atomic`).
    """

    def __init__(self, how: str):
        self.how = how
        super().__init__(how)
