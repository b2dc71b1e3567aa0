"""The project's own errors. Each names the node and field it is about, so a message is actionable.

Everything a user can get wrong (a broken file, a bad edit, an invalid graph) surfaces as one of
these; anything else escaping the core is a bug.
"""

from __future__ import annotations

from dataclasses import dataclass

#: The most characters of a node id or input name a message quotes: a 10 KB id would push the
#: reason off the screen.
SHOWN_ID_LENGTH = 40


def shown(text: str, limit: int | None = SHOWN_ID_LENGTH) -> str:
    """`text` as a message quotes it: control characters (ESC, newlines...) escaped so nothing a
    file holds can move a terminal's cursor or forge a line, cut to `limit` characters (None: the
    whole line, for what the CLI prints)."""
    text = str(text)
    if not text.isprintable():
        text = "".join(c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in text)
    return text if limit is None or len(text) <= limit else text[:limit - 3] + "..."


#: Characters of an exception's message kept in a one-line report.
MESSAGE_LIMIT = 300


def one_line(exc: BaseException) -> str:
    """An unexpected exception as one readable line, the one wording of every layer: an OS error
    by its reason (and the file it names), anything else by its type and its message, white space
    folded and cut to MESSAGE_LIMIT characters."""
    if isinstance(exc, OSError) and exc.strerror:
        text = exc.strerror + (f": {exc.filename}" if exc.filename else "")
        return shown(text, MESSAGE_LIMIT)
    text = " ".join(str(exc).split())
    if len(text) > MESSAGE_LIMIT:
        text = text[:MESSAGE_LIMIT] + "..."
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a workflow: where it is and what is wrong."""

    message: str
    node_id: str | None = None
    field: str | None = None

    def __str__(self) -> str:
        where = ""
        if self.node_id is not None:
            where = f"node {shown(self.node_id)}"
            if self.field:
                where += f" input '{shown(self.field)}'"
            where += ": "
        return where + shown(self.message, None)  # its words may quote what a file holds


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
