"""Validation's look at one node (executor step 1, node by node; `plan.validate` walks the graph).

A node's type must be installed, its stored values must be ones its parameters take, its links
must come from outputs that exist and carry a type its inputs accept, its required inputs must be
linked or set, and the files and models it names must be found and readable. Each problem names
the node and the input it is about.

Checking is linear in the graph's size with a small constant: what depends only on a node's type
is looked up once per type (`node_types`), and a node without problems builds no lists or
messages, so a 200,000-node workflow validates in under 3 CPU seconds (`bench/validate_scale.py`).
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from nodeflow.core.errors import Problem, shown
from nodeflow.core.graph import Graph, Link
from nodeflow.core.paths import exists, resolve_path
from nodeflow.core.reads import ReadRule
from nodeflow.core.spec import REQUIRED, Input, Node
from nodeflow.core.types import ANY, can_connect
from nodeflow.engine.node_types import TypeFacts
from nodeflow.library import ModelLibrary, ModelNotFound

#: Stored values the checks of one validation remember (hashable, and what parameters hold).
_SCALARS = (str, int, float)


class NodeChecks:
    """The per-node checks of one validation, with what they share: the graph's type table, where
    files and models are looked for, the read rule, and what the checks found on the way."""

    def __init__(self, graph: Graph, types: Mapping[str, TypeFacts | None], library: ModelLibrary,
                 search_dirs: tuple[Path, ...], reads: ReadRule) -> None:
        self.graph, self.nodes, self.types = graph, graph.nodes, types
        self.library, self.search_dirs, self.reads = library, search_dirs, reads
        #: Nodes with a file input that `reads` refuses: nothing else may read that file's header.
        self.refused: set[str] = set()
        #: Output types through reroutes, each chain walked once (`Graph.output_type`).
        self.carried: dict[tuple[str, str], str | None] = {}
        #: (input's id, value's class, value) -> why the input refuses that value, or None
        #: (`_value_error`); the inputs belong to the graph's classes, alive while this is.
        self.value_errors: dict[tuple[int, type, Any], str | None] = {}

    def check(self, node_id: str, links_in: Sequence[Link], problems: list[Problem]) -> None:
        """Append the node's problems to `problems`, inputs in their declared order."""
        record = self.nodes[node_id]
        facts = self.types[record.type]
        if facts is None:
            problems.append(Problem(f"unknown node type '{record.type}' (is the plugin that provides it installed?)",
                                    node_id))
            return
        params = record.params
        if not facts.parameters.issuperset(params):
            problems += unknown_params(params, facts.cls, node_id)
        for link in links_in:
            if link.dst_input not in facts.inputs:
                problems.append(Problem("is linked but the node has no such input", node_id, link.dst_input))
        linked = {link.dst_input: link for link in links_in} if links_in else {}
        for inp in facts.cls.inputs:
            link = linked.get(inp.name)
            if link is not None:
                self._check_link(node_id, inp, link, problems)
            elif inp.name in facts.parameters:
                if record.mode == "bypass" and (inp.file or inp.model):
                    continue  # a bypassed node only passes its inputs on: the file it names is never read
                self._check_value(node_id, inp, params.get(inp.name, inp.default), problems)
            elif inp.required and not inp.lazy:  # a lazy one only if taken (`plan._unlinked_choice`)
                problems.append(Problem(f"required {inp.type} input is not linked", node_id, inp.name))

    def _check_link(self, node_id: str, inp: Input, link: Link, problems: list[Problem]) -> None:
        """The output a link comes from exists and carries a type `inp` accepts."""
        source = self.types[self.nodes[link.src].type]
        if source is None:
            return  # reported on the source node itself
        out = source.outputs.get(link.src_output)
        if out is None:
            problems.append(Problem(
                f"is linked to output '{link.src_output}' of node {link.src}, which has no such output",
                node_id, inp.name))
            return
        # only an output of any type (a reroute's) needs the walk to what feeds it
        out_type = out.type
        if out_type == ANY:
            out_type = self.graph.output_type(link.src, link.src_output, self.carried) or ANY
        if not can_connect(out_type, inp.type):
            problems.append(Problem(
                f"expects {inp.type}, but node {link.src} output '{link.src_output}' gives {out_type}",
                node_id, inp.name))

    def _check_value(self, node_id: str, inp: Input, value: Any, problems: list[Problem]) -> None:
        """An unlinked parameter's value (stored or default) is set, valid, and names what exists."""
        if value is REQUIRED:
            if not inp.optional:
                problems.append(Problem("has no value and is not linked", node_id, inp.name))
            return
        if inp.file or inp.model:
            try:
                value = inp.check_value(value)
            except ValueError as exc:
                problems.append(Problem(str(exc), node_id, inp.name))
                return
            self._check_source(node_id, inp, value, problems)
        elif (error := self._value_error(inp, value)) is not None:
            problems.append(Problem(error, node_id, inp.name))

    def _value_error(self, inp: Input, value: Any) -> str | None:
        """Why `inp` refuses `value` (`Input.check_value`), or None; a scalar value many nodes store
        (a sampler's name, a template) is checked once per input. Keyed by the value's class too:
        True, 1 and 1.0 are equal keys but not equally valid."""
        key = (id(inp), type(value), value) if isinstance(value, _SCALARS) else None
        if key is not None and key in self.value_errors:
            return self.value_errors[key]
        try:
            inp.check_value(value)
            error = None
        except ValueError as exc:
            error = str(exc)
        if key is not None:
            self.value_errors[key] = error
        return error

    def _check_source(self, node_id: str, inp: Input, value: Any, problems: list[Problem]) -> None:
        """A file or model input's checked value is chosen, found and readable."""
        if not inp.optional and not str(value).strip():
            what = "model" if inp.model else "folder" if inp.file == "folder" else "file"
            problems.append(Problem(f"no {what} chosen", node_id, inp.name))
        elif inp.model and value:
            try:
                path = self.library.resolve_recorded(inp.model, value, self.graph.manifest, self.search_dirs)
            except ModelNotFound as exc:
                problems.append(Problem(str(exc), node_id, inp.name))
                return
            if (refusal := self.reads.refusal(path, value)) is not None:
                self.refused.add(node_id)
                problems.append(Problem(refusal, node_id, inp.name))
        elif inp.file and value:
            path = resolve_path(value, self.search_dirs)
            if (refusal := self.reads.refusal(path, value)) is not None:
                self.refused.add(node_id)
                problems.append(Problem(refusal, node_id, inp.name))
            elif not exists(path):
                looked = ", ".join(str(d) for d in self.search_dirs)
                problems.append(Problem(f"file not found: '{shown(value, 120)}' (looked in {looked})",
                                        node_id, inp.name))


def unknown_params(params: Mapping[str, Any], cls: type[Node], node_id: str) -> list[Problem]:
    """Values stored under names the node type does not have ("stpes" for "steps"), which would
    otherwise be ignored while the default runs. They stay in the file; the run refuses them."""
    problems = []
    for name in params:
        inp = cls.input(name)
        if inp is not None and inp.is_parameter:
            continue
        if inp is not None:
            problems.append(Problem(f"a {inp.type} input takes a link, not a value", node_id, name))
            continue
        names = [inp.name for inp in cls.inputs if inp.is_parameter]
        close = difflib.get_close_matches(name, names, n=1)
        hint = f"; did you mean '{close[0]}'?" if close else f" (it has {', '.join(names) or 'none'})"
        problems.append(Problem(f"'{cls.title}' has no parameter of this name{hint}", node_id, name[:80]))
    return problems
