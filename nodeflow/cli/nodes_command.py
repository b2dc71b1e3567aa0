"""`nodeflow nodes [--json]`: every registered node type with its inputs and outputs."""

from __future__ import annotations

import argparse
import json
import sys

from nodeflow.cli.common import EXIT_OK


def add_parser(sub) -> None:
    parser = sub.add_parser("nodes", help="list every node type with its inputs and outputs")
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    parser.set_defaults(handler=handler)


def handler(args: argparse.Namespace) -> int:
    from nodeflow.core import default_registry

    registry = default_registry()
    if args.json:
        print(json.dumps(describe_all(registry), indent=2))
        return EXIT_OK
    for cls in registry:
        ins = ", ".join(f"{i.name}: {i.type}" for i in cls.inputs)
        outs = ", ".join(f"{o.name}: {o.type}" for o in cls.outputs)
        print(f"{cls.type_id:<28} {cls.title} [{cls.category}]\n    in:  {ins or '-'}\n    out: {outs or '-'}")
    for source, message in registry.problems:
        print(f"skipped {source}: {message}", file=sys.stderr)
    return EXIT_OK


def describe_all(registry) -> list[dict]:
    """Every node type's description; one that cannot be described is reported, not fatal."""
    described = []
    for cls in registry:
        try:
            item = cls.describe()
            json.dumps(item, allow_nan=False)
        except Exception as exc:  # a plugin's odd declaration must not hide the other node types
            print(f"skipped {cls.type_id}: cannot be described ({type(exc).__name__}: {exc})", file=sys.stderr)
            continue
        described.append(item)
    for source, message in registry.problems:
        print(f"skipped {source}: {message}", file=sys.stderr)
    return described
