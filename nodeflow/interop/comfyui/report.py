"""The import report: what became a NodeFlow node, what stayed a placeholder, what was dropped, and why."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class ImportReport:
    source: str = ""  # e.g. "ComfyUI UI workflow (PNG 'workflow' chunk)"
    #: (ComfyUI id, class, NodeFlow type id)
    mapped: list[tuple[str, str, str]] = field(default_factory=list)
    #: (ComfyUI id, class, why it could not be mapped)
    placeholders: list[tuple[str, str, str]] = field(default_factory=list)
    #: (ComfyUI id, class, what happened to it)
    dropped: list[tuple[str, str, str]] = field(default_factory=list)
    #: Lines that change or lose a value (each names the node id and class).
    problems: list[str] = field(default_factory=list)
    #: Lines about meaning-preserving conversions (denoise, nearest sampler names...).
    notes: list[str] = field(default_factory=list)
    #: Nodes whose behaviour has not been shown to give ComfyUI's pixels ("node 11: why"): while
    #: any is listed, no sampler note promises them.
    unproven: list[str] = field(default_factory=list)

    @property
    def fully_mapped(self) -> bool:
        """Every executable node became a NodeFlow node and no value or link was lost."""
        return not self.placeholders and not self.problems

    def lines(self) -> list[str]:
        out = [f"imported {self.source}: {len(self.mapped)} mapped, {len(self.placeholders)} kept as "
               f"placeholders, {len(self.dropped)} dropped"]
        out += [f"placeholder: node {i} ({c}): {why}" for i, c, why in self.placeholders]
        out += [f"dropped: node {i} ({c}): {why}" for i, c, why in self.dropped]
        out += [f"problem: {line}" for line in self.problems]
        out += [f"converted: {line}" for line in self.notes]
        return out
