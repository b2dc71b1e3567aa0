"""What both ComfyUI formats are read into before mapping: named values, links by name, layout.

The API and UI readers differ in how they find names (API inputs are named; UI widgets are
positions named through the class map); from here on the mapping to NodeFlow is shared.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class CNode:
    """One executable ComfyUI node (frontend-only nodes are already resolved away)."""

    id: str
    class_type: str
    #: Literal input values by ComfyUI name (API inputs, or UI widgets named by the class map).
    values: dict[str, Any] = field(default_factory=dict)
    #: Input name -> (source node id, output index).
    links: dict[str, tuple[str, int]] = field(default_factory=dict)
    mode: str = "normal"
    title: str | None = None
    pos: list[float] | None = None
    size: list[float] | None = None
    color: str | None = None
    #: Seed widget name -> what the UI does to it after a run.
    seed_control: dict[str, str] = field(default_factory=dict)
    #: ComfyUI output names by index, where the file says them (UI files).
    output_names: list[str] = field(default_factory=list)
    #: Widgets the UI turned into inputs (their links are in `links`).
    widget_inputs: list[str] = field(default_factory=list)
    #: The node as the file has it, kept for placeholders and export.
    original: dict[str, Any] = field(default_factory=dict)
    #: Values the reader could not name with certainty (short or long widgets_values).
    unnamed: list[Any] | None = None


@dataclass
class CGroup:
    title: str
    rect: list[float]
    color: str | None = None


@dataclass
class CNote:
    text: str
    pos: list[float] | None = None
    size: list[float] | None = None
    title: str | None = None
    color: str | None = None


@dataclass
class Parsed:
    """A ComfyUI graph as the readers leave it; `problems` are lines for the import report."""

    format: str  # "api" or "ui"
    nodes: dict[str, CNode] = field(default_factory=dict)
    groups: list[CGroup] = field(default_factory=list)
    notes: list[tuple[str, CNote]] = field(default_factory=list)
    #: (node id, class, what was dropped and why): frontend-only nodes resolved away, bad links.
    dropped: list[tuple[str, str, str]] = field(default_factory=list)
    #: Lines about the file as a whole or about one node (naming its id and class).
    problems: list[str] = field(default_factory=list)
    #: Lines about values an older version of a class did not have (they take their defaults).
    older: list[str] = field(default_factory=list)
    #: Lines about leftovers of edits dropped as ComfyUI drops them (stale links; nothing is lost).
    leftovers: list[str] = field(default_factory=list)
    models: dict[str, str] = field(default_factory=dict)  # manifest key -> "sha256:..."
    model_urls: dict[str, str] = field(default_factory=dict)  # manifest key -> where to download it
