"""`nodeflow models [--kind K] [--json] [--hash]`: what the model library sees, and where it looks.

`nodeflow models fetch ...` (module `models_fetch`) downloads missing models into it.
"""

from __future__ import annotations

import argparse
import json
import sys

from nodeflow.cli import models_fetch
from nodeflow.cli.common import EXIT_INVALID, EXIT_OK, add_model_folder_args, apply_model_folder_args


def add_parser(sub) -> None:
    from nodeflow.library import KINDS

    parser = sub.add_parser("models", help="list the model library: models by kind and the folders searched")
    parser.add_argument("--kind", choices=KINDS, help="only this kind of model")
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    parser.add_argument("--hash", action="store_true",
                        help="compute missing sha256 hashes (once; they are kept in the index)")
    add_model_folder_args(parser)
    parser.set_defaults(handler=handler)
    actions = parser.add_subparsers(dest="models_action", metavar="ACTION")
    models_fetch.add_parser(actions)


def handler(args: argparse.Namespace) -> int:
    from nodeflow.library import KINDS, default_library
    from nodeflow.library.library import put_it_here

    apply_model_folder_args(args)
    library = default_library()
    kinds = (args.kind,) if args.kind else KINDS
    models = [_describe(library, entry, args.hash) for entry in library.scan(args.kind)]
    folders = {kind: [{"path": str(f.path), "source": f.source, "exists": f.path.is_dir()}
                      for f in library.folders.for_kind(kind)] for kind in kinds}
    for problem in library.folders.problems:
        print(f"warning: {problem}", file=sys.stderr)
    if args.json:
        print(json.dumps({"models": models, "folders": folders}, indent=1))
        return EXIT_OK
    for kind in kinds:
        print(f"{kind}:")
        for model in (m for m in models if m["kind"] == kind):
            print(f"  {model['name']}  ({_facts(model)}, {model['source']})")
        searched = ", ".join(f["path"] for f in folders[kind] if f["exists"]) or "none exist yet"
        print(f"  folders searched: {searched}; new ones go in {put_it_here(kind, '')}")
    return EXIT_INVALID if library.folders.problems else EXIT_OK


def _describe(library, entry, compute: bool) -> dict:
    """One model's line of facts: family and kind from its header, size, the hashes known (or
    computed, with --hash): sha256, AutoV2 (A1111's Model hash) and AutoV3 (its LoRA hash)."""
    from nodeflow.library.detect import identify
    from nodeflow.library.hashes import AUTOV3_DIGITS, autov2

    digest = library.index.sha256(entry.path) if compute else library.index.known(entry.path)
    data_hash = library.index.autov3(entry.path, compute)
    found = identify(entry.path)
    return {"kind": entry.kind, "name": entry.name, "path": str(entry.path), "size": entry.size,
            "family": found.family, "detected_kind": found.kind, "sha256": digest,
            "autov2": autov2(digest) if digest else None,
            "autov3": data_hash[:AUTOV3_DIGITS] if data_hash else None, "source": entry.source}


def _facts(model: dict) -> str:
    from nodeflow.core.byte_sizes import format_bytes

    facts = [model["family"] or "family unknown"]
    if model["detected_kind"] and model["detected_kind"] != model["kind"]:
        facts.append(f"looks like {model['detected_kind']}")
    facts.append(format_bytes(model["size"]))
    if model["sha256"]:
        facts.append(f"sha256 {model['sha256'].removeprefix('sha256:')[:12]}, AutoV2 {model['autov2']}")
    else:
        facts.append("not hashed yet (--hash)")
    if model["autov3"]:
        facts.append(f"AutoV3 {model['autov3']}")
    return ", ".join(facts)
