"""`nodeflow gui [FILE]`: open the editor (also what a bare `nodeflow` does)."""

from __future__ import annotations

import argparse


def add_parser(sub) -> None:
    parser = sub.add_parser("gui", help="open the editor (the default when no command is given)")
    parser.add_argument("file", nargs="?", help="a workflow JSON or NodeFlow PNG to open")
    parser.set_defaults(handler=handler)


def handler(args: argparse.Namespace) -> int:
    from nodeflow.gui.app import main as gui_main

    return gui_main(args.file)
