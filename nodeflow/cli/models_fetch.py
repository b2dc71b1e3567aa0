"""`nodeflow models fetch WORKFLOW|URL`: download the models a workflow lacks, or one URL's file.

For a workflow, every model it names that the library cannot find is fetched from the URL the
workflow records for it (NodeFlow's manifest, or a ComfyUI UI workflow's `models` hints); for a
URL, that one file, into `--kind`'s folder (or the kind its header shows). Each model ends in
one line: fetched (verified or not), already there, or why not. Exit 0 when every model is in
the library afterwards, 1 when some are not (the others were still fetched).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from nodeflow.cli.common import EXIT_NODE_FAILED, EXIT_OK, add_model_folder_args, apply_model_folder_args


def add_parser(sub) -> None:
    from nodeflow.library import KINDS

    parser = sub.add_parser("fetch", help="download missing models of a workflow, or the model at a URL",
                            description=__doc__.split("\n\n")[0])
    parser.add_argument("source", help="a workflow file (NodeFlow or ComfyUI), or an http(s) URL of one model")
    parser.add_argument("--kind", choices=KINDS,
                        help="the model's kind, for a URL (its folder; default: told from the file's header)")
    parser.add_argument("--name", help="the model's name in its kind folder, for a URL (default: the server's)")
    parser.add_argument("--sha256", help="the file's sha256 (or its first 10+ hex digits), for a URL: verified")
    parser.add_argument("--size", type=int, help="the file's size in bytes, for a URL: a bigger file is refused")
    parser.add_argument("--allow-local", action="store_true",
                        help="let URLs recorded in the workflow reach loopback and private addresses")
    parser.add_argument("--allow-pickle", action="store_true",
                        help="accept pickle checkpoints (.ckpt/.pt/.bin); they are loaded without running code")
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds without data before a retry")
    parser.add_argument("--quiet", action="store_true", help="no progress bars")
    add_model_folder_args(parser)
    parser.set_defaults(handler=handler)


def handler(args: argparse.Namespace) -> int:
    from nodeflow.library import default_library
    from nodeflow.library.download import Options
    from nodeflow.library.fetch import Wanted, fetch_all

    apply_model_folder_args(args)
    library = default_library()
    if args.source.startswith(("http://", "https://")):
        wanted = [Wanted(args.kind, args.source, args.name, args.sha256, args.size, typed=True)]
    else:
        from nodeflow.cli.common import load_workflow
        from nodeflow.library.wanted import missing_models

        path = Path(args.source)
        graph = load_workflow(path)
        wanted = [m.wanted for m in missing_models(graph, library, library.search_dirs(path.parent))]
        if not wanted:
            print(f"{path}: every model it names is in the library")
            return EXIT_OK
    bars = _Bars(quiet=args.quiet)
    options = Options(allow_local=args.allow_local, allow_pickle=args.allow_pickle, timeout=args.timeout)
    results = fetch_all(wanted, library.index, options, on_start=bars.start, on_progress=bars.update)
    bars.close()
    for result in results:
        print(result.line, file=sys.stdout if result.ok else sys.stderr)
    return EXIT_OK if all(r.ok for r in results) else EXIT_NODE_FAILED


class _Bars:
    """One tqdm bar per download: bytes, rate and time left."""

    def __init__(self, quiet: bool):
        self.quiet, self.bar = quiet, None

    def start(self, wanted) -> None:
        self.close()
        if not self.quiet:
            from tqdm import tqdm

            self.bar = tqdm(desc=f"{wanted.kind or 'model'}: {wanted.short_name()}", unit="B", unit_scale=True,
                            unit_divisor=1024, file=sys.stderr, leave=False, dynamic_ncols=True)

    def update(self, wanted, transfer) -> None:
        if self.bar is not None:
            self.bar.total = transfer.total
            self.bar.update(transfer.done - self.bar.n)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None
