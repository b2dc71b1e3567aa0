"""Put the Queue & History panel into the main window: a dock beside the Run panel.

Jobs run on the window's own Executor (one set of loaded models; the executor's lock runs them
one at a time with interactive runs), are queued from the open document into the window's
output folder, show their images in the output viewer and open their workflow as an unsaved
document. The application calls `install` once the window is built; the queue's worker stops
(re-queueing its job) when the application quits.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QCoreApplication, Qt
from PySide6.QtGui import QImage

from nodeflow.core.errors import WorkflowFormatError
from nodeflow.gui.job_runner import JobQueueRunner
from nodeflow.gui.outputs.entries import OutputImage
from nodeflow.gui.queue_panel import Current, QueuePanel, job_images
from nodeflow.jobs.store import JobStore


def install(window) -> QueuePanel:
    """Create the panel for `window` (a MainWindow) and dock it, tabbed with the Run panel."""
    store = JobStore()
    runner = JobQueueRunner(store, lambda: window.runner.executor)

    def current() -> Current:
        path = window.document.path
        return Current(window.document.graph, window._workflow_dir(), Path(window.output_dir),
                       path.name if path is not None else "untitled")

    panel = QueuePanel(store, runner, current, window.registry)
    window.docks["queue"] = window._dock("Queue", panel, Qt.DockWidgetArea.BottomDockWidgetArea)
    window.tabifyDockWidget(window.docks["run"], window.docks["queue"])
    window.docks["run"].raise_()
    panel.message.connect(window.run_panel.log_line)
    panel.images_selected.connect(lambda paths: _show(window, paths))
    panel.open_workflow.connect(lambda text, title: _open(window, text, title))
    runner.job_finished.connect(lambda job_id, status: _finished(window, store.get(job_id), status))
    panel.seeds_next.connect(lambda seeds: _continue_seeds(window, seeds))
    app = QCoreApplication.instance()
    if app is not None:
        app.aboutToQuit.connect(runner.shutdown)
    runner.start()  # jobs left queued (or re-queued after a crash) by the last session
    return panel


def _finished(window, job, status: str) -> None:
    """A queued job ended: say so, and show its pictures in Output as they come."""
    window.status(f"job {job.number} {status}")
    if status == "done":
        _show(window, job_images(job))


def _continue_seeds(window, seeds: dict) -> None:
    """After Run ×N: the workflow's seeds go on from the job after the last one queued."""
    doc = window.document
    doc.undo.beginMacro("Continue seeds after Run ×N")
    for target, value in seeds.items():
        node_id, name = target.split(".", 1)
        if node_id in doc.graph.nodes:
            doc.set_param(node_id, name, value)
    doc.undo.endMacro()


def _show(window, paths: list[Path]) -> None:
    entries = [OutputImage(image, "queue", path) for image, path in ((QImage(str(p)), p) for p in paths)
               if not image.isNull()]
    if entries:
        window.output_viewer.add_images(entries)


def _open(window, text: str, title: str) -> None:
    if not window.files.confirm_discard():
        return
    try:
        window.document.open_text(text, None, dirty=True)
    except WorkflowFormatError as exc:
        window.report_error(f"Cannot open {title}", str(exc))
        return
    window.status(f"Opened the workflow of job {title} (unsaved)")
    window.view.fit_all()
