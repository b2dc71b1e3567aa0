"""Put the Queue & History panel into the main window: a dock beside the Run panel.

The panel shows the window's one run queue (`window.runner`, the editor's batch of the shared
job store): Run's jobs, Run ×N's and Sweep's, and those of other processes. It queues the open
workflow (`window.run_actions.current`) into the window's output folder, shows a selected job's
images in the output viewer and opens its workflow as an unsaved document. The application calls
`install` once the window is built; the queue's worker stops (re-queueing its job) when the
application quits.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QCoreApplication, Qt
from PySide6.QtGui import QImage

from nodeflow.core.errors import WorkflowFormatError
from nodeflow.gui.outputs.entries import OutputImage
from nodeflow.gui.queue_panel import QueuePanel


def install(window) -> QueuePanel:
    """Create the panel for `window` (a MainWindow) and dock it, tabbed with the Run panel."""
    runner = window.runner
    panel = QueuePanel(runner.store, runner, window.run_actions.current, window.registry)
    window.docks["queue"] = window._dock("Queue", panel, Qt.DockWidgetArea.BottomDockWidgetArea)
    window.tabifyDockWidget(window.docks["run"], window.docks["queue"])
    window.docks["run"].raise_()
    panel.message.connect(window.run_panel.log_line)
    panel.jobs_queued.connect(window.run_actions.watch)
    panel.images_selected.connect(lambda paths: _show(window, paths))
    panel.open_workflow.connect(lambda text, title: _open(window, text, title))
    panel.seeds_next.connect(lambda seeds: _continue_seeds(window, seeds))
    app = QCoreApplication.instance()
    if app is not None:
        app.aboutToQuit.connect(runner.shutdown)
    runner.start()  # jobs left queued (or re-queued after a crash) by the last session
    return panel


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
