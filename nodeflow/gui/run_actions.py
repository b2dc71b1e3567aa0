"""Run, Stop and Validate for the main window, over the editor's one run queue (`job_runner`).

Run validates the open workflow (problems are marked on their nodes before anything is queued),
then queues it as a one-job batch into the editor's batch of the job store, as Run ×N queues N
jobs; pressing Run again queues another. While a job queued from the open workflow runs (Run's,
Run ×N's, Sweep's), its engine events light up the canvas and fill the run panel; when any job of
the editor ends, the pictures it saved go to Output under the names the queue wrote them, and a
finished run of the open workflow records its manifest there. A job from another workflow (or an
earlier session) shows in the Queue tab and in Output, never on this canvas, whose node ids are
not its. Stop is the runner's `stop_current`, the store's cancel of the running job: the queued
runs go on, and the Queue tab cancels those.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject
from PySide6.QtGui import QImage

from nodeflow.core import workflow
from nodeflow.core.errors import MESSAGE_LIMIT, NodeFlowError, shown
from nodeflow.core.graph import Graph
from nodeflow.engine import events as ev
from nodeflow.gui import run_states
from nodeflow.gui.job_runner import JobQueueRunner, WorkerCrashed
from nodeflow.gui.outputs.entries import OutputImage, output_images, saved_path, upstream_seeds
from nodeflow.gui.queue_panel import Current, job_images
from nodeflow.jobs.batch import Source, enqueue
from nodeflow.jobs.execute import Outcome, scratch_root
from nodeflow.jobs.store import Job
from nodeflow.jobs.sweep import apply, expand


class RunActions(QObject):
    def __init__(self, window, runner: JobQueueRunner):
        super().__init__(window)
        self.window, self.runner = window, runner
        self._origins: dict[int, Graph] = {}  # job id -> the workflow it was queued from, in this window
        self._watched: Job | None = None  # the running job shown on the canvas
        self._graph: Graph | None = None  # the watched job's graph as it runs (its pictures' seeds)
        self._started = False  # the watched job's run got past validation (RunStarted came)
        runner.event.connect(self._event)
        runner.job_started.connect(self._job_started)
        runner.job_finished.connect(self._job_finished)
        window.document.graph_replaced.connect(self._graph_replaced)

    def current(self) -> Current:
        """What Run, Run ×N and Sweep… queue: the open workflow, its folder, the output folder."""
        doc = self.window.document
        return Current(doc.workflow, self.workflow_dir(), Path(self.window.output_dir),
                       doc.path.name if doc.path is not None else "untitled")

    def workflow_dir(self) -> Path | None:
        path = self.window.document.path
        return path.parent if path is not None else None

    def watch(self, job_ids: list[int], graph: Graph) -> None:
        """Jobs queued from `graph`: shown on the canvas while it is the open workflow."""
        self._origins.update(dict.fromkeys(job_ids, graph))

    # -- the user's actions --------------------------------------------------------------------

    def mark_problems(self) -> list:
        problems = self.runner.executor.validate(self.window.document.workflow, self.workflow_dir())
        run_states.show_problems(self.window.scene, problems)
        return problems

    def validate(self) -> list:
        problems = self.mark_problems()
        for problem in problems:
            self.window.run_panel.log_line(f"problem: {problem}")
        self.window.status(f"{len(problems)} problem(s) found" if problems else "The workflow is valid")
        return problems

    def run(self) -> Job | None:
        """Validate, then queue the open workflow as a one-job batch. Returns the job, if queued."""
        panel = self.window.run_panel
        if self.validate():
            panel.status.setText("Cannot run: fix the problems marked on the nodes")
            return None
        current = self.current()
        try:
            source = Source(current.name, current.graph, current.workflow_dir)
            ids = enqueue(self.runner.store, self.runner.batch, source, expand([current.graph], []), current.out_dir)
        except NodeFlowError as exc:  # an output folder it may not write to, a locked queue
            run_states.show_problems(self.window.scene, getattr(exc, "problems", []))
            panel.status.setText(f"Cannot run: {_first_line(str(exc))}")
            panel.log_line(f"nothing queued: {exc}")
            return None
        job = self.runner.store.get(ids[0])
        self.watch(ids, current.graph)
        self.window.document.advance_seeds()
        self.window.status(f"Run {job.number} queued")
        self.runner.start()
        self._show_queue()
        return job

    def stop(self) -> None:
        job = self.runner.stop_current()
        self.window.status(f"Stopping run {job.number}…" if job is not None else "Nothing is running")

    # -- what the queue reports ----------------------------------------------------------------

    def _show_queue(self) -> None:
        store = self.runner.store
        self.window.run_panel.set_queue([j.number for j in store.jobs(self.runner.batch, ["queued"])])

    def _job_started(self, job: Job) -> None:
        window = self.window
        window.actions_["stop"].setEnabled(True)
        self._watched = job if self._origins.get(job.id) is window.document.workflow else None
        self._started = False
        if self._watched is not None:
            self._graph = _graph_of(job, window.registry)
            window.run_panel.titles = {i: item.title for i, item in window.scene.nodes.items()}
            window.run_panel.status.setText(f"Run {job.number}: starting…")
        else:
            window.run_panel.status.setText(f"Job {job.number} ({Path(job.name).name}) running")
        self._show_queue()

    def _graph_replaced(self) -> None:
        """Another workflow is open: the running job's events are not this canvas's any more."""
        if self._watched is not None and self._origins.get(self._watched.id) is not self.window.document.workflow:
            self._watched = None

    def _event(self, event) -> None:
        window = self.window
        if isinstance(event, WorkerCrashed):
            window.run_panel.handle(event)
            return
        if self._watched is None or isinstance(event, ev.NodeMessage) and scratch_root() in event.text:
            return  # another job's, or "saved <scratch file>": the file's own name comes when it is written
        run_states.apply(window.scene, event)
        window.run_panel.handle(event)
        if isinstance(event, ev.RunStarted):
            self._started = True
        elif isinstance(event, ev.NodeImages):  # saved pictures come when the queue has written them
            unsaved = [image for image in event.images if saved_path(image) is None]
            window.output_viewer.add_images(output_images(unsaved, event.node_id, self._graph))
        elif isinstance(event, ev.RunFinished):
            if event.cancelled:
                run_states.finish_cancelled(window.scene)
            window.status(window.run_panel.status.text())

    def _job_finished(self, job: Job, outcome: Outcome, names: dict[str, str]) -> None:
        window = self.window
        watched = self._watched is not None and self._watched.id == job.id
        self._watched = None
        origin = self._origins.pop(job.id, None)
        window.actions_["stop"].setEnabled(False)
        if outcome.status == "done" and origin is not None and origin is window.document.workflow:
            # a record of what the run ran with (versions, model hashes), so Save keeps it; not an edit
            window.document.workflow.manifest = dict(outcome.manifest)
        if outcome.status == "failed":
            window.run_panel.log_line(f"run {job.number} failed: {outcome.error}")
            if not (watched and self._started):  # no node told it (its run never started)
                window.run_panel.status.setText(f"Run {job.number} failed: {_first_line(outcome.error)}")
        if not watched:
            window.status(f"job {job.number} {outcome.status}")
        for name in names.values():
            window.run_panel.log_line(f"run {job.number} saved {Path(job.out_dir) / name}")
        graph = self._graph if watched else _graph_of(job, window.registry)
        images = _saved_images(self.runner.store.get(job.id), outcome, names, graph)
        if images:
            window.output_viewer.add_images(images)
        self._show_queue()


def _graph_of(job: Job, registry) -> Graph | None:
    """The graph a job ran: its snapshot with its overrides (the seeds its pictures came from)."""
    try:
        return apply(workflow.loads(job.workflow, registry)[0], job.overrides)
    except NodeFlowError:  # a snapshot this version cannot read: its pictures show without seeds
        return None


def _first_line(text: str) -> str:
    return shown(text.splitlines()[0] if text else "", MESSAGE_LIMIT)


def _saved_images(job: Job, outcome: Outcome, names: dict[str, str], graph: Graph | None) -> list[OutputImage]:
    """A finished job's saved pictures as Output entries, each with the node that saved it and the
    seeds it came from."""
    saver = {names[rel]: node for rel, (node, _field) in outcome.saved_by.items() if rel in names}
    entries = []
    for path in job_images(job):
        node = saver.get(path.relative_to(job.out_dir).as_posix(), "")
        image = QImage(str(path))
        if not image.isNull():
            entries.append(OutputImage(image, node or "queue", path, upstream_seeds(graph, node)))
    return entries
