"""The memory plan: before a run, which model components each node needs and the peak it reaches.

Built only from declarations, so it needs no torch: loaders say what they load
(`Node.weights`, sized from file headers) and nodes say what their parameters allocate
(`Node.memory_needs`, collected by `engine.estimate`). A node needs the components behind its
MODEL/CLIP/VAE-like inputs, traced upstream through LoRAs, guiders and reroutes. The plan then
replays the memory manager's rule (least recently used components go when a node needs room) to
estimate each node's peak against the budget, and says what cannot fit even with offload. On CUDA
and MPS it also says, before Run, which components leave the device for which node and which run
layer by layer from CPU RAM (the rule the run follows, `engine.offload_rule`), and how much RAM the
offloaded weights take.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from nodeflow.core.byte_sizes import format_bytes
from nodeflow.core.errors import Problem
from nodeflow.core.graph import Graph
from nodeflow.core.reads import resolve_for_header
from nodeflow.core.spec import FULL_PRECISION_BYTES, Weights
from nodeflow.core.subgraphs.expand import expand
from nodeflow.core.types import ANY, GUIDER
from nodeflow.engine.estimate import available_bytes, node_estimates, node_params
from nodeflow.engine.flow_sizes import flow_sizes
from nodeflow.engine.offload_rule import offloads, streamed
from nodeflow.library import ModelLibrary, default_library

#: A node's working memory with a model, in feature maps of the model's full-resolution width
#: (`Weights.width`) over the largest picture upstream: a VAE keeps a few maps of its widest block
#: alive at full resolution; a UNet works at 1/8 of each side on two batches (guidance).
MAPS = {"vae": (10.0, 1), "unet": (30.0, 64 // 2)}  # (maps, pixels per latent cell / batches)
DEFAULT_WIDTH = {"vae": 128, "unet": 320}
#: VAE nodes tile pictures above nodes.vae.codec.TILE_ABOVE pixels (1024x1024); a tiled pass then
#: holds one tile of the VAE's native size at a time, at most about this many pixels.
VAE_TILED_PIXELS = 1024 * 1024
#: Text encoders and anything else: work as a share of the component's own weights.
WORK_PER_WEIGHT_BYTE = 0.05
DTYPE_BYTES = {"cuda": 2, "cpu": 4, "mps": 4}


@dataclass(frozen=True)
class NodeMemory:
    """One node in the plan."""

    node_id: str
    title: str
    cached: bool
    components: tuple[tuple[str, int], ...]  # (name, bytes) it needs in memory while it runs
    work: int  # its own allocations (activations, pictures)
    peak: int  # resident components + work when it runs
    streamed: tuple[str, ...] = ()  # of `components`, those that run layer by layer from CPU RAM
    left: tuple[tuple[str, int], ...] = ()  # (name, bytes) of components that leave the device for it

    @property
    def needs(self) -> int:
        """The least it can run with: its components + its work (nothing else kept)."""
        return sum(b for _, b in self.components) + self.work

    def described(self) -> str:
        """What it needs in words, as `nodeflow plan`, the GUI and refusals print it:
        'unet (node 1) 3.4 GB + work 708 MB'."""
        parts = ", ".join(f"{name} {format_bytes(b)}" + (" layer by layer" if name in self.streamed else "")
                          for name, b in self.components)
        if not self.work:
            return parts
        return f"{parts} + work {format_bytes(self.work)}" if parts else f"work {format_bytes(self.work)}"


@dataclass
class MemoryPlan:
    device: str
    budget: int
    nodes: list[NodeMemory] = field(default_factory=list)
    ram_peak: int = 0  # CUDA/MPS: the most weights held in CPU RAM (loaded, offloaded or streamed)

    @property
    def peak(self) -> int:
        return max((n.peak for n in self.nodes), default=0)

    @property
    def offloads(self) -> bool:
        return offloads(self.device)

    def moves(self) -> list[str]:
        """What the run will do with the models, in words, before it starts: each component that
        leaves the device and for which node, each that runs layer by layer and from where on."""
        lines, said = [], set()
        how = "offloaded to CPU RAM" if self.offloads else "its weights freed, re-read from its file when needed"
        for n in self.nodes:
            where = f"node {n.node_id} ({n.title})"
            for name, size in n.left:
                lines.append(f"{name} {format_bytes(size)} leaves the device before {where}: {how}")
            for name, size in n.components:
                if name in n.streamed and name not in said:
                    said.add(name)
                    beside = f" beside its work of {format_bytes(n.work)}" if n.work else ""
                    lines.append(f"{name} {format_bytes(size)} does not fit in the budget of "
                                 f"{format_bytes(self.budget)}{beside}: it runs layer by layer from CPU RAM "
                                 f"from {where} on (sequential offload; slower, same pictures)")
        if self.offloads and self.ram_peak:
            lines.append(f"CPU RAM holds up to {format_bytes(self.ram_peak)} of model weights (loaded, offloaded "
                         "or streamed)")
        return lines

    def problems(self) -> list[Problem]:
        """What cannot fit even after evicting everything else (and, on CUDA/MPS, offloading)."""
        problems = []
        sizes = [b for n in self.nodes for _, b in n.components]
        if sizes and self.budget < min(sizes):
            size, name, node_id = min((b, name, n.node_id) for n in self.nodes for name, b in n.components)
            problems.append(Problem(
                f"the memory budget of {format_bytes(self.budget)} is smaller than the smallest model "
                f"component the workflow needs ({name}, {format_bytes(size)})", node_id))
        for n in self.nodes:
            floor = n.work if self.offloads else n.needs
            if not n.cached and floor > self.budget:
                what = n.described() or "nothing"
                how = "even with its weights offloaded" if self.offloads else "with everything else evicted"
                problems.append(Problem(
                    f"needs about {format_bytes(floor)} {how} ({what}), over the memory budget of "
                    f"{format_bytes(self.budget)} on {self.device}", n.node_id))
        return problems


def default_budget(device: str) -> int:
    """Free VRAM (nvidia-smi when torch is not loaded) on CUDA, available RAM elsewhere."""
    if device.startswith("cuda") and shutil.which("nvidia-smi") and "torch" not in sys.modules:
        try:
            out = subprocess.run(["nvidia-smi", "--query-gpu=memory.free", "--format=csv,noheader,nounits"],
                                 capture_output=True, text=True, timeout=10, check=True).stdout
            return int(out.split()[0]) * 1024 * 1024
        except (OSError, ValueError, IndexError, subprocess.SubprocessError):
            pass
    return available_bytes(device)


def make_memory_plan(graph: Graph, order: list[str], search_dirs: tuple[Path, ...], device: str,
                     budget: int | None = None, cached: set[str] | frozenset[str] = frozenset()) -> MemoryPlan:
    """The plan for running `order` (a run's node order) on `device` under `budget` bytes. A graph
    with subgraph instances is planned expanded, as it runs (its order names inner nodes)."""
    graph = expand(graph)[0]
    device = device.split(":")[0]
    budget = budget if budget is not None else default_budget(device)
    dtype_bytes = DTYPE_BYTES.get(device, 4)
    declared = _declared_weights(graph, order, search_dirs)
    carriers = _carriers(declared)
    natives = _native_sides(graph, order, declared, carriers)
    own: dict[str, int] = {}  # what nodes declare they allocate themselves
    own_pixels: dict[str, int] = {}  # the pictures they make (Empty Latent, Load Image)
    for est in node_estimates(graph, order, search_dirs, natives):
        own[est.node_id] = max(own.get(est.node_id, 0), est.bytes)
        own_pixels[est.node_id] = max(own_pixels.get(est.node_id, 0), est.pixels)
    sizes = flow_sizes(graph, order, own_pixels, lambda node_id: node_params(graph, node_id, natives.get(node_id, 0)))
    pictures = {node_id: size.total_pixels for node_id, size in sizes.items()}
    plan = MemoryPlan(device, budget)
    resident: dict[tuple[str, str], int] = {}  # (loader id, component) -> bytes, oldest first
    streaming: set[tuple[str, str]] = set()  # run layer by layer from the first node that streams them on
    loaded: dict[tuple[str, str], int] = {}  # CUDA/MPS: every component loaded so far, in RAM unless resident
    planned = set(order)
    for node_id in order:
        title = graph.title(node_id)
        needed = _needed(graph, node_id, declared, carriers, {}, planned=planned)
        if node_id in declared and not plan.offloads:  # a loader holds what it loads while it runs
            needed |= {(node_id, w.component) for _, w in declared[node_id]}  # (on CUDA/MPS: in RAM)
        elif node_id in declared:
            loaded |= {(node_id, w.component): _component_bytes(declared, (node_id, w.component), dtype_bytes)
                       for _, w in declared[node_id]}
        sizes = {key: _component_bytes(declared, key, dtype_bytes) for key in needed}
        widths = {key: _width(declared, key) for key in needed}
        full = {key for key in needed if _full_precision(declared, key)}
        work = own.get(node_id) or _work(sizes, widths, pictures.get(node_id, 0), dtype_bytes, full)
        if node_id in cached:
            plan.nodes.append(NodeMemory(node_id, title, True, (), 0, sum(resident.values())))
            continue
        if plan.offloads:
            streaming |= set(streamed({k: sizes[k] for k in needed if k not in streaming}, budget - work))
        before = dict(resident)
        for key in needed:
            resident.pop(key, None)
        for key in sorted(needed, key=lambda k: -sizes[k]):
            if key not in streaming:  # (a streamed one runs from CPU RAM: not resident)
                resident[key] = sizes[key]
        while sum(resident.values()) + work > budget:
            victim = next((k for k in resident if k not in needed), None)
            if victim is None:
                break
            del resident[victim]
        plan.ram_peak = max(plan.ram_peak, sum(b for k, b in loaded.items() if k not in resident))
        ordered = sorted(needed, key=lambda k: (k[0], k[1]))
        plan.nodes.append(NodeMemory(
            node_id, title, False, tuple((_name(graph, key), sizes[key]) for key in ordered), work,
            sum(resident.values()) + work, tuple(_name(graph, key) for key in ordered if key in streaming),
            tuple((_name(graph, key), b) for key, b in before.items() if key not in resident)))
    return plan


def model_params(graph: Graph, node_id: str, cls: type, library: ModelLibrary, search_dirs: tuple[Path, ...]
                 ) -> dict:
    """A node's parameter values with each model input's name replaced by the path the run will
    load (found through the model library by name; unchanged if not found)."""
    params = node_params(graph, node_id)
    for inp in cls.inputs:
        name = params.get(inp.name)
        if inp.model and isinstance(name, str) and name.strip():
            path = library.find(inp.model, name, search_dirs)
            params[inp.name] = str(path) if path is not None else name
    return params


def _declared_weights(graph: Graph, order: list[str], search_dirs: tuple[Path, ...]
                      ) -> dict[str, list[tuple[str, Weights]]]:
    """{loader id: [(output type, declared weights)]} for the planned nodes that load models.

    Model inputs name models the way the run finds them: through the model library by name (a
    ComfyUI workflow's 'v1-5-pruned-emaonly.safetensors'). A model found only by its recorded
    hash is not looked for here, which could mean hashing the library.
    """
    found = {}
    library = default_library()
    for node_id in order:
        record = graph.nodes[node_id]
        cls = graph.registry.get(record.type)
        if cls is None or record.mode == "muted":
            continue
        params = model_params(graph, node_id, cls, library, search_dirs)
        try:
            weights = cls.weights(params, lambda name: resolve_for_header(name, search_dirs))
        except Exception:  # a plugin's declaration must not break the plan of the rest
            continue
        parts = []
        for w in weights:
            out = cls.output(w.output)
            if out is not None:
                parts.append((out.type, w))
        if parts:
            found[node_id] = parts
    return found


def _native_sides(graph: Graph, order: list[str], declared: dict, carriers: dict) -> dict[str, int]:
    """{node id: the picture side a size of 0 means to it}: the native side of the UNet that
    samples what the node makes (the first one downstream), else of a model it is given itself
    (an Empty Latent's VAE). Nodes with no such model are left out (they assume the largest)."""
    planned = set(order)

    def side(node_id: str, kind: str) -> int:
        keys = _needed(graph, node_id, declared, carriers, {}, planned=planned)
        return max((int(w.native) for lid, part in keys for _, w in declared[lid]
                    if w.component == part and part.startswith(kind)), default=0)

    below: dict[str, int] = {}  # the UNet side downstream of each node, filled sinks first
    natives = {}
    for node_id in reversed(order):
        consumers = [below.get(link.dst, 0) for link in graph.links_from(node_id)]
        below[node_id] = side(node_id, "unet") or max(consumers, default=0)
        cls = graph.registry.get(graph.nodes[node_id].type)
        if cls is not None and cls.native_size_inputs:
            natives[node_id] = max(consumers, default=0) or side(node_id, "vae")
    return {k: v for k, v in natives.items() if v}


def _carriers(declared: dict) -> dict[str, frozenset[str] | None]:
    """{link type that carries models: the input types to follow back through a node that is not a
    loader (None: every carrying input)}. Model types (MODEL, CLIP, VAE, a guider) carry all that
    made them, through LoRAs and guiders; a type that weights ride on once applied (`Weights.rides`:
    a ControlNet on CONDITIONING) carries only itself and its riders, not the text encoder that
    made the conditioning."""
    carriers: dict[str, frozenset[str] | None] = {GUIDER: None}
    rides: dict[str, set[str]] = {}
    for parts in declared.values():
        for kind, w in parts:
            carriers[kind] = None
            if w.rides:
                rides.setdefault(w.rides, {w.rides}).add(kind)
    for kind, followed in rides.items():
        carriers.setdefault(kind, frozenset(followed))
    return carriers


def _needed(graph: Graph, node_id: str, declared: dict, carriers: dict, memo: dict,
            follow: frozenset[str] | None = None, planned: set[str] | None = None) -> set[tuple[str, str]]:
    """(loader id, component) pairs behind the model-carrying inputs of `node_id` (only inputs of
    the types in `follow`, when given; only from `planned` nodes, when given: a switch's branch not
    taken delivers nothing). An ANY-typed output (a switch's) may carry any of them: followed too."""
    needed: set[tuple[str, str]] = set()
    for link in graph.links_into(node_id):
        kind = graph.output_type(link.src, link.src_output)
        if planned is not None and link.src not in planned:
            continue
        if kind != ANY and (kind not in carriers or (follow is not None and kind not in follow)):
            continue
        needed |= _behind(graph, link.src, kind, declared, carriers, memo, planned)
    return needed


def _behind(graph: Graph, node_id: str, kind: str, declared: dict, carriers: dict, memo: dict,
            planned: set[str] | None) -> set[tuple[str, str]]:
    key = (node_id, kind)
    if key in memo:
        return memo[key]
    memo[key] = set()  # cycles are reported by validation
    if node_id in declared:  # its own weights, and a model of this kind it adds them to (a LoRA's)
        found = {(node_id, w.component) for out_type, w in declared[node_id] if kind in (out_type, ANY)}
        found |= _needed(graph, node_id, declared, carriers, memo, frozenset({kind}), planned)
    else:
        found = _needed(graph, node_id, declared, carriers, memo, carriers.get(kind), planned)
    memo[key] = found
    return found


def _component_bytes(declared: dict, key: tuple[str, str], dtype_bytes: int) -> int:
    return sum(w.nbytes(dtype_bytes) for _, w in declared.get(key[0], ()) if w.component == key[1])


def _width(declared: dict, key: tuple[str, str]) -> int:
    return max((int(w.width) for _, w in declared.get(key[0], ()) if w.component == key[1]), default=0)


def _full_precision(declared: dict, key: tuple[str, str]) -> bool:
    return any(w.full_precision for _, w in declared.get(key[0], ()) if w.component == key[1])


def _name(graph: Graph, key: tuple[str, str]) -> str:
    return f"{key[1]} (node {key[0]})"


def _work(sizes: dict[tuple[str, str], int], widths: dict[tuple[str, str], int], pixels: int,
          dtype_bytes: int, full_precision: set[tuple[str, str]]) -> int:
    """Working memory of a node using `sizes`' components on pictures of `pixels` pixels (the
    whole batch); without components, the pictures themselves (RGB float32)."""
    picture = pixels * 12
    work = 0.0
    for key, size in sizes.items():
        kind = next((name for name in MAPS if key[1].startswith(name)), None)
        if kind is None:
            work += size * WORK_PER_WEIGHT_BYTE
            continue
        maps, per_cell = MAPS[kind]
        if kind == "vae":
            pixels = min(pixels, VAE_TILED_PIXELS)
        work += pixels / per_cell * (widths.get(key) or DEFAULT_WIDTH[kind]) * maps * (
            FULL_PRECISION_BYTES if key in full_precision else dtype_bytes)
    if not sizes:
        work = picture
    return int(work)
