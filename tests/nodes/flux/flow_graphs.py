"""Graphs and reference pipelines for the flow-family parity tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from graphs import add, new_graph

from nodeflow.core import Graph


def flux_txt2img(checkpoint: Path, *, prompt: str = "a red circle", negative: str | None = None,
                 size: int = 32, batch: int = 1, seed: int = 0, steps: int = 3, cfg: float = 1.0,
                 guidance: float | None = 3.5, reference: Path | None = None,
                 image: Path | None = None, denoise: float = 1.0) -> tuple[Graph, dict[str, str]]:
    """Load Checkpoint -> Text Encode (-> Flux Guidance) -> Sampler -> VAE Decode, with an optional
    negative prompt, a Kontext reference picture or an img2img source picture."""
    g = new_graph()
    ids: dict[str, str] = {}
    ids["ckpt"] = add(g, "models.load_checkpoint", checkpoint=str(checkpoint))
    clip, vae = (ids["ckpt"], "clip"), (ids["ckpt"], "vae")
    ids["pos"] = add(g, "conditioning.text_encode", {"clip": clip}, text=prompt)
    positive = (ids["pos"], "conditioning")
    if guidance is not None:
        ids["guidance"] = add(g, "flux.guidance", {"conditioning": positive}, guidance=guidance)
        positive = (ids["guidance"], "conditioning")
    if reference is not None:
        ids["ref_load"] = add(g, "image.load", image=str(reference))
        ids["ref_encode"] = add(g, "vae.encode", {"pixels": (ids["ref_load"], "image"), "vae": vae})
        ids["ref"] = add(g, "flux.reference_latent", {"conditioning": positive,
                                                      "latent": (ids["ref_encode"], "latent")})
        positive = (ids["ref"], "conditioning")
    links = {"model": (ids["ckpt"], "model"), "positive": positive}
    if negative is not None:
        ids["neg"] = add(g, "conditioning.text_encode", {"clip": clip}, text=negative)
        links["negative"] = (ids["neg"], "conditioning")
        if reference is not None:  # FluxKontextPipeline's negative call sees the reference too
            ids["neg_ref"] = add(g, "flux.reference_latent", {"conditioning": links["negative"],
                                                              "latent": (ids["ref_encode"], "latent")})
            links["negative"] = (ids["neg_ref"], "conditioning")
    if image is not None:
        ids["load"] = add(g, "image.load", image=str(image))
        ids["latent"] = add(g, "vae.encode", {"pixels": (ids["load"], "image"), "vae": vae})
    else:
        ids["latent"] = add(g, "latent.empty", width=size, height=size, batch_size=batch)
    links["latent_image"] = (ids["latent"], "latent")
    ids["sampler"] = add(g, "sampling.sampler", links, seed=seed, steps=steps, cfg=cfg, sampler_name="euler",
                         scheduler="normal", denoise=denoise)
    ids["decode"] = add(g, "vae.decode", {"latent": (ids["sampler"], "latent"), "vae": vae})
    ids["out"] = add(g, "image.preview", {"images": (ids["decode"], "image")})
    return g, ids


_pipes: dict[tuple[str, str], Any] = {}


def reference_pipe(name: str, folder: Path) -> Any:
    import diffusers

    key = (name, str(folder))
    if key not in _pipes:
        from pipelines import settled  # the weights laid out as NodeFlow's loaders lay them out

        pipe = settled(getattr(diffusers, name).from_pretrained(folder, local_files_only=True))
        pipe.set_progress_bar_config(disable=True)
        _pipes[key] = pipe
    return _pipes[key]


def as_uint8(images: Any) -> np.ndarray:
    return np.stack([np.asarray(i) for i in images])


def meaningful(image: np.ndarray) -> None:
    """Parity on flat or saturated pictures would prove little: the references have detail."""
    assert image.std() > 5
    assert ((image > 0) & (image < 255)).mean() > 0.5


def split_files_pixels(folder: Path, unet: Path, clip: Path, family: str, tmp_path: Path, *,
                       vae_family: str | None = None, **txt2img: Any) -> tuple[np.ndarray, np.ndarray]:
    """(the pipeline folder's pixels, the same graph's pixels with the model as ComfyUI users hold it:
    Load Diffusion Model on `unet`, Load CLIP (`family`) on `clip`, Load VAE on the folder's VAE, and
    no Load Checkpoint left)."""
    from graphs import pixels, run

    from nodeflow.engine import Executor

    executor = Executor(device="cpu")
    graph, ids = flux_txt2img(folder, guidance=None, **txt2img)
    expected = pixels(run(executor, graph, tmp_path / "folder"), ids["decode"])
    model = add(graph, "models.load_unet", unet=str(unet))
    text = add(graph, "models.load_clip", clip_name=str(clip), family=family)
    vae = add(graph, "models.load_vae", vae=str(folder / "vae"), **({"family": vae_family} if vae_family else {}))
    graph.connect(model, "model", ids["sampler"], "model")
    graph.connect(text, "clip", ids["pos"], "clip")
    graph.connect(vae, "vae", ids["decode"], "vae")
    graph.remove_node(ids["ckpt"])
    return expected, pixels(run(executor, graph, tmp_path / "files"), ids["decode"])
