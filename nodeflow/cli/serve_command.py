"""`nodeflow serve`: ComfyUI's HTTP and websocket API over NodeFlow's job queue (see nodeflow.serve)."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from nodeflow.cli.common import EXIT_OK, add_model_folder_args, apply_model_folder_args
from nodeflow.cli.plan_command import budget_size


def add_parser(sub) -> None:
    serve = sub.add_parser("serve", help="serve ComfyUI's HTTP + websocket API (scripts, open-webui, Krita...)")
    serve.add_argument("--host", default="127.0.0.1",
                       help="address to listen on (default 127.0.0.1; any other needs --token or --token-file)")
    serve.add_argument("--port", type=int, default=8188, help="port (default 8188, as ComfyUI; 0 picks a free one)")
    serve.add_argument("--token", help="clients must send 'Authorization: Bearer TOKEN' (or Basic with it as "
                                       "password); at least 16 characters")
    serve.add_argument("--token-file", type=Path, metavar="FILE", help="read the token from FILE (first line)")
    serve.add_argument("--out", type=Path, default=Path("output"), help="folder for saved files (default: output)")
    serve.add_argument("--input", dest="input_dir", type=Path, default=Path("input"),
                       help="folder for uploaded pictures, which prompts name (default: input)")
    serve.add_argument("--state", type=Path, default=None, metavar="DIR",
                       help="folder for prompts, history and previews (default: serve/ in the user data folder)")
    serve.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda", "mps"))
    serve.add_argument("--memory-budget", metavar="SIZE", type=budget_size,
                       help="bytes models and cached results may take on the device, e.g. 6GB")
    serve.add_argument("--no-previews", dest="previews", action="store_false",
                       help="no sampler previews on the websocket (slightly faster jobs)")
    serve.add_argument("--allow-origin", dest="origins", action="append", default=[], metavar="URL",
                       help="a browser origin allowed besides the server's own, e.g. http://localhost:3000")
    serve.add_argument("--frontend", action="store_true",
                       help="also serve ComfyUI's web frontend at / (needs: pip install 'nodeflow[frontend]')")
    serve.add_argument("--ray", nargs="?", const="local", default=None, metavar="ADDRESS",
                       help="run prompts on Ray: a local cluster started with the server, or join ADDRESS")
    serve.add_argument("--workers", type=int, default=2, metavar="N", help="Ray workers: prompts at once (default 2)")
    add_model_folder_args(serve)
    serve.set_defaults(handler=handler)


def handler(args: argparse.Namespace) -> int:
    import asyncio

    from nodeflow.core.paths import user_dir
    from nodeflow.serve.app import serve
    from nodeflow.serve.config import ServeConfig, check_exposure, read_token
    from nodeflow.serve.frontend import static_dir

    apply_model_folder_args(args)
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    token = read_token(args.token_file) if args.token_file else args.token
    config = ServeConfig(host=args.host, port=args.port, token=token, out=args.out, input_dir=args.input_dir,
                         state_dir=args.state or user_dir() / "serve", device=args.device,
                         memory_budget=args.memory_budget, previews=args.previews,
                         allowed_origins=tuple(o.rstrip("/") for o in args.origins), frontend=args.frontend,
                         ray=args.ray, workers=args.workers)
    check_exposure(config)
    if config.frontend:
        static_dir()  # not installed: one line now, before anything starts
    asyncio.run(serve(config, lambda line: print(line, flush=True)))
    return EXIT_OK
