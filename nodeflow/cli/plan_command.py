"""`nodeflow plan WORKFLOW...`: the run order, what the cache would serve and each node's memory.

Reads model sizes from file headers and never imports torch: a workflow can be checked against a
budget (`--memory-budget 6GB`) on a machine that could not run it. Exit 2 when a node cannot fit
even after everything else is evicted (or, on CUDA/MPS, offloaded), as `run` would refuse it.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from nodeflow.cli.common import EXIT_INVALID, EXIT_OK, add_read_args, apply_model_folder_args, load_workflow


def add_parser(sub) -> None:
    parser = sub.add_parser("plan", help="show the run order and each node's memory against a budget (no torch)")
    parser.add_argument("workflows", nargs="+", type=Path, metavar="WORKFLOW")
    parser.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda", "mps"),
                        help="the device to plan for (auto: guessed without importing torch)")
    parser.add_argument("--memory-budget", metavar="SIZE", type=budget_size,
                        help="bytes models and results may take, e.g. 6GB or 512MB (default: free memory)")
    add_read_args(parser)
    parser.set_defaults(handler=handler)


def budget_size(text: str) -> int:
    """argparse type for --memory-budget: '6GB' -> bytes, with the reason on a bad value."""
    from nodeflow.core.byte_sizes import parse_size

    try:
        return parse_size(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def handler(args: argparse.Namespace) -> int:
    from nodeflow.core.errors import WorkflowFormatError
    from nodeflow.core.paths import default_search_dirs
    from nodeflow.engine.device import guess_device
    from nodeflow.engine.memory_plan import make_memory_plan
    from nodeflow.engine.plan import make_plan, plan_graph, validate

    apply_model_folder_args(args)
    device = guess_device() if args.device == "auto" else args.device
    status = EXIT_OK
    for path in args.workflows:
        try:
            graph = load_workflow(path)
        except WorkflowFormatError as exc:
            print(f"{path}: error: {exc}", file=sys.stderr)
            status = EXIT_INVALID
            continue
        problems = validate(graph, workflow_dir=path.parent)
        if not problems:
            graph = plan_graph(graph)
            run_plan = make_plan(graph)
            plan = make_memory_plan(graph, run_plan.order, default_search_dirs(path.parent), device,
                                    args.memory_budget)
            print_plan(path, graph, plan)
            for line in branch_lines(graph, run_plan):
                print(line)
            problems = plan.problems()
        for problem in problems:
            print(f"{path}: error: {problem}", file=sys.stderr)
        if problems:
            status = EXIT_INVALID
    return status


def print_plan(path: Path, graph, plan) -> None:
    from nodeflow.core.byte_sizes import format_bytes
    from nodeflow.engine.plan_verdict import CANNOT, FITS, OVER, peak_keeping_all, verdict

    print(f"{path}: on {plan.device}, budget {format_bytes(plan.budget)}")
    print(f"  {'node':>5}  {'title':<24} {'cache':<6} {'peak':>9}  needs")
    for n in plan.nodes:
        cache = "cached" if n.cached else "run"
        print(f"  {n.node_id:>5}  {n.title[:24]:<24} {cache:<6} {format_bytes(n.peak):>9}  {n.described()}")
    words = {FITS: "fits", OVER: "over budget: components are evicted or offloaded as nodes need room",
             CANNOT: "cannot fit"}[verdict(plan, plan.problems())]
    print(f"  peak {format_bytes(peak_keeping_all(plan))} of {format_bytes(plan.budget)}: {words}")
    for line in plan.moves():
        print(f"  {line}")


def branch_lines(graph, run_plan) -> list[str]:
    """What the switches do: the branch each takes when that is known before the run, and the
    nodes that run only if a switch deciding at run time takes them."""
    lines = [f"  {graph.label(node_id)} takes {', '.join(chosen) or 'no lazy input'}; the other branch is not planned"
             for node_id, chosen in sorted(run_plan.chosen.items())]
    if run_plan.conditional:
        lines.append("  run only if a switch takes them when it runs: "
                     + ", ".join(n for n in run_plan.order if n in run_plan.conditional))
    return lines
