"""A sandbox for hostile workflows: a work folder, an output folder inside it, user plugins, and a
check that nothing was written anywhere but the output folder."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from nodeflow.cli import main


@dataclass
class Sandbox:
    root: Path
    out: Path
    capsys: pytest.CaptureFixture
    inputs: set[Path] = field(default_factory=set)

    def file(self, name: str, data: str | bytes) -> Path:
        path = self.root / "work" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
        self.inputs.add(path)
        return path

    def workflow(self, nodes: list[dict], links: list[tuple] = (), name: str = "wf.json", **top) -> Path:
        data = {"format": "nodeflow-workflow", "version": 1, "nodes": nodes,
                "links": [{"from": [a, b], "to": [c, d]} for a, b, c, d in links], **top}
        return self.file(name, json.dumps(data))

    def plugin(self, name: str, source: str) -> Path:
        folder = Path(os.environ["NODEFLOW_HOME"]) / "nodes"
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{name}.py"
        path.write_text(source)
        return path

    def cli(self, *args: str) -> tuple[int, str]:
        """Run `nodeflow ARGS`; (exit code, stderr). `run` gets --out and --device cpu."""
        argv = list(map(str, args))
        if argv[0] == "run":
            argv += ["--out", str(self.out), "--device", "cpu", "--quiet"]
        self.capsys.readouterr()
        code = main(argv)
        captured = self.capsys.readouterr()
        self.stdout = captured.out
        return code, captured.err

    def written_outside(self) -> list[Path]:
        """Files under the sandbox that are neither inputs nor inside the output folder."""
        found = []
        for path in self.root.rglob("*"):
            if path.is_file() and path not in self.inputs and self.out not in path.parents:
                found.append(path)
        return found


def names(err: str, node: str, field: str | None = None) -> bool:
    """Whether an error text names the node (and the input)."""
    where = f"node {node} input '{field}'" if field else f"node {node}"
    return where in err
