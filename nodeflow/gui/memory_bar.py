"""The memory budget and the estimate before Run, in the main toolbar.

The budget is kept where the core sees it: the text in `Settings.memory_budget` (persisted) and
the bytes in the executor's memory manager (`JobQueueRunner.apply_memory_budget`); this widget only
shows and edits them. The estimate is `Executor.check`, the same call that refuses a run, so the
label and Run never disagree: amber when the workflow's peak is over the budget (components will
be evicted or offloaded: slower, same pictures), red when a node cannot fit (Run refuses it). The
peak shown is what the workflow asks for if nothing were evicted; the tooltip lists each node's
planned peak under the budget and what it needs, as `nodeflow plan` prints them. It is recomputed
shortly after edits (debounced), when another workflow opens and after each run (the cache then
serves nodes, which changes the plan; output nodes always run, as each run is a job that writes
its own files). It reads model sizes from file headers, never torch.
"""

from __future__ import annotations

import html
import logging
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import QComboBox, QDialog, QHBoxLayout, QLabel, QScrollArea, QToolButton, QVBoxLayout, QWidget

from nodeflow.gui import theme
from nodeflow.gui.document import Document
from nodeflow.gui.job_runner import JobQueueRunner
from nodeflow.gui.settings import Settings

log = logging.getLogger(__name__)

AUTO = "Auto"
PRESETS = (AUTO, "2 GB", "4 GB", "6 GB", "8 GB", "12 GB", "16 GB", "24 GB")
DEBOUNCE_MS = 300
MAX_TOOLTIP_PROBLEMS = 12


