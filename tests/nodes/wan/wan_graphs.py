"""Graphs and reference pipelines for the Wan tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from graphs import add, new_graph

from nodeflow.core import Graph

_pipes: dict[tuple[str, str], Any] = {}


def wan_txt2video(checkpoint: Path, *, prompt: str = "a red circle", negative: str | None = None, size: int = 32,
                  length: int = 5, batch: int = 1, seed: int = 0, steps: int = 2,
                  cfg: float = 1.0) -> tuple[Graph, dict[str, str]]:
    """Load Checkpoint -> Text Encode -> Empty Video Latent -> Sampler -> VAE Decode -> Preview."""
    g = new_graph()
    ids: dict[str, str] = {}
    ids["ckpt"] = add(g, "models.load_checkpoint", checkpoint=str(checkpoint))
    clip = (ids["ckpt"], "clip")
    ids["pos"] = add(g, "conditioning.text_encode", {"clip": clip}, text=prompt)
    links = {"model": (ids["ckpt"], "model"), "positive": (ids["pos"], "conditioning")}
    if negative is not None:
        ids["neg"] = add(g, "conditioning.text_encode", {"clip": clip}, text=negative)
        links["negative"] = (ids["neg"], "conditioning")
    ids["latent"] = add(g, "latent.empty_video", width=size, height=size, length=length, batch_size=batch)
    links["latent_image"] = (ids["latent"], "latent")
    ids["sampler"] = add(g, "sampling.sampler", links, seed=seed, steps=steps, cfg=cfg, sampler_name="euler",
                         scheduler="normal")
    ids["decode"] = add(g, "vae.decode", {"latent": (ids["sampler"], "latent"), "vae": (ids["ckpt"], "vae")})
    ids["out"] = add(g, "image.preview", {"images": (ids["decode"], "image")})
    return g, ids


def reference_pipe(name: str, folder: Path) -> Any:
    import diffusers

    key = (name, str(folder))
    if key not in _pipes:
        from pipelines import settled  # the weights laid out as NodeFlow's loaders lay them out

        pipe = settled(getattr(diffusers, name).from_pretrained(folder, local_files_only=True))
        pipe.set_progress_bar_config(disable=True)
        _pipes[key] = pipe
    return _pipes[key]


def frames_uint8(frames: Any) -> np.ndarray:
    """A pipeline's np frames [B, F, H, W, 3] in [0, 1] as IMAGE's frames on the batch axis, rounded to
    8 bits as NodeFlow's (and diffusers' PIL output) are."""
    array = np.asarray(frames)
    return (array.reshape(-1, *array.shape[2:]) * 255).round().astype("uint8")


def meaningful(video: np.ndarray) -> None:
    """Parity on flat or saturated frames would prove little: the references have detail."""
    assert video.std() > 5
    assert ((video > 0) & (video < 255)).mean() > 0.5
