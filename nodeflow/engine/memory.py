"""The memory manager: loaded model components and cached results share a budget per device.

Units are model components (a checkpoint's UNet, each text encoder, its VAE; found in what a
loader returns) and cached node results (whose size includes a LoRA's patched layers but not the
checkpoint weights they share). When something must come in and the budget is full, the least
recently used units that the running node does not need make room:

* on CPU a component's weights are freed in place (the module object stays, so every MODEL,
  CLIP and VAE value that refers to it stays valid) and re-read from its file when a node needs
  it again; a cached result is dropped (it is computed again if a later run needs it);
* on CUDA and MPS a component is first offloaded to CPU RAM through accelerate's
  `cpu_offload_with_hook` (moved back per component when needed) and freed only when RAM runs
  short; a component that cannot fit on the device even alone runs layer by layer through
  accelerate's `cpu_offload` (sequential offload), the last resort.

Weights are moved or re-read bit for bit, so a budget never changes pixels.
"""

from __future__ import annotations

import dataclasses
import itertools
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from nodeflow.core.byte_sizes import format_bytes
from nodeflow.core.context import ModelStore
from nodeflow.engine.estimate import available_bytes
from nodeflow.engine.offload_rule import offloads, streamed
from nodeflow.engine.sizes import is_module, leaves, module_bytes, module_tensors, value_bytes

log = logging.getLogger(__name__)


@dataclass(eq=False)
class Unit:
    """One model component, loaded, moved and freed as a whole."""

    name: str
    module: Any
    bundle: tuple  # the store key it was loaded under
    path: tuple  # where it sits in the loaded value, e.g. (0, "unet")
    size: int
    place: str = "device"  # "device" (where it runs), "cpu" (offloaded), "gone" (weights freed)
    last_used: int = 0
    hook: Any = None  # accelerate's offload hook, once the unit has been offloaded
    sequential: bool = False


@dataclass(eq=False)
class CachedResult:
    key: str
    size: int
    drop: Callable[[], None]
    last_used: int = 0


@dataclass(eq=False)
class _Bundle:
    value: Any
    load: Callable[[], Any]
    units: list[Unit] = field(default_factory=list)


def _modules_with_paths(value: Any, path: tuple = (), depth: int = 0) -> Iterator[tuple[tuple, Any]]:
    """(path, module) for every module a loader returned, outermost first."""
    if depth > 4 or value is None or isinstance(value, (str, bytes, int, float, bool)):
        return
    if is_module(value):
        yield path, value
    elif isinstance(value, (list, tuple)):
        for i, item in enumerate(value):
            yield from _modules_with_paths(item, path + (i,), depth + 1)
    elif isinstance(value, dict):
        for k, item in value.items():
            yield from _modules_with_paths(item, path + (k,), depth + 1)
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        for f in dataclasses.fields(value):
            yield from _modules_with_paths(getattr(value, f.name, None), path + (f.name,), depth + 1)


def _at(value: Any, path: tuple) -> Any:
    for step in path:
        value = value[step] if isinstance(step, int) or isinstance(value, dict) else getattr(value, step)
    return value


