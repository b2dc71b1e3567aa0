"""The server's job thread: runs the `serve` batch of the shared queue, one job at a time.

It is `jobs.local.LocalRunner` (the code `nodeflow run` and the editor use) with hooks that turn
each job's life into ComfyUI messages and history: `begin` starts a prompt, the executor's events
stream as it runs, `report` (after the job's files are committed to the output folder) records
its outputs per node and ends it. Stopping (SIGTERM) cancels the running job, which goes back to
the queue, so the next start runs it again.

With `--ray` the jobs run on a local Ray cluster instead (`jobs.ray_runner.RayRunner`, opened once
for the server's life so models stay loaded in its workers), several at once, each with its own
messages and history. The workers run without the executor's events, so a Ray prompt's client
gets execution_start, then executed per output and the end, but no per-node progress or preview
frames, and Preview Image pictures are not kept (Save Image's files are).
"""

from __future__ import annotations

import logging
import os
import threading
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any

from nodeflow.core.context import CancelToken
from nodeflow.core.errors import NodeFlowError
from nodeflow.core.files import AUDIO_SUFFIXES, SAVED_PATH_INFO, VIDEO_SUFFIXES
from nodeflow.core.outputs import job_file_name
from nodeflow.engine import Executor
from nodeflow.engine import events as ev
from nodeflow.engine.device import default_threads
from nodeflow.jobs.execute import Outcome
from nodeflow.jobs.local import LocalRunner
from nodeflow.jobs.store import Job, JobStore
from nodeflow.serve.book import PromptBook, PromptRecord
from nodeflow.serve.config import SERVE_BATCH, ServeConfig
from nodeflow.serve.hub import Hub
from nodeflow.serve.messages import Translator, preview_frame

log = logging.getLogger(__name__)


@dataclass
class Running:
    """A prompt being run: its record, its messages so far, the preview pictures it showed."""

    record: PromptRecord
    translator: Translator
    previews: dict[str, list[Any]] = field(default_factory=dict)


