"""The executor: validate, plan, serve from cache or run each node, and tell watchers as it goes.

Execution rules (DESIGN.md "Executor"):

1. Validate first; an invalid graph raises `ValidationError` with every problem and runs nothing.
2. Only nodes upstream of output nodes run, in topological order (ids break ties).
3. A node whose key (see `cache`) is unchanged since the last run is served from the cache.
4. Events go to subscribers on the running thread. Cancel is checked between nodes and, through
   the node's `RunContext`, between sampler steps. A failing node marks its dependants skipped;
   independent branches still finish. A muted node does not run and its dependants are skipped;
   a bypassed node passes, for each output, the first linked input of the same type.
5. A switch (lazy inputs, `branches`) runs only the branch it takes, decided by the plan or once
   its other inputs are computed; a branch nobody took is skipped; its key holds what it took.
6. Subgraph instances are expanded first (`core.subgraphs.expand`): everything after sees inner
   nodes as `<instance>:<inner>`; identical instances share cached results.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nodeflow import __version__
from nodeflow.core import jsontext, workflow
from nodeflow.core.context import CancelToken, ModelStore, RunContext
from nodeflow.core.errors import Cancelled, Interrupted, NodeError, Problem, ValidationError
from nodeflow.core.graph import Graph
from nodeflow.core.manifest import current_runtime, model_files
from nodeflow.core.paths import PROJECT_ROOT
from nodeflow.core.registry import Registry, default_registry
from nodeflow.core.spec import Node
from nodeflow.core.subgraphs.expand import expand_run
from nodeflow.engine import branches
from nodeflow.engine import events as ev
from nodeflow.engine.cache import ResultCache, Signature, make_signature
from nodeflow.engine.device import DeviceUnavailable, guess_device, pick_device, pin_threads, threads_in_use
from nodeflow.engine.memory import MemoryManager
from nodeflow.engine.memory_plan import MemoryPlan, make_memory_plan
from nodeflow.engine.node_inputs import bypass_outputs, linked_values, model_paths, parameter_values
from nodeflow.engine.outcome import describe, normalise
from nodeflow.engine.plan import Plan, make_plan, validate
from nodeflow.engine.quiet import quiet_libraries
from nodeflow.engine.run_memory import RunMemory, cached_nodes
from nodeflow.library import default_library, manifest_key
from nodeflow.library.sources import URLS, download_urls

log = logging.getLogger(__name__)

Subscriber = Callable[[ev.Event], None]


@dataclass
class RunResult:
    ok: bool
    cancelled: bool
    values: dict[str, dict[str, Any]] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    executed: list[str] = field(default_factory=list)
    cached: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    manifest: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0


class Executor:
    """Runs graphs. Keep one per window or process: its cache and loaded models persist."""

    def __init__(self, registry: Registry | None = None, device: str = "auto",
                 models: ModelStore | None = None, memory_budget: int | None = None,
                 previews: bool = True, threads: int | None = None):
        """`memory_budget`: bytes for models and cached results on the device (None: what is free
        at the first run). `previews`: latent previews in progress events (the GUI shows them).
        `threads`: torch's CPU thread count for every run (None: leave the process's setting)."""
        quiet_libraries()
        self.registry = registry or default_registry()
        self.device_preference = device
        self.models = models if models is not None else MemoryManager(memory_budget)  # empty is falsy
        self.previews = previews
        self.threads = threads
        self.cache = ResultCache()
        #: Size in bytes of each model recorded in a manifest (kept across runs, like the cache).
        self.model_sizes: dict[str, int] = {}
        self._subscribers: list[Subscriber] = []
        self._run_lock = threading.Lock()
        self._device: str | None = None
        self._active: _Run | None = None

    def subscribe(self, callback: Subscriber) -> Callable[[], None]:
        """Call `callback(event)` for every event; returns a function that unsubscribes."""
        self._subscribers.append(callback)
        return lambda: self._subscribers.remove(callback) if callback in self._subscribers else None

    def validate(self, graph: Graph, workflow_dir: Path | None = None,
                 targets: list[str] | None = None, output_dir: Path | None = None) -> list[Problem]:
        """Problems `run` would raise, the memory budget's included. Memory is checked against the
        run's device once one was picked; before that against RAM, so checking never imports torch."""
        return self.check(graph, workflow_dir, targets, output_dir)[0]

    def check(self, graph: Graph, workflow_dir: Path | None = None, targets: list[str] | None = None,
              output_dir: Path | None = None) -> tuple[list[Problem], MemoryPlan | None]:
        """`validate`'s problems and, for a graph valid in itself, the memory plan its budget was
        checked against (the GUI shows that plan's peak before Run: one computation, one rule)."""
        graph, targets, problems = expand_run(graph, targets)
        problems = problems or validate(graph, workflow_dir, targets, output_dir, self._device or "cpu")
        if problems:
            return problems, None
        plan = self.memory_plan(graph, workflow_dir, targets, output_dir)
        return (plan.problems() if isinstance(self.models, MemoryManager) else []), plan

    def memory_plan(self, graph: Graph, workflow_dir: Path | None = None, targets: list[str] | None = None,
                    output_dir: Path | None = None) -> MemoryPlan:
        """The memory plan of a (valid) graph: order, cache hits, each node's estimated peak vs
        the budget. Uses the run's device once one was picked, else the one asked for, else a guess
        (no torch import)."""
        device = self._device or (guess_device() if self.device_preference == "auto" else self.device_preference)
        graph, targets, _ = expand_run(graph, targets)
        run = _Run(self, graph, CancelToken(), Path(output_dir or "output"), workflow_dir, targets)
        return run.memory_plan(make_plan(graph, targets), device)

    def device(self) -> str:
        if self._device is None:
            self._device = pick_device(self.device_preference)
        return self._device

    def run(self, graph: Graph, *, cancel: CancelToken | None = None, output_dir: Path = Path("output"),
            workflow_dir: Path | None = None, targets: list[str] | None = None) -> RunResult:
        with self._run_lock:
            self._active = _Run(self, graph, cancel or CancelToken(), Path(output_dir), workflow_dir, targets)
            try:
                return self._active.go()
            finally:
                self._active = None

    def drop_result(self, key: str) -> None:
        """The memory manager needs a cached result's room: forget it (it is computed again when
        a later run needs it), here and among the running graph's intermediate values."""
        self.cache.drop(key)
        if self._active is not None:
            self._active.release(key)

    def emit(self, event: ev.Event) -> None:
        for callback in list(self._subscribers):
            try:
                callback(event)
            except Exception:  # a broken watcher must not break the run
                log.exception("event subscriber failed on %r", event)


