"""What the bench scripts share: the checkout on the import path, quiet offline hub libraries, the
built-in registry, and the SD 1.5 text-to-image chain they all time (so every script measures the
same graph, built in one place).

Importing it puts the repository root and bench/ on sys.path, so a script run as
`python bench/NAME.py` from a checkout that was never pip-installed still finds nodeflow and nodes.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
for _folder in (ROOT / "bench", ROOT):
    if str(_folder) not in sys.path:
        sys.path.insert(0, str(_folder))

# Hub libraries must never reach the network, and their logging would drown the bench's lines.
QUIET_ENV = {"HF_HUB_OFFLINE": "1", "DIFFUSERS_VERBOSITY": "error", "TRANSFORMERS_VERBOSITY": "error"}


def quiet_environment() -> None:
    """Set QUIET_ENV in this process, keeping any value the caller chose."""
    for key, value in QUIET_ENV.items():
        os.environ.setdefault(key, value)


def child_environment(**extra: str) -> dict[str, str]:
    """The environment for a measured child process: this one, QUIET_ENV, no progress bars, the
    checkout importable, plus `extra`.

    Bytecode may be written (PYTHONDONTWRITEBYTECODE is dropped), as it is for any installed
    program: where the caller's shell forbids it, every child would compile NodeFlow's own
    modules again while the libraries it is compared with load theirs from pip's .pyc files.
    """
    env = dict(os.environ, **QUIET_ENV, TQDM_DISABLE="1", PYTHONPATH=str(ROOT), **extra)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def builtin_registry():
    """The process-wide registry, with the built-in nodes even in a checkout that was never
    pip-installed (built-ins come through an entry point, which only an install declares)."""
    import nodes
    from nodeflow.core import default_registry

    registry = default_registry()
    if "models.load_checkpoint" not in registry:
        registry.register_package(nodes, "nodes")
    return registry


def add_node(graph, type_id: str, links: dict[str, tuple[str, str]] | None = None, **params: Any) -> str:
    """Add a node with `params` and connect each input name in `links` to its (node, output)."""
    node_id = graph.add_node(type_id, params).id
    for name, (src, out) in (links or {}).items():
        graph.connect(src, out, node_id, name)
    return node_id


def txt2img_chain(graph, checkpoint: Path, *, size: int, steps: int, seed: int, cfg: float,
                  prompt: str = "a red circle", sampler_name: str = "euler", scheduler: str = "normal",
                  tile: int | None = None, **sampler_options: Any) -> tuple[str, str, str]:
    """Checkpoint, prompt and empty prompt, empty latent, sampler, VAE decode (tiled when `tile` is
    given) added to `graph`; returns the (checkpoint, sampler, decode) node ids. The caller adds
    the output node it wants on the decode's "image"."""
    ckpt = add_node(graph, "models.load_checkpoint", checkpoint=str(checkpoint))
    pos = add_node(graph, "conditioning.text_encode", {"clip": (ckpt, "clip")}, text=prompt)
    neg = add_node(graph, "conditioning.text_encode", {"clip": (ckpt, "clip")}, text="")
    latent = add_node(graph, "latent.empty", {"vae": (ckpt, "vae")}, width=size, height=size, batch_size=1)
    sampler = add_node(graph, "sampling.sampler",
                       {"model": (ckpt, "model"), "positive": (pos, "conditioning"),
                        "negative": (neg, "conditioning"), "latent_image": (latent, "latent")},
                       seed=seed, steps=steps, cfg=cfg, sampler_name=sampler_name, scheduler=scheduler,
                       **sampler_options)
    links = {"latent": (sampler, "latent"), "vae": (ckpt, "vae")}
    if tile:
        decode = add_node(graph, "vae.decode_tiled", links, tile_size=tile)
    else:
        decode = add_node(graph, "vae.decode", links)
    return ckpt, sampler, decode


def interleaved_times(ours: Callable[[], Any], theirs: Callable[[], Any], repeats: int
                      ) -> tuple[list[float], list[float]]:
    """Seconds of each of `repeats` runs of `ours` and of `theirs` (NodeFlow's graph and the reference
    pipeline), run alternately so that background load hits both alike."""
    ours_times, theirs_times = [], []
    for _ in range(repeats):
        start = time.perf_counter()
        theirs()
        theirs_times.append(time.perf_counter() - start)
        start = time.perf_counter()
        ours()
        ours_times.append(time.perf_counter() - start)
    return ours_times, theirs_times
