"""Queue & History: the shared job queue as a panel (the same store as `nodeflow queue`).

Top: Run ×N and Sweep… queue jobs of the current workflow (the toolbar's Run queues one);
Pause holds the queue; Stop cancels the running job only, as the toolbar's Stop does. Queued:
every waiting or running job (the editor's and other processes'), reorderable, each cancellable.
History: finished jobs with a thumbnail, time and status; the selected one's images show below
and its workflow (with the job's overrides) can be opened.
The lists follow the store on a timer, so jobs of a `nodeflow run` in a terminal appear too.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QSize, Qt, QTimer, Signal
from PySide6.QtGui import QIcon, QPixmap
from PySide6.QtWidgets import (
    QCheckBox,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSizePolicy,
    QSpinBox,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from nodeflow.core import workflow
from nodeflow.core.errors import NodeFlowError
from nodeflow.core.graph import Graph
from nodeflow.core.registry import Registry
from nodeflow.gui.job_runner import GUI_BATCH, JobQueueRunner
from nodeflow.gui.sweep_dialog import SweepDialog
from nodeflow.jobs.batch import Source, enqueue
from nodeflow.jobs.store import FINISHED, Job, JobStore
from nodeflow.jobs.sweep import JobSpec, apply, expand

THUMB = 48
HISTORY_LIMIT = 300


@dataclass(frozen=True)
class Current:
    """The workflow Run ×N and Sweep… queue: the graph, its folder, the output folder, a name."""

    graph: Graph
    workflow_dir: Path | None
    out_dir: Path
    name: str


class QueuePanel(QWidget):
    open_workflow = Signal(str, str)  # (workflow JSON with the job's overrides, title)
    images_selected = Signal(list)  # paths of the selected finished job's files
    message = Signal(str)  # a line for the run log (why nothing was queued)
    seeds_next = Signal(dict)  # {"NODE.INPUT": seed} the next Run ×N starts from
    jobs_queued = Signal(list, object)  # (ids of the jobs just queued, the graph they were queued from)

    def __init__(self, store: JobStore, runner: JobQueueRunner, current: Callable[[], Current | None],
                 registry: Registry, parent=None, poll_ms: int = 700):
        super().__init__(parent)
        self.store, self.runner, self.current, self.registry = store, runner, current, registry
        self._thumbs: dict[int, QIcon] = {}
        self._shown: tuple = ()
        self.run_button = QPushButton("Run ×")
        self.count = QSpinBox()
        self.count.setRange(1, 999)
        self.sweep_button = QPushButton("Sweep…")
        self.pause_box = QCheckBox("Pause")
        self.stop_button = QPushButton("Stop")
        self.stop_button.setToolTip("Cancel the running job; the queue goes on")
        self.queued = QListWidget()
        self.up_button, self.down_button = QPushButton("Up"), QPushButton("Down")
        self.cancel_button = QPushButton("Cancel")
        self.history = QListWidget()
        self.history.setIconSize(QSize(THUMB, THUMB))
        self.open_button, self.retry_button = QPushButton("Open workflow"), QPushButton("Retry")
        self.clear_button = QPushButton("Clear history")
        for box in (self.queued, self.history):
            box.setMinimumHeight(THUMB)  # the panel fits under the canvas of a 1280x720 screen
        self.status = QLabel("")
        self.preview = QLabel("")
        self.preview.setMinimumWidth(THUMB * 2)
        # a picture shown there never grows the panel
        self.preview.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Ignored)
        self.preview.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self._layout()
        self.run_button.clicked.connect(self.run_n)
        self.sweep_button.clicked.connect(self.sweep)
        self.pause_box.toggled.connect(self.runner.set_paused)
        self.stop_button.clicked.connect(self.stop)
        self.up_button.clicked.connect(lambda: self.move_selected(-1))
        self.down_button.clicked.connect(lambda: self.move_selected(1))
        self.cancel_button.clicked.connect(self.cancel_selected)
        self.history.currentItemChanged.connect(lambda *_: self._show_selected())
        self.open_button.clicked.connect(self.open_selected)
        self.retry_button.clicked.connect(self.retry_selected)
        self.clear_button.clicked.connect(self.clear_history)
        self.runner.job_finished.connect(lambda *_: self.refresh())
        self.pause_box.setChecked(self.store.paused(self.runner.batch))
        self.timer = QTimer(self)
        self.timer.timeout.connect(self.refresh)
        self.timer.start(poll_ms)
        self.refresh()

    def _layout(self) -> None:
        top = QHBoxLayout()
        for widget in (self.run_button, self.count, self.sweep_button):
            top.addWidget(widget)
        top.addStretch(1)
        top.addWidget(self.pause_box)
        top.addWidget(self.stop_button)
        queued = QWidget()
        column = QVBoxLayout(queued)
        column.setContentsMargins(0, 0, 0, 0)
        column.addWidget(QLabel("Queued"))
        column.addWidget(self.queued)
        row = QHBoxLayout()
        for widget in (self.up_button, self.down_button, self.cancel_button):
            row.addWidget(widget)
        column.addLayout(row)
        history = QWidget()
        column = QVBoxLayout(history)
        column.setContentsMargins(0, 0, 0, 0)
        column.addWidget(QLabel("History"))
        column.addWidget(self.history)
        row = QHBoxLayout()
        for widget in (self.open_button, self.retry_button, self.clear_button):
            row.addWidget(widget)
        column.addLayout(row)
        # Side by side, not stacked: the panel must fit under the canvas of a 1280x720 screen
        # with its buttons showing (stacked, the preview alone pushed the window to 791 px).
        self.preview.setWordWrap(True)
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(queued)
        split.addWidget(history)
        split.addWidget(self.preview)
        split.setSizes([300, 300, THUMB * 3])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(top)
        layout.addWidget(split, 1)
        layout.addWidget(self.status)

    # -- queueing -------------------------------------------------------------------------------

    def run_n(self) -> list[int]:
        """Queue the current workflow N times (every seed +1 per run, as `--repeat`); the next
        press goes on from the seeds after the last job's (`seeds_next`), never repeating them."""
        current = self.current()
        if current is None:
            return []
        count = self.count.value()
        ids = self._enqueue(current, expand([current.graph], [], repeat=count))
        if ids:  # the job after the last one queued: where the seeds go on from (the one rule, in expand)
            self.seeds_next.emit(expand([current.graph], [], repeat=count + 1)[-1].overrides)
        return ids

    def sweep(self) -> list[int]:
        current = self.current()
        if current is None:
            return []
        dialog = SweepDialog(current.graph, self)
        if not dialog.exec():
            return []
        return self._enqueue(current, dialog.jobs)

    def _enqueue(self, current: Current, specs: list[JobSpec]) -> list[int]:
        try:
            ids = enqueue(self.store, self.runner.batch, Source(current.name, current.graph, current.workflow_dir),
                          specs, current.out_dir)
        except NodeFlowError as exc:
            self.status.setText(str(exc).splitlines()[0])
            self.message.emit(f"nothing queued: {exc}")
            return []
        self.status.setText(f"queued {len(ids)} job{'s' * (len(ids) != 1)}")
        self.jobs_queued.emit(ids, current.graph)
        self.runner.start()
        self.refresh()
        return ids

    # -- queue actions --------------------------------------------------------------------------

    def stop(self) -> None:
        job = self.runner.stop_current()
        self.status.setText(f"stopping job {job.number}" if job else "no job is running")
        self.refresh()

    def _selected(self, widget: QListWidget) -> Job | None:
        item = widget.currentItem()
        return item.data(Qt.ItemDataRole.UserRole) if item is not None else None

    def move_selected(self, step: int) -> None:
        job = self._selected(self.queued)
        waiting = self.store.jobs(states=["queued"])
        ids = [j.id for j in waiting]
        if job is None or job.id not in ids:
            return
        index = ids.index(job.id) + step
        if index < 0 or index >= len(ids):
            return
        before = ids[index] if step < 0 else (ids[index + 1] if index + 1 < len(ids) else None)
        self.store.move(job.id, before)
        self.refresh()
        self._select(self.queued, job.id)

    def cancel_selected(self) -> None:
        job = self._selected(self.queued)
        if job is not None:
            try:
                self.store.cancel(job.id)
            except NodeFlowError as exc:
                self.status.setText(str(exc))
            self.refresh()

    def retry_selected(self) -> None:
        job = self._selected(self.history)
        if job is not None and job.state in ("failed", "cancelled"):
            self.store.retry(job.id)
            self.runner.start()
            self.refresh()

    def clear_history(self) -> None:
        self.store.clear()
        self._thumbs.clear()
        self.refresh()

    def open_selected(self) -> None:
        """Open the selected job's workflow as it ran: the snapshot with its overrides applied."""
        job = self._selected(self.history)
        if job is None:
            return
        graph, _ = workflow.loads(job.workflow, self.registry)
        self.open_workflow.emit(workflow.dumps(apply(graph, job.overrides)), f"{Path(job.name).stem} #{job.number}")

    # -- showing the store ----------------------------------------------------------------------

    def refresh(self) -> None:
        jobs = self.store.jobs()
        shown = tuple((j.id, j.state, j.position) for j in jobs)
        if shown == self._shown:
            return
        self._shown = shown
        waiting = [j for j in jobs if j.state in ("queued", "running")]
        waiting.sort(key=lambda j: (j.state != "running", j.position))
        finished = sorted((j for j in jobs if j.state in FINISHED), key=lambda j: j.finished or 0, reverse=True)
        self._fill(self.queued, waiting[:HISTORY_LIMIT], thumbs=False)
        self._fill(self.history, finished[:HISTORY_LIMIT], thumbs=True)
        self.stop_button.setEnabled(self.runner.current() is not None)

    def _fill(self, widget: QListWidget, jobs: list[Job], thumbs: bool) -> None:
        chosen = self._selected(widget)
        scrolled = widget.verticalScrollBar().value()  # the list must not move under the pointer
        widget.blockSignals(True)
        widget.clear()
        for job in jobs:
            item = QListWidgetItem(_describe(job))
            item.setData(Qt.ItemDataRole.UserRole, job)
            if thumbs:
                item.setIcon(self._thumb(job))
            widget.addItem(item)
        if chosen is not None:
            self._select(widget, chosen.id)  # quietly: a refresh is no new selection
        widget.verticalScrollBar().setValue(scrolled)
        widget.blockSignals(False)

    def _select(self, widget: QListWidget, job_id: int) -> None:
        for row in range(widget.count()):
            if widget.item(row).data(Qt.ItemDataRole.UserRole).id == job_id:
                widget.setCurrentRow(row)
                return

    def _thumb(self, job: Job) -> QIcon:
        if job.id not in self._thumbs:
            images = job_images(job)
            pixmap = QPixmap(str(images[0])) if images else QPixmap()
            self._thumbs[job.id] = QIcon(pixmap.scaled(THUMB, THUMB, Qt.AspectRatioMode.KeepAspectRatio)
                                         if not pixmap.isNull() else pixmap)
        return self._thumbs[job.id]

    def _show_selected(self) -> None:
        job = self._selected(self.history)
        images = job_images(job) if job is not None else []
        if images:
            pixmap = QPixmap(str(images[0]))
            self.preview.setPixmap(pixmap.scaled(self.preview.size().expandedTo(QSize(THUMB, THUMB)),
                                                 Qt.AspectRatioMode.KeepAspectRatio,
                                                 Qt.TransformationMode.SmoothTransformation))
        else:
            self.preview.clear()
            self.preview.setText(job.error if job is not None and job.error else "")
        self.images_selected.emit(images)


def job_images(job: Job) -> list[Path]:
    """The pictures a finished job wrote (its files that are images and exist)."""
    paths = [Path(job.out_dir) / name for name in job.outputs]
    return [p for p in paths if p.suffix.lower() in (".png", ".jpg", ".jpeg", ".webp") and p.is_file()]


def _describe(job: Job) -> str:
    overrides = " ".join(f"{k}={v}" for k, v in job.overrides.items())
    seconds = f"  {job.seconds:.1f}s" if job.seconds is not None else ""
    origin = "" if job.batch == GUI_BATCH else "  (terminal)"
    return f"#{job.number} {Path(job.name).name} {overrides}  {job.state}{seconds}{origin}"
