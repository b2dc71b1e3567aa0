"""Show what a run is doing on the canvas: queued / running (progress, preview) / cached / done
(with time) / failed (red, message on hover) / skipped, and validation problems before a run.

A node inside a subgraph instance (`5:3`, the engine's expanded id) shows on its instance (`5`);
once one inner node failed, the instance stays failed."""

from __future__ import annotations

from nodeflow.core.errors import Problem, ValidationError
from nodeflow.core.subgraphs.definition import definition_id_of
from nodeflow.engine import events as ev
from nodeflow.gui.canvas.node_item import RunState
from nodeflow.gui.canvas.scene import NodeScene
from nodeflow.gui.images import to_qimage


def show_problems(scene: NodeScene, problems: list[Problem]) -> None:
    clear(scene)
    for problem in problems:
        item = _item(scene, problem.node_id or "")
        if item is None:
            continue
        item.run.state = "invalid"
        item.run.problems.append(problem.message if not problem.field else f"{problem.field}: {problem.message}")
        if problem.field:
            item.run.problem_fields.add(problem.field)
        item.update()


def clear(scene: NodeScene) -> None:
    for item in scene.nodes.values():
        if item.run.state or item.run.problems:
            item.run = RunState()
            item.update()


def apply(scene: NodeScene, event) -> None:
    if isinstance(event, ValidationError):
        show_problems(scene, event.problems)
        return
    if isinstance(event, ev.RunStarted):
        clear(scene)
        for node_id in event.order:
            _set(scene, node_id, state="queued")
        return
    node_id = getattr(event, "node_id", None)
    item = _item(scene, node_id or "")
    if item is None:
        return
    if isinstance(event, ev.NodeStarted):
        _set(scene, node_id, state="running", progress=None)
    elif isinstance(event, ev.NodeProgress):
        total = max(1, event.total)
        _set(scene, node_id, state="running", progress=min(1.0, event.step / total))
        if event.preview is not None:
            item.set_image(to_qimage(event.preview))
    elif isinstance(event, ev.NodeFinished):
        _set(scene, node_id, state="cached" if event.cached else "done", progress=None,
             seconds=event.seconds, message=event.reason)
    elif isinstance(event, ev.NodeFailed):
        _set(scene, node_id, state="failed", progress=None, message=event.message)
    elif isinstance(event, ev.NodeSkipped):
        _set(scene, node_id, state="skipped", progress=None, message=event.reason)
    elif isinstance(event, ev.NodeImages) and event.images:
        item.set_image(to_qimage(event.images[0]))


def _item(scene: NodeScene, node_id: str):
    """The canvas item of a node, or of the instance an expanded inner node belongs to."""
    item = scene.nodes.get(node_id)
    if item is None and ":" in node_id:
        item = scene.nodes.get(node_id.split(":", 1)[0])
        if item is not None and definition_id_of(item.record.type) is None:
            return None  # a node of an opened definition that happens to have the instance's id
    return item


def _set(scene: NodeScene, node_id: str, **values) -> None:
    item = _item(scene, node_id)
    if item is None or (node_id not in scene.nodes and item.run.state == "failed"):
        return
    for key, value in values.items():
        setattr(item.run, key, value)
    item.update()


def finish_cancelled(scene: NodeScene) -> None:
    """After a cancel, nodes still marked queued or running go back to plain."""
    for item in scene.nodes.values():
        if item.run.state in ("queued", "running"):
            item.run = RunState(state="skipped", message="cancelled")
            item.update()
