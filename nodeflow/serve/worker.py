"""The server's job thread: runs the `serve` batch of the shared queue, one job at a time.

It is `jobs.local.LocalRunner` (the code `nodeflow run` and the editor use) with hooks that turn
each job's life into ComfyUI messages and history: `begin` starts a prompt, the executor's events
stream as it runs, `report` (after the job's files are committed to the output folder) records
its outputs per node and ends it. Stopping (SIGTERM) cancels the running job, which goes back to
the queue, so the next start runs it again.
"""

from __future__ import annotations

import logging
import threading
from pathlib import PurePosixPath
from typing import Any

from nodeflow.core.context import CancelToken
from nodeflow.core.files import SAVED_PATH_INFO
from nodeflow.core.outputs import job_file_name
from nodeflow.engine import Executor
from nodeflow.engine import events as ev
from nodeflow.jobs.execute import Outcome
from nodeflow.jobs.local import LocalRunner
from nodeflow.jobs.store import Job, JobStore
from nodeflow.serve.book import PromptBook, PromptRecord
from nodeflow.serve.config import SERVE_BATCH, ServeConfig
from nodeflow.serve.hub import Hub
from nodeflow.serve.messages import Translator, preview_frame

log = logging.getLogger(__name__)


class Worker:
    def __init__(self, config: ServeConfig, store: JobStore, book: PromptBook, hub: Hub):
        self.config, self.store, self.book, self.hub = config, store, book, hub
        self.executor = Executor(device=config.device, memory_budget=config.memory_budget, previews=config.previews)
        self.executor.subscribe(self._on_event)
        self.runner = LocalRunner(store, self.executor, group=False, cancel_rest=False,
                                  begin=self._begin, report=self._report)
        self.cancel = CancelToken()
        self.wake = threading.Event()
        self.free_requested = False
        self.record: PromptRecord | None = None
        self.translator: Translator | None = None
        self._previews: dict[str, list[Any]] = {}
        self._thread = threading.Thread(target=self._loop, name="nodeflow-serve-jobs", daemon=True)

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

    def running_prompt(self) -> str | None:
        record = self.record
        return record.prompt_id if record is not None else None

    def _loop(self) -> None:
        while not self.cancel.cancelled:
            try:
                self.runner.run(SERVE_BATCH, self.cancel)
            except Exception:  # a broken job must not stop the server
                log.exception("the server's job loop failed; going on")
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
        self.record, self.translator, self._previews = record, Translator(record.prompt_id, classes), {}
        self._status()
        start = self.translator.start()
        record.messages = [[kind, data] for kind, data in start]
        self._send(start, record.client_id)

    def _on_event(self, event: ev.Event) -> None:
        record, translator = self.record, self.translator
        if record is None or translator is None:
            return
        self._send(translator.event(event), record.client_id)
        if isinstance(event, ev.NodeProgress) and event.preview is not None and self.hub.wants(record.client_id):
            self.hub.post_frame(preview_frame(event.preview), record.client_id)
        if isinstance(event, ev.NodeImages):
            unsaved = [image for image in event.images if SAVED_PATH_INFO not in getattr(image, "info", {})]
            if unsaved:
                self._previews.setdefault(event.node_id, []).extend(unsaved)

    def _report(self, job: Job, outcome: Outcome, names: list[str]) -> None:
        record, translator = self.record, self.translator
        self.record = self.translator = None
        if record is None or translator is None:
            return
        outputs: dict[str, Any] = {}
        if outcome.status == "done" or outcome.node_files:
            for node, files in outcome.node_files.items():
                outputs[node] = {"images": [_image_ref(job_file_name(rel, job.number), "output") for rel in files]}
            for node, images in self._previews.items():
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


def _image_ref(name: str, kind: str) -> dict[str, str]:
    path = PurePosixPath(name)
    return {"filename": path.name, "subfolder": str(path.parent) if str(path.parent) != "." else "", "type": kind}