class Worker:
    def __init__(self, config: ServeConfig, store: JobStore, book: PromptBook, hub: Hub):
        self.config, self.store, self.book, self.hub = config, store, book, hub
        threads = default_threads()  # one count here and on Ray workers: the same sums, the same pixels
        self.executor = Executor(device=config.device, memory_budget=config.memory_budget, previews=config.previews,
                                 threads=threads)
        self.executor.subscribe(self._on_event)
        if config.ray is not None:
            from nodeflow.jobs.ray_runner import RayRunner

            os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
            self.runner = RayRunner(store, address=config.ray, workers=config.workers, device=config.device,
                                    group=False, memory_budget=config.memory_budget, threads=threads,
                                    begin=self._begin, report=self._report, cancel_rest=False)
        else:
            self.runner = LocalRunner(store, self.executor, group=False, cancel_rest=False,
                                      begin=self._begin, report=self._report)
        self.cancel = CancelToken()
        self.wake = threading.Event()
        self.free_requested = False
        self._running: dict[int, Running] = {}  # by job id
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._loop, name="nodeflow-serve-jobs", daemon=True)

    def open(self) -> None:
        """With --ray: join (or start) the cluster and its workers, once, before the server listens;
        one line (NodeFlowError) if Ray does not come up, rather than a server whose prompts never run."""
        if self.config.ray is None:
            return
        try:
            self.runner.open()
        except Exception as exc:  # ray.init's errors are of many kinds; all mean the same here
            self.runner.close()
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise NodeFlowError(f"--ray: the Ray cluster did not start ({first})") from None

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float) -> bool:
        """Cancel the running job (it is queued again) and wait for the thread; False if it hung."""
        self.cancel.cancel()
        self.wake.set()
        self._thread.join(timeout)
        return not self._thread.is_alive()

    def queue_remaining(self) -> int:
        return self.store.count(SERVE_BATCH, ["queued", "running"])

    def running_for(self, client_id: str) -> Running | None:
        """The prompt of `client_id` being run now, if any (a socket that reconnects is told)."""
        with self._lock:
            return next((r for r in self._running.values() if r.record.client_id == client_id), None)

    def _loop(self) -> None:
        ray = self.config.ray is not None  # opened by `open`: the workers keep their models between prompts
        try:
            while not self.cancel.cancelled:
                self._drain(ray)
        finally:
            if ray:
                self.runner.close()

    def _drain(self, ray: bool) -> None:
        try:
            if ray:
                self.runner.drain(SERVE_BATCH, self.cancel)
            else:
                self.runner.run(SERVE_BATCH, self.cancel)
        except Exception:  # a broken job must not stop the server
            log.exception("the server's job loop failed; going on")
        if not self.cancel.cancelled:
            if self.free_requested:
                self.free_requested = False
                self.executor.models.evict()
                self.executor.cache.clear()
            self.wake.wait(1.0)  # also picks up jobs queued by others (`nodeflow queue retry`)
            self.wake.clear()

    # -- hooks, on this thread ---------------------------------------------------------------

    def _begin(self, job: Job) -> None:
        record = self.book.get(job.key or "")
        if record is None:  # queued under a key the book lost: run it, keep its history
            record = PromptRecord(job.key or f"job-{job.id}", None, {}, {}, [], job.number, job.id)
            self.book.add(record)
        classes = {node: str(data.get("class_type", "")) for node, data in record.prompt.items()
                   if isinstance(data, dict)}
        running = Running(record, Translator(record.prompt_id, classes))
        with self._lock:
            self._running[job.id] = running
        self._status()
        start = running.translator.start()
        record.messages = [[kind, data] for kind, data in start]
        self._send(start, record.client_id)

    def _on_event(self, event: ev.Event) -> None:
        """The local executor's events: of its one running prompt."""
        with self._lock:
            running = next(iter(self._running.values()), None) if len(self._running) == 1 else None
        if running is None:
            return
        record = running.record
        self._send(running.translator.event(event), record.client_id)
        if isinstance(event, ev.NodeProgress) and event.preview is not None and self.hub.wants(record.client_id):
            self.hub.post_frame(preview_frame(event.preview), record.client_id)
        if isinstance(event, ev.NodeImages):
            unsaved = [image for image in event.images if SAVED_PATH_INFO not in getattr(image, "info", {})]
            if unsaved:
                running.previews.setdefault(event.node_id, []).extend(unsaved)

    def _report(self, job: Job, outcome: Outcome, names: list[str]) -> None:
        if outcome.status == "retrying":  # a Ray worker failed it once; another tries (and begins it again)
            return
        with self._lock:
            running = self._running.pop(job.id, None)
        if running is None:
            return
        record, translator = running.record, running.translator
        outputs: dict[str, Any] = {}
        if outcome.status == "done" or outcome.node_files:
            for node, files in outcome.node_files.items():
                outputs[node] = _saved_output([job_file_name(rel, job.number) for rel in files])
            for rel, (node, _) in sorted(outcome.saved_by.items()):
                if PurePosixPath(rel).suffix.lower() in AUDIO_SUFFIXES:
                    ref = _image_ref(job_file_name(rel, job.number), "output")
                    outputs.setdefault(node, {}).setdefault("audio", []).append(ref)
            for node, images in running.previews.items():
                outputs.setdefault(node, {"images": []})["images"] += self._save_previews(job, node, images)
        for node, output in outputs.items():
            self._send([translator.executed_message(node, output)], record.client_id)
        end = translator.finish(outcome.status, outcome.error)
        record.outputs = outputs
        record.messages += [[kind, data] for kind, data in end if kind != "executing"]
        record.status = {"status_str": "success" if outcome.status == "done" else "error",
                         "completed": outcome.status == "done", "messages": record.messages}
        self.book.save(record)
        self._send(end, record.client_id)
        self._status()

    def _save_previews(self, job: Job, node: str, images: list[Any]) -> list[dict[str, str]]:
        """Preview Image pictures go to the temp folder (type "temp"), as in ComfyUI."""
        refs = []
        self.config.temp_dir.mkdir(parents=True, exist_ok=True)
        safe_node = "".join(c if c.isalnum() else "_" for c in node)
        for index, image in enumerate(images, start=1):
            name = f"preview_{job.number:05d}_{safe_node}_{index:02d}.png"
            image.save(self.config.temp_dir / name, format="PNG")
            refs.append({"filename": name, "subfolder": "", "type": "temp"})
        return refs

    def _send(self, messages: list[tuple[str, dict[str, Any]]], sid: str | None) -> None:
        for kind, data in messages:
            self.hub.post(kind, data, sid)

    def _status(self) -> None:
        self.hub.post("status", {"status": {"exec_info": {"queue_remaining": self.queue_remaining()}}})


def _saved_output(names: list[str]) -> dict[str, Any]:
    """A node's saved pictures as ComfyUI's history lists them; a saved video is listed with them
    (its first frame is what the node showed) and marks the output "animated", as ComfyUI's does."""
    output: dict[str, Any] = {"images": [_image_ref(name, "output") for name in names]}
    if any(PurePosixPath(name).suffix.lower() in VIDEO_SUFFIXES for name in names):
        output["animated"] = [True]
    return output


def _image_ref(name: str, kind: str) -> dict[str, str]:
    path = PurePosixPath(name)
    return {"filename": path.name, "subfolder": str(path.parent) if str(path.parent) != "." else "", "type": kind}