class _Run:
    """The state of one run; discarded afterwards (the cache lives on in the Executor)."""

    def __init__(self, executor: Executor, graph: Graph, cancel: CancelToken, output_dir: Path,
                 workflow_dir: Path | None, targets: list[str] | None):
        self.ex, self.graph, self.cancel = executor, graph, cancel
        self.source = graph  # as the user made it, subgraph instances unexpanded (what outputs embed)
        self.output_dir, self.workflow_dir, self.targets = output_dir, workflow_dir, targets
        self.result = RunResult(ok=False, cancelled=False)
        self.keys: dict[str, str] = {}
        self.missing: dict[str, str] = {}  # node id -> why it gave no result (failed, muted, blocked)
        self.choices = branches.Choices(graph, {}, [])  # the branches lazy nodes take
        self.models_used: dict[str, str] = {}
        self.node_models: dict[str, str] = {}  # models the running node used
        self.library = default_library()
        self.model_names: dict[Path, str] = {}  # resolved model path -> its manifest key
        memory = executor.models
        self.memory = memory if isinstance(memory, MemoryManager) else None
        self.run_memory: RunMemory | None = None

    def go(self) -> RunResult:
        try:
            device = self.ex.device()
        except DeviceUnavailable as exc:
            raise ValidationError([Problem(str(exc))]) from None
        if self.ex.threads is not None:
            pin_threads(self.ex.threads)
        self.graph, self.targets, problems = expand_run(self.source, self.targets)
        problems = problems or validate(self.graph, self.workflow_dir, self.targets, self.output_dir, device)
        if problems:
            raise ValidationError(problems)
        plan = make_plan(self.graph, self.targets)
        work: dict[str, int] = {}
        if self.memory is not None:
            self.memory.attach(device)
            memory_plan = self.memory_plan(plan, device)
            if problems := memory_plan.problems():
                raise ValidationError(problems)
            work = {n.node_id: n.work for n in memory_plan.nodes}
            self.memory.on_note = lambda text: self.ex.emit(ev.NodeMessage("", f"memory: {text}"))
        started = time.perf_counter()
        self.choices = branches.Choices(self.graph, plan.chosen, plan.order)
        self.run_memory = RunMemory(self.ex.models, self.graph, plan.order, work)
        self.ex.emit(ev.RunStarted(list(plan.order)))
        for node_id in plan.order:
            if self.result.cancelled:
                break
            if node_id not in plan.conditional:  # those run when a switch asks for them
                self._visit(node_id, device)
        done = self.result.values.keys() | self.result.errors.keys() | set(self.result.skipped)
        for node_id in plan.order:
            if node_id not in done:
                self._skip(node_id, "cancelled" if self.result.cancelled else "on a branch no switch took")
        self._trim_cache()
        self.result.ok = not self.result.errors and not self.result.cancelled
        self.result.manifest = self._manifest()
        self.result.seconds = time.perf_counter() - started
        self.ex.emit(ev.RunFinished(self.result.ok, self.result.cancelled, self.result.seconds))
        return self.result

    def memory_plan(self, plan: Plan, device: str) -> MemoryPlan:
        """Which nodes the cache would serve, and each node's memory against the budget."""
        self.choices, order = branches.Choices(self.graph, plan.chosen, plan.order), plan.order
        cached = cached_nodes(self.graph, order, lambda n, keys: self._signature(n, keys)[1].key(), self.ex.cache,
                              self.choices.known)
        budget = self.memory.budget if self.memory is not None else None
        return make_memory_plan(self.graph, order, self.library.search_dirs(self.workflow_dir), device, budget, cached)

    def _signature(self, node_id: str, keys: dict[str, str]) -> tuple[dict[str, Any], Signature]:
        record = self.graph.nodes[node_id]
        cls = self.graph.registry.get(record.type)
        params = parameter_values(self.graph, record, cls, self.choices.chosen.get(node_id, ()))
        upstream = {link.dst_input: (keys[link.src], link.src_output) for link in self.choices.taken(node_id)}
        # An output node's files hold for one folder: a queued job (its own folder) saves them again.
        keyed = params | {"output folder": str(self.output_dir)} if cls.is_output else params
        return params, make_signature(cls.type_id, cls.version, record.mode, keyed, upstream, cls.cacheable)

    def _visit(self, node_id: str, device: str) -> None:
        """Run or serve a node once what it takes is there: an open switch first decides its
        branch from its other inputs, then the nodes of that branch run (and only those)."""
        if node_id in self.result.values or node_id in self.missing or self.result.cancelled:
            return
        if self.cancel.cancelled:
            self.result.cancelled = True
            return
        why = self._blocked(node_id)
        if why is None and (lazy := self.choices.open(node_id)) is not None:
            try:
                chosen = self.choices.decide(node_id, lazy, self._params(node_id, lazy) | self._linked(node_id, lazy))
            except Exception as exc:  # a plugin's rule: its failure is the node's
                self.missing[node_id] = f"node {node_id} failed"
                self._fail(node_id, f"{self.graph.label(node_id)}: {describe(exc)}")
                return
            self.ex.emit(ev.NodeMessage(node_id, f"takes {', '.join(chosen) or 'no lazy input'}"))
            sources = [link.src for link in self.choices.taken(node_id)]
            for later in self.choices.still_to_run(sources, set(self.result.values) | set(self.missing)):
                self._visit(later, device)  # the branch it chose, now
            why = self._blocked(node_id)
        if self.result.cancelled:
            return
        if why is not None:
            self.missing[node_id] = why
            self._skip(node_id, why)
        elif not self._node(node_id, device) and not self.result.cancelled:
            self.missing[node_id] = f"node {node_id} " + ("failed" if node_id in self.result.errors else "is muted")

    def _blocked(self, node_id: str) -> str | None:
        """Why a node cannot run: a source it takes gave no result (the first one's reason)."""
        return next((self.missing[link.src] for link in self.choices.taken(node_id) if link.src in self.missing),
                    None)

    def _params(self, node_id: str, cls: type[Node]) -> dict[str, Any]:
        return parameter_values(self.graph, self.graph.nodes[node_id], cls, self.choices.chosen.get(node_id, ()))

    def _linked(self, node_id: str, cls: type[Node]) -> dict[str, Any]:
        return linked_values(self.graph, cls, self.choices.taken(node_id), self.result.values)

    def _node(self, node_id: str, device: str) -> bool:
        """Run or serve one node; False if it failed or is muted (its dependants are skipped)."""
        record = self.graph.nodes[node_id]
        cls = self.graph.registry.get(record.type)
        assert cls is not None  # validated
        if record.mode == "muted":
            self._skip(node_id, "muted")
            return False
        params, signature = self._signature(node_id, self.keys)
        key = signature.key()
        self.keys[node_id] = key
        cached = self.ex.cache.get(key)
        if cached is not None:
            self.ex.cache.signatures[node_id] = signature  # a twin's result: next run's reason compares with it
            self.models_used.update(self.ex.cache.model_files.get(key, {}))
            self.result.values[node_id] = cached
            self.result.cached.append(node_id)
            self.run_memory.served(node_id, key, self.keys)
            self.ex.emit(ev.NodeFinished(node_id, True, "cached", 0.0))
            return True
        reason = signature.changes_since(self.ex.cache.signatures.get(node_id))
        self.node_models = {}
        self.ex.emit(ev.NodeStarted(node_id))
        started = time.perf_counter()
        try:
            if record.mode == "bypass":  # passes its linked inputs on: the files it names are never read
                outputs = bypass_outputs(cls, self._linked(node_id, cls))
            else:
                paths = model_paths(self.library, cls, params, self.graph.manifest, self.workflow_dir,
                                    self.model_names)
                inputs = {name: None for name in cls.lazy_inputs()} | paths | self._linked(node_id, cls)
                with self.run_memory.using(node_id, inputs):
                    outputs = normalise(cls, cls().run(self._context(node_id, device, cls), **inputs))
        except Cancelled:
            self.result.cancelled = True
            self._skip(node_id, "cancelled")
            return False
        except NodeError as exc:
            field_note = f" (input '{exc.field}')" if exc.field else ""
            return self._fail(node_id, f"{self.graph.label(node_id)}{field_note}: {exc}")
        except Interrupted:
            raise  # the process is being stopped (SIGTERM, a second Ctrl+C): not this node's fault
        except BaseException as exc:  # noqa: B036 - sys.exit() or KeyboardInterrupt in a node is its failure
            log.debug("node %s raised", node_id, exc_info=True)
            return self._fail(node_id, f"{self.graph.label(node_id)}: {describe(exc)}")
        self.ex.cache.put(node_id, signature, outputs, self.node_models)
        self.result.values[node_id] = outputs
        self.result.executed.append(node_id)
        self.run_memory.ran(node_id, key, outputs, self.keys, self.ex.drop_result)
        self.ex.emit(ev.NodeFinished(node_id, False, reason, time.perf_counter() - started))
        return True

    def release(self, key: str) -> None:
        if self.run_memory is not None:
            self.run_memory.release(key, self.keys, self.result.values)

    def _context(self, node_id: str, device: str, cls: type[Node]) -> RunContext:
        return RunContext(
            node_id=node_id,
            device=device,
            cancel_token=self.cancel,
            models=self.ex.models,
            previews=self.ex.previews and bool(self.ex._subscribers),  # no one watching: no previews
            output_dir=self.output_dir,
            search_dirs=self.library.search_dirs(self.workflow_dir), reads=self.library.read_rule(self.workflow_dir),
            workflow_json=self._workflow_json() if cls.is_output else "",
            on_progress=lambda n, step, total, preview: self.ex.emit(ev.NodeProgress(n, step, total, preview)),
            on_model_file=self._model_file_used,
            on_find_model=lambda kind, name: self.library.find(kind, name, self.library.search_dirs(self.workflow_dir)),
            on_message=lambda n, text: self.ex.emit(ev.NodeMessage(n, text)),
            on_images=lambda n, images: self.ex.emit(ev.NodeImages(n, list(images))),
        )

    def _model_file_used(self, path: Path) -> None:
        path = Path(path).resolve()
        name = self.model_names.get(path)
        if name is None:
            named = self.library.name_of(path)
            name = manifest_key(*named) if named else _path_name(path)
        digest = self.library.index.sha256(path)
        before = self.graph.manifest.get("models", {}).get(name)
        if isinstance(before, str) and not digest.startswith(before):  # a recorded AutoV2 is a prefix
            self.ex.emit(ev.NodeMessage("", f"warning: model {name} changed since this workflow last ran"))
        self.models_used[name] = digest
        self.node_models[name] = digest
        self.ex.model_sizes[name] = sum(f.stat().st_size for f in model_files(path))

    def _manifest(self) -> dict[str, Any]:
        sizes = {name: self.ex.model_sizes[name] for name in self.models_used if name in self.ex.model_sizes}
        manifest = {"app": __version__, "runtime": current_runtime(),
                    "models": dict(sorted(self.models_used.items())), "model_sizes": dict(sorted(sizes.items()))}
        threads = threads_in_use()
        if threads is not None:
            manifest["threads"] = threads
        urls = download_urls(self.models_used, self.graph.manifest, self.library.index)
        if urls:
            manifest[URLS] = urls
        return manifest

    def _workflow_json(self) -> str:
        """The workflow as it runs now, with this run's manifest, for output files to embed."""
        data = workflow.to_data(self.source)
        data["manifest"] = self._manifest()
        return jsontext.dumps(data)

    def _skip(self, node_id: str, reason: str) -> None:
        self.result.skipped.append(node_id)
        self.ex.emit(ev.NodeSkipped(node_id, reason))

    def _fail(self, node_id: str, message: str) -> bool:
        self.result.errors[node_id] = message
        self.ex.emit(ev.NodeFailed(node_id, message))
        return False

    def _trim_cache(self) -> None:
        live_nodes = set(self.graph.nodes)
        live_keys = set(self.keys.values()) | {
            sig.key() for nid, sig in self.ex.cache.signatures.items() if nid in live_nodes and nid not in self.keys
        }
        self.ex.cache.keep_only(live_keys, live_nodes)
        if self.memory is not None:
            self.memory.keep_results(set(self.ex.cache.results))


def _path_name(path: Path) -> str:
    """A model outside the library: named by its path (relative to NodeFlow's folder when inside it)."""
    try:
        return str(path.relative_to(PROJECT_ROOT))
    except ValueError:
        return str(path)