class MemoryManager(ModelStore):
    """A `ModelStore` that keeps its components and the engine's cached results under a budget.

    `budget` is in bytes for the run device (None: free VRAM / available RAM when the first run
    starts). `ram_budget` bounds offloaded weights in CPU RAM on CUDA/MPS (None: available RAM).
    """

    def __init__(self, budget: int | None = None, ram_budget: int | None = None) -> None:
        super().__init__()
        self.budget = budget
        self.ram_budget = ram_budget
        self.device = "cpu"
        self._bundles: dict[tuple, _Bundle] = {}
        self._units: dict[int, Unit] = {}  # id(module) -> unit
        self._owner: dict[int, Unit] = {}  # id(parameter or buffer) -> unit holding it
        self._results: dict[str, CachedResult] = {}
        self._pinned_units: set[int] = set()
        self._pinned_results: set[str] = set()
        self._clock = itertools.count(1)
        #: Called with a line whenever something is offloaded, freed or brought back.
        self.on_note: Callable[[str], None] | None = None

    # ------------------------------------------------------------------ the ModelStore interface

    def attach(self, device: str) -> None:
        """Take the run's device; a budget left open becomes what is free there now."""
        self.device = device
        if self.budget is None:
            self.budget = available_bytes(device) + self.device_bytes()
        if self.ram_budget is None and self.offloads:
            self.ram_budget = available_bytes("cpu") + self.ram_bytes()

    def set_budget(self, budget: int | None) -> None:
        """Change the device budget (the GUI's setting, also while a run goes on): what no longer
        fits goes now, least recently used first, never what a running node pinned, so a smaller
        budget frees memory without waiting for a run. None: what is free when the next run starts
        (`attach`); until then nothing more is evicted. Never waits for a load in progress (the
        caller may be the UI): the budget holds at once and that load's own fit applies it."""
        self.budget = budget
        if self._lock.acquire(blocking=False):
            try:
                self._fit()
            finally:
                self._lock.release()

    @property
    def offloads(self) -> bool:
        return offloads(self.device)

    def load_place(self, device: str) -> str:
        """On CUDA/MPS weights load to CPU RAM; each component goes to the device when a node needs
        it, so a load never takes more of the device than the budget."""
        return "cpu" if offloads(device) else device

    def get(self, key: tuple, load: Callable[[], Any], size_hint: int = 0) -> Any:
        """The loaded value for `key`, loading it (after making `size_hint` bytes of room) once."""
        with self._lock:
            bundle = self._bundles.get(key)
            if bundle is None:
                self._fit(extra=size_hint)
                bundle = _Bundle(load(), load)
                self._register(key, bundle)
                self._bundles[key] = bundle
                self._fit()
            for unit in bundle.units:
                unit.last_used = next(self._clock)
            return bundle.value

    def evict(self, key: tuple | None = None) -> None:
        """Forget one loaded model, or all of them (their memory goes once nothing holds them)."""
        with self._lock:
            for k in list(self._bundles) if key is None else [key]:
                bundle = self._bundles.pop(k, None)
                for unit in bundle.units if bundle else ():
                    self._units.pop(id(unit.module), None)
                    for tensor in module_tensors(unit.module):
                        self._owner.pop(id(tensor), None)

    def __len__(self) -> int:
        return len(self._bundles)

    def ensure(self, value: Any) -> None:
        """Bring every component `value` refers to back where it runs (for on-demand users)."""
        with self._lock:
            self._bring(self._needed(value))

    # ------------------------------------------------------------------------- the engine's side

    def begin_node(self, inputs: dict[str, Any], work: int = 0) -> None:
        """Pin what a node's inputs use and make it ready: nothing it needs is evicted while it runs.
        `work` (bytes the node will allocate, the plan's estimate) is made room for too."""
        with self._lock:
            needed = self._needed(inputs)
            self._pinned_units = {id(u.module) for u in needed}
            self._bring(needed, work)
            self._fit(extra=work)

    def end_node(self) -> None:
        """The node finished: what it loaded or used may be evicted again."""
        with self._lock:
            self._pinned_units = set()
            for unit in self._units.values():  # an accelerate hook may have moved a unit by itself
                if unit.place == "cpu" and not unit.sequential and self._on_device(unit):
                    unit.place = "device"
            self._fit()

    def track_result(self, key: str, outputs: Any, drop: Callable[[], None], pinned: bool) -> None:
        """Count a cached result; `drop` forgets it when it must make room (unless pinned)."""
        with self._lock:
            device_type = self.device.split(":")[0] if self.offloads else None
            size = value_bytes(outputs, device_type, skip=lambda t: id(t) in self._owner)
            self._results[key] = CachedResult(key, size, drop, next(self._clock))
            if pinned:
                self._pinned_results.add(key)
            self._fit()

    def touch_result(self, key: str, pinned: bool) -> None:
        with self._lock:
            if key in self._results:
                self._results[key].last_used = next(self._clock)
                if pinned:
                    self._pinned_results.add(key)

    def unpin_result(self, key: str) -> None:
        """A result's last consumer in this run has run: it may go if the budget needs the room."""
        with self._lock:
            self._pinned_results.discard(key)
            self._fit()

    def keep_results(self, keys: set[str]) -> None:
        """The run ended and the cache kept only `keys`: forget the others' sizes, unpin all."""
        with self._lock:
            for key in [k for k in self._results if k not in keys]:
                del self._results[key]
            self._pinned_results = set()
            self._fit()

    # ------------------------------------------------------------------------------- reporting

    def device_bytes(self) -> int:
        """Bytes of components and results counted against the device budget now."""
        units = sum(u.size for u in self._units.values() if u.place == "device" and not u.sequential)
        return units + sum(r.size for r in self._results.values())

    def ram_bytes(self) -> int:
        """Bytes of components offloaded to CPU RAM (CUDA/MPS only)."""
        return sum(u.size for u in self._units.values() if u.place == "cpu" or u.sequential)

    def snapshot(self) -> list[tuple[str, int, str]]:
        """(name, bytes, place) of every component, most recently used first."""
        units = sorted(self._units.values(), key=lambda u: -u.last_used)
        return [(u.name, u.size, "sequential" if u.sequential else u.place) for u in units]

    # -------------------------------------------------------------------------------- internals

    def _note(self, text: str) -> None:
        log.info("memory: %s", text)
        if self.on_note is not None:
            self.on_note(text)

    def _register(self, key: tuple, bundle: _Bundle) -> None:
        label = next((str(k) for k in reversed(key) if isinstance(k, str) and ("/" in k or "\\" in k)), str(key))
        label = label.replace("\\", "/").rstrip("/").rsplit("/", 1)[-1]
        for path, module in _modules_with_paths(bundle.value):
            if id(module) in self._units:
                continue
            name = f"{label} {next((p for p in reversed(path) if isinstance(p, str)), 'model')}"
            unit = Unit(name, module, key, path, module_bytes(module), last_used=next(self._clock))
            unit.place = "device" if self._on_device(unit) or not self.offloads else "cpu"
            bundle.units.append(unit)
            self._units[id(module)] = unit
            self._pinned_units.add(id(module))  # the loading node holds it until it ends
            for tensor in module_tensors(module):
                self._owner[id(tensor)] = unit

    def _on_device(self, unit: Unit) -> bool:
        tensor = next(module_tensors(unit.module), None)
        return tensor is not None and tensor.device.type == self.device.split(":")[0]

    def _needed(self, value: Any) -> list[Unit]:
        """Components a value uses: registered modules, and those whose weights a copy shares."""
        needed: dict[int, Unit] = {}
        for leaf in leaves(value):
            if not is_module(leaf):
                continue
            unit = self._units.get(id(leaf))
            if unit is not None:
                needed[id(unit)] = unit
                continue
            for tensor in module_tensors(leaf):  # e.g. a LoRA copy sharing the checkpoint's layers
                owner = self._owner.get(id(tensor))
                if owner is not None:
                    needed[id(owner)] = owner
        return list(needed.values())

    def _bring(self, needed: list[Unit], work: int = 0) -> None:
        for unit in needed:
            unit.last_used = next(self._clock)
            self._pinned_units.add(id(unit.module))
        budget = self.budget if self.budget is not None else float("inf")  # set_budget(None) mid-run
        sizes = {u: u.size for u in needed if not u.sequential}
        stream = streamed(sizes, budget - work) if self.offloads else []
        for unit in sorted(sizes, key=lambda u: -u.size):
            if unit in stream:
                self._sequential(unit)
                continue
            if unit.place == "device":
                continue
            self._fit(extra=unit.size)
            if unit.place == "gone":
                self._restore([unit])
            if self.offloads:
                unit.module.to(self.device)
            unit.place = "device"
            self._note(f"{unit.name} ready ({format_bytes(unit.size)})")

    def _fit(self, extra: int = 0) -> None:
        """Evict least recently used, unpinned units until the budget holds `extra` more bytes."""
        budget = self.budget if self.budget is not None else float("inf")
        while self.device_bytes() + extra > budget:
            victim = self._lru(
                [u for u in self._units.values() if u.place == "device" and not u.sequential
                 and id(u.module) not in self._pinned_units]
                + [r for k, r in self._results.items() if k not in self._pinned_results])
            if victim is None:
                break
            if isinstance(victim, CachedResult):
                del self._results[victim.key]
                victim.drop()
                self._note(f"dropped a cached result ({format_bytes(victim.size)})")
            elif self.offloads:
                self._offload(victim)
            else:
                self._free(victim)
        ram_budget = self.ram_budget if self.ram_budget is not None else float("inf")
        while self.offloads and self.ram_bytes() > ram_budget:
            victim = self._lru([u for u in self._units.values() if u.place == "cpu"
                                and id(u.module) not in self._pinned_units])
            if victim is None:
                break
            self._free(victim)

    @staticmethod
    def _lru(candidates: list[Any]) -> Any:
        return min(candidates, key=lambda item: item.last_used, default=None)

    def _offload(self, unit: Unit) -> None:
        """CUDA/MPS: weights to CPU RAM through accelerate's hook; its next forward (or `_bring`)
        moves them back."""
        from accelerate import cpu_offload_with_hook

        if unit.hook is None:
            _, unit.hook = cpu_offload_with_hook(unit.module, execution_device=self.device)
        else:
            unit.hook.offload()
        unit.place = "cpu"
        self._note(f"offloaded {unit.name} to CPU RAM ({format_bytes(unit.size)})")

    def _sequential(self, unit: Unit) -> None:
        """The last resort: the component's layers visit the device one at a time while it runs."""
        from accelerate import cpu_offload
        from accelerate.hooks import remove_hook_from_module

        if unit.place == "gone":
            self._restore([unit])
        if unit.hook is not None:
            remove_hook_from_module(unit.module, recurse=True)
            unit.hook = None
        unit.module.to("cpu")
        cpu_offload(unit.module, execution_device=self.device)
        unit.sequential, unit.place = True, "cpu"
        self._note(f"{unit.name} ({format_bytes(unit.size)}) does not fit in the budget of "
                   f"{format_bytes(self.budget)}: running it layer by layer (sequential offload)")

    def _free(self, unit: Unit) -> None:
        """Drop a component's weights in place; the module object (and every value holding it) stays."""
        if unit.sequential:
            from accelerate.hooks import remove_hook_from_module

            remove_hook_from_module(unit.module, recurse=True)
            unit.sequential, unit.hook = False, None
        for tensor in module_tensors(unit.module):
            tensor.data = tensor.data.new_empty(0, device="cpu")
        unit.place = "gone"
        self._note(f"freed {unit.name} ({format_bytes(unit.size)}); it is re-read from its file when needed")

    def _restore(self, units: list[Unit]) -> None:
        """Re-read freed components from their files and put the weights back into the same modules."""
        for key in {u.bundle for u in units}:
            bundle = self._bundles[key]
            fresh = bundle.load()
            for unit in [u for u in units if u.bundle == key]:
                source = _at(fresh, unit.path)
                tensors = dict(source.named_parameters(remove_duplicate=False))
                tensors |= dict(source.named_buffers(remove_duplicate=False))
                for name, tensor in itertools.chain(unit.module.named_parameters(remove_duplicate=False),
                                                    unit.module.named_buffers(remove_duplicate=False)):
                    if tensor is not None and name in tensors:
                        tensor.data = tensors[name].data
                unit.place = "device" if self._on_device(unit) else "cpu"
                self._note(f"re-read {unit.name} from its file ({format_bytes(unit.size)})")
            del fresh
