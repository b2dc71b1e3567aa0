"""POST /prompt: a ComfyUI API prompt through the importer, validation and queue `nodeflow run` uses.

Runs on a worker thread of the event loop (validation reads model headers). Every refusal is a
`BadRequest` in ComfyUI's error shape, with `node_errors` per node when validation names nodes.
A file a prompt names is held to the core read rule (`core.reads`) with its network policy: the
name must be relative and stay in its folder, and a picture must lie inside the input roots (a
symlink there that leads out is refused too), so a client cannot make the server read a file from
anywhere else on the machine.
"""

from __future__ import annotations

import sqlite3
import threading
import uuid
from pathlib import Path
from typing import Any

from nodeflow.core.errors import NodeFlowError, Problem
from nodeflow.core.graph import Graph
from nodeflow.core.paths import resolve_path
from nodeflow.core.reads import ReadRule
from nodeflow.core.registry import Registry
from nodeflow.interop.comfyui import import_data
from nodeflow.jobs.batch import BatchInvalid, Source, enqueue
from nodeflow.jobs.store import JobStore
from nodeflow.jobs.sweep import JobSpec
from nodeflow.library import default_library
from nodeflow.serve.access import BadRequest
from nodeflow.serve.book import PromptBook, PromptRecord
from nodeflow.serve.config import MAX_QUEUED, SERVE_BATCH, ServeConfig

#: Held while a prompt's job is numbered and queued (handlers run on several threads).
_NUMBERING = threading.Lock()


def prompt_id_of(body: dict[str, Any]) -> str:
    """The client's prompt_id (a canonical lowercase UUID, as ComfyUI requires), or a new one."""
    given = body.get("prompt_id")
    if given is None:
        return str(uuid.uuid4())
    try:
        if isinstance(given, str) and str(uuid.UUID(given)) == given:
            return given
    except ValueError:
        pass
    raise BadRequest("invalid_prompt_id", "prompt_id must be a lowercase UUID such as "
                     "'123e4567-e89b-12d3-a456-426614174000'", repr(given)[:80])


def submit(body: Any, config: ServeConfig, store: JobStore, book: PromptBook, registry: Registry) -> PromptRecord:
    """Check and queue one POST /prompt body; the record is in the book before its job can start."""
    if not isinstance(body, dict) or not isinstance(body.get("prompt"), dict) or not body["prompt"]:
        raise BadRequest("invalid_prompt", "the body must be a JSON object with a non-empty 'prompt' object")
    prompt_id = prompt_id_of(body)
    if store.count(SERVE_BATCH, ["queued"]) >= MAX_QUEUED:
        raise BadRequest("queue_full", f"{MAX_QUEUED} prompts are waiting already; try again when the queue drains")
    if book.get(prompt_id) is not None or store.find(prompt_id) is not None:
        raise BadRequest("invalid_prompt_id", f"prompt_id {prompt_id} was already queued")
    extra = body.get("extra_data") if isinstance(body.get("extra_data"), dict) else {}
    client_id = body.get("client_id")
    client_id = client_id if isinstance(client_id, str) and client_id else extra.get("client_id")
    client_id = client_id if isinstance(client_id, str) and client_id else None
    if client_id is not None:
        extra = {**extra, "client_id": client_id}
    prompt = body["prompt"]
    graph = _import(prompt, registry)
    _check_files(graph, prompt, config.input_dir.resolve())
    record = PromptRecord(prompt_id, client_id, prompt, extra, _output_nodes(graph))
    book.add(record)
    try:
        with _NUMBERING:  # two prompts at once would take the same job number
            ids = enqueue(store, SERVE_BATCH, Source(f"API prompt {prompt_id}", graph, config.input_dir.resolve()),
                          [JobSpec(0, {})], config.out, keys=[prompt_id])
    except BatchInvalid as exc:
        book.forget(prompt_id)
        raise BadRequest("prompt_outputs_failed_validation", "Prompt outputs failed validation",
                         "\n".join(str(p) for p in exc.problems), node_errors(exc.problems, prompt)) from None
    except sqlite3.IntegrityError:
        book.forget(prompt_id)
        raise BadRequest("invalid_prompt_id", f"prompt_id {prompt_id} was already queued") from None
    except BaseException:
        book.forget(prompt_id)
        raise
    job = store.get(ids[0])
    record.number, record.job_id = job.number, job.id
    if body.get("front") is True:
        queued = store.jobs(SERVE_BATCH, ["queued"])
        if queued and queued[0].id != job.id:
            store.move(job.id, queued[0].id)
    book.save(record)
    return record


def _import(prompt: dict[str, Any], registry: Registry) -> Graph:
    try:
        graph, report = import_data({"prompt": prompt}, registry, "POST /prompt", convention="comfyui")
    except NodeFlowError as exc:
        raise BadRequest("invalid_prompt", str(exc)) from None
    if report.placeholders:
        errors = {node: {"errors": [{"type": "missing_node_type", "message": why, "details": cls,
                                     "extra_info": {}}], "dependent_outputs": [], "class_type": cls}
                  for node, cls, why in report.placeholders}
        node, cls, why = report.placeholders[0]
        raise BadRequest("missing_node_type", f"Node '{cls}' not found: {why}", f"node {node}", errors)
    return graph


#: What a refused name's line ends with: the way a client gets a picture in.
UPLOAD_HINT = "upload it with /upload/image and name it as the upload answered"


def read_rule(input_dir: Path) -> tuple[ReadRule, tuple[Path, ...]]:
    """The read rule for a prompt's files (its folder is the input folder), as a network service
    applies it, and the folders its names are looked up in."""
    library = default_library()
    return library.read_rule(input_dir).for_network(UPLOAD_HINT), library.search_dirs(input_dir)


def _check_files(graph: Graph, prompt: dict[str, Any], input_dir: Path) -> None:
    """Every file the prompt names passes the read rule: models by their names (the library finds
    them later), pictures also where they would be read."""
    rule, search_dirs = read_rule(input_dir)
    problems = []
    for node_id, record in graph.nodes.items():
        cls = graph.registry.get(record.type)
        for inp in cls.inputs if cls is not None else ():
            value = record.params.get(inp.name)
            if not (inp.file and isinstance(value, str) and value):
                continue
            problem = rule.name_refusal(value)  # first: resolving '~user/x' would ask the system
            if problem is None and not inp.model:
                problem = rule.refusal(resolve_path(value, search_dirs), value)
            if problem is not None:
                problems.append(Problem(problem, node_id, inp.name))
    if problems:
        raise BadRequest("prompt_outputs_failed_validation", "Prompt outputs failed validation",
                         "\n".join(map(str, problems)), node_errors(problems, prompt))


def node_errors(problems: list[Problem], prompt: dict[str, Any]) -> dict[str, Any]:
    """ComfyUI's `node_errors`: {node id: {errors: [...], dependent_outputs, class_type}}."""
    out: dict[str, Any] = {}
    for problem in problems:
        if problem.node_id is None:
            continue
        node = prompt.get(problem.node_id)
        entry = out.setdefault(problem.node_id, {
            "errors": [], "dependent_outputs": [],
            "class_type": node.get("class_type", "") if isinstance(node, dict) else ""})
        entry["errors"].append({"type": "invalid_input", "message": problem.message,
                                "details": f"{problem.field}: {problem.message}" if problem.field else problem.message,
                                "extra_info": {"input_name": problem.field} if problem.field else {}})
    return out


def _output_nodes(graph: Graph) -> list[str]:
    return [node_id for node_id, record in graph.nodes.items()
            if (cls := graph.registry.get(record.type)) is not None and cls.is_output]
