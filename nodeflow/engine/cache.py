"""Executor step 3: Merkle-style result keys, and why a node had to run again.

A node's key hashes its type, version, mode, parameter values and, for each linked input, the key
of the node feeding it plus the output name. So a key changes exactly when something upstream
changed, an unchanged graph is served from the cache without running anything, and a changed seed
re-runs the sampler and what follows but not the text encoder or the model load.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Signature:
    """What a node's key is made of, kept to explain the next re-run."""

    params: dict[str, str]  # parameter name -> JSON text of its value
    inputs: dict[str, str]  # linked input name -> upstream key + output name
    head: str  # type, version and mode

    def key(self) -> str:
        text = json.dumps([self.head, self.params, self.inputs], sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()

    def parts(self) -> tuple[str, str, str]:
        """(type id, version, mode) from the head."""
        type_id, _, rest = self.head.partition("@")
        version, _, mode = rest.partition(":")
        return type_id, version, mode.partition(":")[0]

    def changes_since(self, before: Signature | None) -> str:
        """A human reason for running: which parameter or input changed."""
        if before is None:
            return "not run before"
        if before.head != self.head:
            (old_type, old_version, old_mode), (new_type, new_version, new_mode) = before.parts(), self.parts()
            if old_type != new_type:
                return "not run before"  # another node that had this id (e.g. before File > New)
            if old_version != new_version:
                return f"node version changed ({old_version} -> {new_version})"
            if old_mode != new_mode:
                return f"mode changed ({old_mode} -> {new_mode})"
            return "not cacheable"
        changed = [f"parameter '{n}'" for n in sorted(set(self.params) | set(before.params))
                   if self.params.get(n) != before.params.get(n)]
        changed += [f"input '{n}'" for n in sorted(set(self.inputs) | set(before.inputs))
                    if self.inputs.get(n) != before.inputs.get(n)]
        return (", ".join(changed) + " changed") if changed else "not cacheable"


def make_signature(type_id: str, version: int, mode: str, params: dict[str, Any],
                   upstream: dict[str, tuple[str, str]], cacheable: bool) -> Signature:
    """Signature of a node from its values and its inputs' (upstream key, output name)."""
    head = f"{type_id}@{version}:{mode}"
    if not cacheable:
        head += ":" + uuid.uuid4().hex  # never equal to anything: always runs
    return Signature(
        params={k: json.dumps(v, sort_keys=True, default=repr) for k, v in params.items()},
        inputs={k: f"{key}:{out}" for k, (key, out) in upstream.items()},
        head=head,
    )


@dataclass
class ResultCache:
    """Outputs of the last run, by key, and each node's last signature (for run reasons)."""

    results: dict[str, dict[str, Any]] = field(default_factory=dict)
    signatures: dict[str, Signature] = field(default_factory=dict)
    #: key -> {model file: hash} a result was computed from, replayed on a hit so the run's
    #: manifest still names the models behind a cached result.
    model_files: dict[str, dict[str, str]] = field(default_factory=dict)

    def get(self, key: str) -> dict[str, Any] | None:
        return self.results.get(key)

    def put(self, node_id: str, signature: Signature, outputs: dict[str, Any],
            model_files: dict[str, str] | None = None) -> None:
        key = signature.key()
        self.results[key] = outputs
        self.signatures[node_id] = signature
        if model_files:
            self.model_files[key] = dict(model_files)

    def drop(self, key: str) -> None:
        """Forget one result (the memory manager needs its room); the node runs again when needed."""
        self.results.pop(key, None)
        self.model_files.pop(key, None)

    def keep_only(self, live_keys: set[str], live_nodes: set[str]) -> None:
        """Drop results no current node can use, so old latents and images free their memory."""
        self.results = {k: v for k, v in self.results.items() if k in live_keys}
        self.model_files = {k: v for k, v in self.model_files.items() if k in live_keys}
        self.signatures = {k: v for k, v in self.signatures.items() if k in live_nodes}

    def clear(self) -> None:
        self.results.clear()
        self.signatures.clear()
        self.model_files.clear()
