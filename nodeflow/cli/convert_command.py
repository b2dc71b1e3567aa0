"""`nodeflow convert IN OUT.json`: ComfyUI (JSON, PNG, WebP) -> NodeFlow, or `--to comfyui-api` back.

Prints the import report (mapped / placeholder / dropped, and why) or the export problems, and
the models the workflow names that this machine lacks: where each goes and the download URL the
workflow records (a ComfyUI template's `properties.models`), which `nodeflow models fetch` uses.
Exit code 0 when everything was carried over, 2 when something was kept as a placeholder,
dropped or changed (the output file is still written), 2 as well for unreadable input.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from nodeflow.cli.common import EXIT_INVALID, EXIT_OK


def add_parser(sub) -> None:
    parser = sub.add_parser("convert", help="convert ComfyUI workflows to NodeFlow (or back to a ComfyUI API prompt)")
    parser.add_argument("source", type=Path, metavar="IN", help="a ComfyUI or NodeFlow workflow (JSON, PNG, WebP)")
    parser.add_argument("target", type=Path, metavar="OUT.json")
    parser.add_argument("--to", choices=("nodeflow", "comfyui-api"), default="nodeflow",
                        help="what to write (default: a NodeFlow workflow)")
    parser.add_argument("--convention", choices=("comfyui", "diffusers"), default="comfyui",
                        help="how imported samplers sample: comfyui (ComfyUI's pixels, the default) or diffusers "
                             "(NodeFlow's own; denoise and sampler names converted to their nearest meaning)")
    parser.add_argument("--flatten-subgraphs", action="store_true",
                        help="ComfyUI subgraphs become loose nodes (ids <instance>:<inner>) instead of NodeFlow "
                             "subgraphs")
    parser.set_defaults(handler=handler)


def handler(args: argparse.Namespace) -> int:
    from nodeflow.core import default_registry, workflow
    from nodeflow.core.errors import WorkflowFormatError
    from nodeflow.core.files import write_atomic
    from nodeflow.interop.comfyui import export_api
    from nodeflow.interop.loading import open_workflow

    try:
        opened = open_workflow(args.source, default_registry(), args.convention, args.flatten_subgraphs)
    except WorkflowFormatError as exc:
        print(f"{args.source}: error: {exc}", file=sys.stderr)
        return EXIT_INVALID
    lines = list(opened.messages)
    complete = opened.comfyui is None or opened.comfyui.fully_mapped
    if args.to == "comfyui-api":
        prompt, problems = export_api(opened.graph)
        text = json.dumps(prompt, indent=2, ensure_ascii=False) + "\n"
        lines += [f"export: {p}" for p in problems]
        complete = complete and not problems
    else:
        text = workflow.dumps(opened.graph)
    write_atomic(args.target, text)
    for line in lines + missing_model_lines(opened.graph, args.source.parent, args.target):
        print(line)
    print(f"wrote {args.target}")
    return EXIT_OK if complete else EXIT_INVALID


def missing_model_lines(graph, workflow_dir: Path, target: Path) -> list[str]:
    """One line per model the workflow names and the library lacks, inside subgraphs too: its
    nodes, the folder to put it in and where to download it (no model file is hashed)."""
    from nodeflow.core.subgraphs.expand import expand
    from nodeflow.library import default_library
    from nodeflow.library.library import put_it_here
    from nodeflow.library.wanted import missing_models

    library = default_library()
    lines = []
    unfolded, _ = expand(graph)  # a template's loaders often sit in a subgraph
    for missing in missing_models(unfolded, library, library.search_dirs(workflow_dir), compute=False):
        wanted = missing.wanted
        where = put_it_here(wanted.kind, wanted.name).parent if wanted.kind and wanted.name else None
        nodes = ", ".join(sorted(set(missing.nodes)))
        source = (f"download: {wanted.url} (`nodeflow models fetch {target}` fetches it)" if wanted.url
                  else "no download URL recorded")
        lines.append(f"missing model: {wanted.label()} (node {nodes}): put it in {where}; {source}")
    return lines
