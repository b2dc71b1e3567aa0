"""How a node type is declared: once, as data, so the GUI, the CLI and the executor share it.

A node is a subclass of `Node` with class attributes (stable `type_id`, `title`, `category`,
`version`, typed `inputs` and `outputs`) and one `run` method. Widgets, validation, the
`nodeflow nodes` listing and workflow migration are all generated from the declaration.

Scalar inputs (INT, FLOAT, STRING, BOOLEAN) are *parameters*: their value is stored in the workflow
and edited by a widget, and a link may drive them instead ("converted to input"). Every other input
is link-only. Inputs and outputs are always addressed by name, never by position, so adding an
input to a node never shifts the values saved for the others.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from nodeflow.core.flow_size import FlowSize
from nodeflow.core.types import SCALAR_TYPES, coerce_scalar, format_number

if TYPE_CHECKING:
    from nodeflow.core.context import RunContext


class _Required:
    """Sentinel default: the input must be linked or given a value."""

    def __repr__(self) -> str:
        return "REQUIRED"


REQUIRED: Any = _Required()


@dataclass(frozen=True)
class Input:
    """A typed input socket, with the default and widget hints a parameter needs.

    `file` marks a STRING parameter that names a file or folder (the GUI offers a picker, the
    validator checks it exists); `model` names the model-library kind ("checkpoints", "loras"...)
    whose names the parameter takes: the engine resolves it through `nodeflow.library` (by name,
    then by the hash the workflow recorded) before `run`, which gets an existing path;
    `seed` asks the GUI for randomize/fixed/increment controls. `lazy` marks an input evaluated
    only when the node asks for it (`Node.lazy_needs`): what feeds a switch's unchosen branch
    never runs.
    `widget` names a special editor the GUI offers instead of a text field ("mask": a mask painted
    over the picture named by the node's file input). `check` is an extra test of the value
    (raising ValueError), run wherever values are checked, so validation refuses what `run` would.
    """

    name: str
    type: str
    default: Any = REQUIRED
    optional: bool = False
    help: str = ""
    min: float | None = None
    max: float | None = None
    step: float | None = None
    choices: tuple[str, ...] | None = None
    multiline: bool = False
    seed: bool = False
    file: str | None = None  # "file", "folder" or "file-or-folder"
    media: str | None = None  # what a file input reads, for upload lists: "video", "audio" (pictures if None)
    #: A STRING naming files the node writes in the output folder; held to the output rule.
    output_prefix: bool = False
    widget: str | None = None
    model: str | None = None  # a nodeflow.library kind, e.g. "checkpoints"
    lazy: bool = False
    #: An extra rule for the value (a template's syntax, a mask's encoding): raises ValueError
    #: saying what is wrong. Runs wherever a value enters: file, `--set`, GUI.
    check: Callable[[Any], None] | None = field(default=None, compare=False)

    @property
    def is_parameter(self) -> bool:
        """Whether the value can be stored in the workflow and edited by a widget."""
        return self.type in SCALAR_TYPES

    @property
    def required(self) -> bool:
        return not self.optional and self.default is REQUIRED

    def check_value(self, value: Any) -> Any:
        """Return `value` converted to this input's type, or raise ValueError saying what is wrong."""
        value = coerce_scalar(value, self.type)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            if self.min is not None and value < self.min:
                raise ValueError(f"{format_number(value)} is below the minimum {format_number(self.min)}")
            if self.max is not None and value > self.max:
                raise ValueError(f"{format_number(value)} is above the maximum {format_number(self.max)}")
        if self.choices is not None and value not in self.choices:
            shown = repr(value) if len(repr(value)) <= 60 else repr(value)[:57] + "..."
            raise ValueError(f"{shown} is not one of {', '.join(self.choices)}")
        if self.check is not None:
            self.check(value)
        return value

    def describe(self) -> dict[str, Any]:
        """Plain-data description for `nodeflow nodes --json` and the GUI."""
        out: dict[str, Any] = {"name": self.name, "type": self.type}
        if self.default is not REQUIRED:
            out["default"] = self.default
        for key in ("optional", "multiline", "seed", "output_prefix", "lazy"):
            if getattr(self, key):
                out[key] = True
        for key in ("min", "max", "step", "file", "media", "model", "widget", "help"):
            if getattr(self, key) not in (None, ""):
                out[key] = getattr(self, key)
        if self.choices is not None:
            out["choices"] = list(self.choices)
        return out


@dataclass(frozen=True)
class MemoryNeed:
    """Memory a node will need, worked out from its parameters before anything runs.

    `budget` is a hard ceiling of the node's own (a pixel budget, say), refused even when the
    machine has the memory; without one the need is compared with the memory available. The
    engine's estimate (`nodeflow.engine.estimate`) collects these, so the rule lives in one place.
    """

    bytes: int
    field: str | None
    reason: str
    budget: int | None = None
    #: Pixels of the pictures the need is about (the whole batch; 0 if it is not pictures, e.g. one
    #: tile's feature maps): the memory plan sizes the work of the nodes downstream by them.
    pixels: int = 0


#: Bytes per weight of a part that runs in float32 (`Weights.full_precision`).
FULL_PRECISION_BYTES = 4


@dataclass(frozen=True)
class Weights:
    """A model component a loader node holds in memory once it has run: the memory plan adds its
    size to every node that uses the output carrying it (through LoRAs, guiders, reroutes)."""

    component: str  # "unet", "text_encoder", "vae", "controlnet"...
    output: str  # the output that carries it
    count: int  # number of weights (elements); the plan multiplies by the device's dtype size
    #: Channels of its full-resolution feature maps (a VAE decoder's last block, a UNet's first),
    #: which the plan scales a node's working memory by; 0 if unknown.
    width: int = 0
    #: The picture side in pixels the model makes by default (512 for SD 1.5, 1024 for SDXL): what
    #: a size of 0 means to the nodes that sample or decode with it; 0 if unknown.
    native: int = 0
    #: The link type it rides on once applied, if another than its output's: a ControlNet attached
    #: to CONDITIONING is needed by the sampler that receives that conditioning.
    rides: str = ""
    #: Bytes held in a storage format of their own whatever the device's dtype (quantized weights:
    #: fp8, int8, GGUF blocks, which stay stored and are dequantized per layer as it runs).
    stored: int = 0
    #: Runs in float32 even where the device computes in half precision (the loader's precision
    #: rule says so: an SDXL VAE overflows in fp16), for its weights and its working memory.
    full_precision: bool = False

    def nbytes(self, dtype_bytes: int) -> int:
        """Bytes it takes loaded on a device that computes in `dtype_bytes` per weight: what the
        memory plan counts and what the loader asks its model store to make room for, one number."""
        return int(self.count) * (FULL_PRECISION_BYTES if self.full_precision else dtype_bytes) + int(self.stored)


@dataclass(frozen=True)
class Output:
    """A typed output socket."""

    name: str
    type: str
    help: str = ""


@dataclass(frozen=True)
class Migration:
    """How a saved node of version `n` becomes version `n + 1`.

    Declarative renames keep links and values attached to the right socket; `params` may rewrite
    values (it receives and returns a plain dict and must not have side effects).
    """

    rename_inputs: Mapping[str, str] = field(default_factory=dict)
    rename_outputs: Mapping[str, str] = field(default_factory=dict)
    params: Callable[[dict[str, Any]], dict[str, Any]] | None = None


class Node:
    """Base class of every node type. Subclasses declare; the executor calls `run`.

    `run(ctx, **inputs)` receives every input by name (linked values, parameter values or defaults;
    an unlinked optional input without a default arrives as None) and returns a dict keyed by
    output name, or a tuple in output order. Nodes must not import Qt, and heavy libraries (torch,
    diffusers) are imported inside `run`, so listing and validating workflows stays instant.
    """

    type_id: ClassVar[str] = ""
    title: ClassVar[str] = ""
    category: ClassVar[str] = "misc"
    description: ClassVar[str] = ""
    version: ClassVar[int] = 1
    inputs: ClassVar[tuple[Input, ...]] = ()
    outputs: ClassVar[tuple[Output, ...]] = ()
    # -- flags: every behaviour that depends on the kind of node reads one of these, so core,
    # engine and GUI never name a node type id. A new kind of node behaviour is a new flag here.
    #: Output nodes (save, preview, ...) are what a run is planned backwards from.
    is_output: ClassVar[bool] = False
    #: What inputs mean in a saved picture's A1111-style parameters text (input name -> a role of
    #: `core.infotext.ROLES`: "prompt", "seed", "steps", ...), so A1111, Forge and Civitai read them.
    infotext: ClassVar[Mapping[str, str]] = {}
    #: Integer size inputs where 0 means the native picture side of the model the node's output is
    #: used with (Empty Latent's width and height): the memory plan puts that model's side in.
    native_size_inputs: ClassVar[tuple[str, ...]] = ()
    #: False for nodes whose result may differ between runs with equal inputs (unseeded randomness).
    cacheable: ClassVar[bool] = True
    #: True for nodes whose ANY output carries whatever reaches their first input (reroutes), so
    #: type checks look through them to the real source.
    passthrough: ClassVar[bool] = False
    #: Nodes whose result depends on their inputs alone and comes instantly, without torch or
    #: files (numbers, text, maths): the planner may run them to learn which branch a switch
    #: downstream takes before anything else runs.
    pure: ClassVar[bool] = False
    #: Type ids this node was saved under before (renames keep old files loading).
    legacy_ids: ClassVar[tuple[str, ...]] = ()
    #: migrations[n] turns a saved version-n node into version n + 1.
    migrations: ClassVar[Mapping[int, Migration]] = {}

    def run(self, ctx: RunContext, **inputs: Any) -> Mapping[str, Any] | tuple[Any, ...]:
        raise NotImplementedError

    @classmethod
    def lazy_needs(cls, values: Mapping[str, Any]) -> tuple[str, ...]:
        """The lazy inputs (`Input.lazy`) this node needs, given the values of its other inputs.

        Called before `run`, by the planner when those values are known in advance (parameters,
        pure nodes) and else by the executor once they are computed; only the inputs named here
        are evaluated, and `run` gets None for the others. Must be cheap and side-effect free.
        Default: every lazy input.
        """
        return cls.lazy_inputs()

    @classmethod
    def lazy_inputs(cls) -> tuple[str, ...]:
        """Names of the inputs evaluated only on request."""
        return tuple(i.name for i in cls.inputs if i.lazy)

    @classmethod
    def memory_needs(cls, params: Mapping[str, Any], resolve: Callable[[str], Path]) -> list[MemoryNeed]:
        """What running this node with these parameter values will allocate, for validation.

        `params` holds the node's checked parameter values (linked inputs are absent); `resolve`
        finds a file parameter the way the run will. Cheap: reads headers at most, never torch.
        """
        return []

    @classmethod
    def weights(cls, params: Mapping[str, Any], resolve: Callable[[str], Path]) -> list[Weights]:
        """The model components running this node loads (loaders only), for the memory plan.

        Same arguments as `memory_needs`; read from file headers, never torch.
        """
        return []

    @classmethod
    def device_problems(cls, params: Mapping[str, Any], resolve: Callable[[str], Path], device: str
                        ) -> list[tuple[str, str]]:
        """(input name, one-line reason) for what these parameter values ask that `device` cannot
        run (a quantization its torch cannot hold), for validation. Same arguments as
        `memory_needs`; cheap: headers at most, never torch."""
        return []

    @classmethod
    def picture_pixels(cls, params: Mapping[str, Any], pixels: int) -> int:
        """Pixels of each picture this node puts out when the largest coming in have `pixels`, for
        the memory plan: a resize says its own (a hires-fix upscale makes the second sampler's and
        the decode's work grow). Default: the same."""
        return pixels

    @classmethod
    def output_size(cls, params: Mapping[str, Any], sizes: Mapping[str, FlowSize]) -> FlowSize:
        """The size of what this node puts out, given its parameter values and the size of what
        comes in on each linked input (`sizes`, by input name), for the memory plan. Cheap and
        torch-free. Default: the largest batch, picture (resized by `picture_pixels`) and prompt
        coming in; a node that joins, repeats, pads or concatenates says its own."""
        if not sizes:
            return FlowSize()
        field = max(sizes, key=lambda name: (sizes[name].total_pixels, sizes[name].tokens))
        pixels = max(s.pixels for s in sizes.values())
        return FlowSize(max(s.batch for s in sizes.values()), cls.picture_pixels(params, pixels) if pixels else 0,
                        max(s.tokens for s in sizes.values()), field)

    @classmethod
    def is_reroute(cls) -> bool:
        """A passthrough with one input and one output: the GUI draws it as a dot on a wire."""
        return cls.passthrough and len(cls.inputs) == 1 and len(cls.outputs) == 1

    @classmethod
    def input(cls, name: str) -> Input | None:
        return _by_name(cls, "inputs").get(name)

    @classmethod
    def output(cls, name: str) -> Output | None:
        return _by_name(cls, "outputs").get(name)

    @classmethod
    def default_params(cls) -> dict[str, Any]:
        """The parameter values a freshly added node starts with."""
        return {i.name: i.default for i in cls.inputs if i.is_parameter and i.default is not REQUIRED}

    @classmethod
    def describe(cls) -> dict[str, Any]:
        return {
            "type": cls.type_id,
            "title": cls.title,
            "category": cls.category,
            "version": cls.version,
            "description": cls.description,
            "output_node": cls.is_output,
            "inputs": [i.describe() for i in cls.inputs],
            "outputs": [{"name": o.name, "type": o.type} for o in cls.outputs],
        }


def check_declaration(cls: type[Node]) -> list[str]:
    """Mistakes in a node declaration, so a broken plugin is refused at registration."""
    errors: list[str] = []
    if not cls.type_id:
        errors.append("has no type_id")
    if not cls.title:
        errors.append("has no title")
    names = [i.name for i in cls.inputs]
    if len(names) != len(set(names)):
        errors.append("declares an input name twice")
    outs = [o.name for o in cls.outputs]
    if len(outs) != len(set(outs)):
        errors.append("declares an output name twice")
    for inp in cls.inputs:
        if inp.default is not REQUIRED and not _is_json_value(inp.default):
            errors.append(f"input '{inp.name}' has a default that is not a JSON value")
            continue
        if inp.is_parameter and inp.default is not REQUIRED:
            try:
                inp.check_value(inp.default)
            except ValueError as exc:
                errors.append(f"input '{inp.name}' has a bad default: {exc}")
    if cls.run is Node.run:
        errors.append("does not implement run()")
    return errors


def _is_json_value(value: Any) -> bool:
    """Whether `value` can be written to a workflow file and `nodeflow nodes --json` as it is."""
    try:
        json.dumps(value, allow_nan=False)
    except (TypeError, ValueError, RecursionError):
        return False
    return True


def _by_name(cls: type[Node], kind: str) -> dict[str, Any]:
    """The class's inputs or outputs by name (the first of a name wins), made once per declaration:
    validation asks for several sockets of every node. Rebuilt when `kind` is reassigned."""
    sockets = getattr(cls, kind)
    cached = cls.__dict__.get(f"_{kind}_by_name")
    if cached is None or cached[0] is not sockets:
        table: dict[str, Any] = {}
        for socket in sockets:
            table.setdefault(socket.name, socket)
        cached = (sockets, table)
        setattr(cls, f"_{kind}_by_name", cached)
    return cached[1]
