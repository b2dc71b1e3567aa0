"""What happens to a seed parameter after each run (ComfyUI's control_after_generate), as data.

A node keeps its seeds' modes in `ui["seed_control"]` ({input name: mode}). "fixed" is the default
and is stored by leaving the name out, so a node whose seeds are all fixed has no `seed_control`
key and files that never used it keep their bytes. The range is the nodes' own (core.types.SEED_MAX).
"""

from __future__ import annotations

import random
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from nodeflow.core.seeds import random_seed, step_seed


class SeedMode(str, Enum):
    FIXED = "fixed"
    INCREMENT = "increment"
    DECREMENT = "decrement"
    RANDOMIZE = "randomize"


SEED_MODES = tuple(mode.value for mode in SeedMode)


@dataclass(frozen=True)
class SeedControls:
    """The seed modes of one node; unknown or missing names are fixed."""

    modes: Mapping[str, SeedMode] = field(default_factory=dict)

    @classmethod
    def from_ui(cls, ui: Mapping[str, Any]) -> SeedControls:
        stored = ui.get("seed_control") or {}
        return cls({name: SeedMode(mode) for name, mode in stored.items() if mode in SEED_MODES})

    def mode(self, name: str) -> SeedMode:
        return self.modes.get(name, SeedMode.FIXED)

    def with_mode(self, name: str, mode: str) -> SeedControls:
        """A copy with one seed's mode set; ValueError names the modes for an unknown one."""
        if mode not in SEED_MODES:
            raise ValueError(f"seed mode must be one of {', '.join(SEED_MODES)}")
        modes = {k: v for k, v in self.modes.items() if k != name}
        if mode != SeedMode.FIXED:
            modes[name] = SeedMode(mode)
        return SeedControls(modes)

    def to_ui(self) -> dict[str, str] | None:
        """The `seed_control` value to store; None (remove the key) when every seed is fixed."""
        return {name: mode.value for name, mode in self.modes.items()} or None

    def moving(self) -> Iterator[tuple[str, SeedMode]]:
        """The seeds that change after a run, with how."""
        return ((name, mode) for name, mode in self.modes.items() if mode != SeedMode.FIXED)


def next_seed(mode: str, value: int, rng: random.Random | None = None) -> int:
    """The seed after a run: ComfyUI's control_after_generate, wrapping within 0..SEED_MAX."""
    if mode == SeedMode.INCREMENT:
        return step_seed(value, 1)
    if mode == SeedMode.DECREMENT:
        return step_seed(value, -1)
    if mode == SeedMode.RANDOMIZE:
        return random_seed(rng)
    return value