class MemoryBar(QWidget):
    """"Memory budget: [Auto v]  Peak ≈ 683 MB of 16.9 GB"; `message` carries status-bar lines."""

    message = Signal(str)

    def __init__(self, settings: Settings, runner: JobQueueRunner, document: Document,
                 workflow_dir: Callable[[], Path | None], parent: QWidget | None = None,
                 output_dir: Callable[[], Path | None] = lambda: None) -> None:
        """`output_dir`: where Run saves (an output node's cached result holds for that folder)."""
        super().__init__(parent)
        self.settings, self.runner, self.document, self.workflow_dir = settings, runner, document, workflow_dir
        self.output_dir = output_dir
        self.combo = QComboBox()
        self.combo.setEditable(True)
        self.combo.addItems(PRESETS)
        self.combo.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self.combo.setMinimumContentsLength(6)
        self.combo.setToolTip("Memory for models and cached results on the run device. Auto: what is "
                              "free when a run starts (VRAM on a GPU, RAM otherwise). Type a size such "
                              "as 3.5GB or 800MB and press Enter.")
        self.combo.setCurrentText(settings.memory_budget or AUTO)
        self.estimate = QToolButton()  # a button: a click opens the plan, for whom tooltips are too brief
        self.estimate.setText("Peak ≈ …")
        self.estimate.setAutoRaise(True)
        self.estimate.setCursor(Qt.CursorShape.PointingHandCursor)
        self.estimate.setObjectName("memory-estimate")
        self.estimate.clicked.connect(self.show_details)
        self.details: QDialog | None = None
        self._details_html = ""
        layout = QHBoxLayout(self)
        layout.setContentsMargins(6, 0, 6, 0)
        layout.addWidget(QLabel("Memory budget:"))
        layout.addWidget(self.combo)
        layout.addSpacing(6)
        layout.addWidget(self.estimate)
        self.timer = QTimer(self)
        self.timer.setSingleShot(True)
        self.timer.setInterval(DEBOUNCE_MS)
        self.timer.timeout.connect(self.refresh)
        self.combo.activated.connect(lambda _index: self.choose(self.combo.currentText()))
        self.combo.lineEdit().editingFinished.connect(lambda: self.choose(self.combo.currentText()))
        self._titles: dict[str, str] = {}  # node id -> title in the plan shown
        self._layout_only = False  # the edit being reported moved, resized or recoloured only
        self._hooked = None
        self._hook()
        document.graph_replaced.connect(self._hook)
        document.edited.connect(self._edited)
        document.graph_replaced.connect(self.schedule)
        runner.job_finished.connect(lambda *_: self.schedule())
        self.schedule()

    def choose(self, text: str) -> bool:
        """Take the budget the user picked or typed; a text that is not a size keeps the old one.
        Returns whether the budget is `text` now."""
        from nodeflow.core.byte_sizes import format_bytes, parse_size

        text = text.strip()
        value = "" if text.lower() in ("", AUTO.lower()) else text
        if value == self.settings.memory_budget:
            self.combo.setCurrentText(value or AUTO)
            return True
        try:
            size = parse_size(value) if value else None
        except ValueError as exc:
            self.combo.setCurrentText(self.settings.memory_budget or AUTO)
            self.message.emit(f"Memory budget: {exc}; keeping {self.settings.memory_budget or AUTO}")
            return False
        self.settings.memory_budget = value
        self.settings.save()
        self.combo.setCurrentText(value or AUTO)
        self.runner.apply_memory_budget()
        self.message.emit("Memory budget: automatic (what is free when a run starts)" if size is None
                          else f"Memory budget: {format_bytes(size)}")
        self.refresh()
        return True

    def _hook(self) -> None:
        """Listen to the graph's finer signals, to tell layout edits (which cannot change the plan,
        and come with every drag) from the rest."""
        graph = self.document.graph
        if self._hooked is not None:
            self._hooked.node_changed.disconnect(self._node_changed)
            self._hooked.group_changed.disconnect(self._group_changed)
        graph.node_changed.connect(self._node_changed)
        graph.group_changed.connect(self._group_changed)
        self._hooked = graph

    def _node_changed(self, node_id: str, what: str) -> None:
        title = self.document.graph.title(node_id) if node_id in self.document.graph.nodes else None
        self._layout_only = what == "ui" and title == self._titles.get(node_id, title)

    def _group_changed(self, _group_id: str) -> None:
        self._layout_only = True

    def _edited(self) -> None:
        layout_only, self._layout_only = self._layout_only, False
        if not layout_only:
            self.schedule()

    def schedule(self) -> None:
        """Recompute soon: a burst of edits (typing, dragging) costs one estimate."""
        self.timer.start()

    def refresh(self) -> None:
        """Show the plan of the graph as it is now (the check Run makes, without running)."""
        from nodeflow.core.byte_sizes import format_bytes
        from nodeflow.engine.outcome import describe
        from nodeflow.engine.plan_verdict import CANNOT, OVER, peak_keeping_all, verdict

        self.timer.stop()
        try:
            problems, plan = self.runner.executor.check(self.document.workflow, self.workflow_dir(),
                                                        output_dir=self.output_dir())
        except Exception as exc:  # a plugin's broken declaration must not break editing
            log.exception("memory estimate failed")
            self._show("Peak ≈ —", None, "No estimate: checking the workflow failed:", [describe(exc)], "")
            return
        if plan is None:
            self._show("Peak ≈ —", None, "No estimate until the workflow is valid:", problems, "")
            return
        self._titles = {n.node_id: n.title for n in plan.nodes}
        shown = f"Peak ≈ {format_bytes(peak_keeping_all(plan))} of {format_bytes(plan.budget)}"
        level = verdict(plan, problems)
        if level == CANNOT:
            self._show(f"{shown}: cannot fit", theme.ERROR.name(),
                       "Run refuses this workflow under this budget:", problems, _table(plan))
        elif level == OVER:
            self._show(f"{shown}: over budget", theme.WARNING.name(),
                       "Over budget: models are evicted (or offloaded to RAM) as nodes need room; the "
                       "run is slower but gives the same pictures.", [], _table(plan))
        else:
            self._show(shown, None, "Fits in the budget.", [], _table(plan))

    def show_details(self) -> QDialog:
        """The plan in a window of its own (not modal: it follows edits while it is open)."""
        if self.details is None:
            self.details = QDialog(self.window())
            self.details.setWindowTitle("Memory plan")
            text = QLabel()
            text.setObjectName("memory-plan-text")
            text.setWordWrap(True)
            text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            text.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
            scroll = QScrollArea()
            scroll.setWidgetResizable(True)
            scroll.setWidget(text)
            QVBoxLayout(self.details).addWidget(scroll)
            self.details.resize(760, 360)
        self.details.findChild(QLabel, "memory-plan-text").setText(self._details_html)
        self.details.show()
        self.details.raise_()
        return self.details

    def _show(self, text: str, color: str | None, headline: str, problems: list, table: str) -> None:
        self.estimate.setText(text)
        # scoped to the button: a bare rule would colour its tooltip's text too
        self.estimate.setStyleSheet(f"QToolButton {{ color: {color}; font-weight: bold; }}" if color else "")

        def listed(items: list) -> str:
            return f"<ul>{''.join(f'<li>{item}</li>' for item in items)}</ul>" if items else ""

        lines = [html.escape(str(p)) for p in problems]
        more = [f"… and {len(lines) - MAX_TOOLTIP_PROBLEMS} more"] if len(lines) > MAX_TOOLTIP_PROBLEMS else []
        head = f"<p>{html.escape(headline)}</p>"
        self.estimate.setToolTip(head + listed(lines[:MAX_TOOLTIP_PROBLEMS] + more) + table
                                 + "<p><i>Click for this plan in a window.</i></p>")
        self._details_html = head + listed(lines) + table
        if self.details is not None and self.details.isVisible():
            self.show_details()


def _table(plan) -> str:
    """Each node's peak and what it needs (the rows `nodeflow plan` prints), as an HTML table."""
    from nodeflow.core.byte_sizes import format_bytes

    rows = []
    for n in plan.nodes:
        cells = (n.node_id, n.title, "cached" if n.cached else "run", format_bytes(n.peak), n.described())
        rows.append("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in cells) + "</tr>")
    head = "".join(f"<th align='left'>{h}</th>" for h in ("node", "title", "cache", "peak", "needs"))
    intro = (f"On {html.escape(plan.device)}, budget {format_bytes(plan.budget)}; planned peak "
             f"{format_bytes(plan.peak)} (evicting as nodes need room):")
    moves = "".join(f"<li>{html.escape(line)}</li>" for line in plan.moves())
    return (f"<p>{intro}</p><table cellspacing='4'><tr>{head}</tr>{''.join(rows)}</table>"
            + (f"<ul>{moves}</ul>" if moves else ""))
