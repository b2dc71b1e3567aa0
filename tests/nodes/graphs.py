"""Builders for the graphs the node tests run, and a way to run them through the Executor."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from nodeflow.core import Graph, default_registry


def new_graph() -> Graph:
    return Graph(default_registry())


def add(graph: Graph, type_id: str, links: dict[str, tuple[str, str]] | None = None, **params: Any) -> str:
    """Add a node with parameter values and links {input: (src node id, output)}; return its id."""
    node_id = graph.add_node(type_id, params).id
    for name, (src, out) in (links or {}).items():
        graph.connect(src, out, node_id, name)
    return node_id


def txt2img(checkpoint: Path | str, *, prompt: str = "a red circle", negative: str = "", width: int = 32,
            height: int = 32, batch: int = 1, seed: int = 0, steps: int = 4, cfg: float = 7.0,
            sampler: str = "euler", scheduler: str = "normal", save: bool = True) -> tuple[Graph, dict[str, str]]:
    g = new_graph()
    ids: dict[str, str] = {}
    ids["ckpt"] = add(g, "models.load_checkpoint", checkpoint=str(checkpoint))
    ids["pos"] = add(g, "conditioning.text_encode", {"clip": (ids["ckpt"], "clip")}, text=prompt)
    ids["neg"] = add(g, "conditioning.text_encode", {"clip": (ids["ckpt"], "clip")}, text=negative)
    ids["latent"] = add(g, "latent.empty", {"vae": (ids["ckpt"], "vae")}, width=width, height=height,
                        batch_size=batch)
    ids["sampler"] = add(g, "sampling.sampler", {
        "model": (ids["ckpt"], "model"), "positive": (ids["pos"], "conditioning"),
        "negative": (ids["neg"], "conditioning"), "latent_image": (ids["latent"], "latent")},
        seed=seed, steps=steps, cfg=cfg, sampler_name=sampler, scheduler=scheduler, denoise=1.0)
    ids["decode"] = add(g, "vae.decode", {"latent": (ids["sampler"], "latent"), "vae": (ids["ckpt"], "vae")})
    out_type = "image.save" if save else "image.preview"
    ids["out"] = add(g, out_type, {"images": (ids["decode"], "image")})
    return g, ids


def img2img(checkpoint: Path | str, image: Path, *, prompt: str = "a blue square", negative: str = "",
            seed: int = 0, steps: int = 5, cfg: float = 7.0, sampler: str = "euler",
            scheduler: str = "normal", denoise: float = 0.5) -> tuple[Graph, dict[str, str]]:
    g = new_graph()
    ids: dict[str, str] = {}
    ids["ckpt"] = add(g, "models.load_checkpoint", checkpoint=str(checkpoint))
    ids["pos"] = add(g, "conditioning.text_encode", {"clip": (ids["ckpt"], "clip")}, text=prompt)
    ids["neg"] = add(g, "conditioning.text_encode", {"clip": (ids["ckpt"], "clip")}, text=negative)
    ids["load"] = add(g, "image.load", image=str(image))
    ids["encode"] = add(g, "vae.encode", {"pixels": (ids["load"], "image"), "vae": (ids["ckpt"], "vae")})
    ids["sampler"] = add(g, "sampling.sampler", {
        "model": (ids["ckpt"], "model"), "positive": (ids["pos"], "conditioning"),
        "negative": (ids["neg"], "conditioning"), "latent_image": (ids["encode"], "latent")},
        seed=seed, steps=steps, cfg=cfg, sampler_name=sampler, scheduler=scheduler, denoise=denoise)
    ids["decode"] = add(g, "vae.decode", {"latent": (ids["sampler"], "latent"), "vae": (ids["ckpt"], "vae")})
    ids["out"] = add(g, "image.save", {"images": (ids["decode"], "image")})
    return g, ids


def inpaint(checkpoint: Path | str, image: Path, mask_image: Path, *, prompt: str = "a red circle",
            negative: str = "", seed: int = 0, steps: int = 5, cfg: float = 7.0, sampler: str = "euler",
            scheduler: str = "normal", denoise: float = 1.0, composite: bool = False,
            grow_mask_by: int = 0) -> tuple[Graph, dict[str, str]]:
    g = new_graph()
    ids: dict[str, str] = {}
    ids["ckpt"] = add(g, "models.load_checkpoint", checkpoint=str(checkpoint))
    ids["pos"] = add(g, "conditioning.text_encode", {"clip": (ids["ckpt"], "clip")}, text=prompt)
    ids["neg"] = add(g, "conditioning.text_encode", {"clip": (ids["ckpt"], "clip")}, text=negative)
    ids["load"] = add(g, "image.load", image=str(image))
    ids["load_mask"] = add(g, "image.load", image=str(mask_image))
    ids["mask"] = add(g, "mask.from_image", {"image": (ids["load_mask"], "image")}, channel="red")
    ids["encode"] = add(g, "vae.encode_inpaint", {"pixels": (ids["load"], "image"), "vae": (ids["ckpt"], "vae"),
                                                  "mask": (ids["mask"], "mask")}, grow_mask_by=grow_mask_by)
    ids["sampler"] = add(g, "sampling.sampler", {
        "model": (ids["ckpt"], "model"), "positive": (ids["pos"], "conditioning"),
        "negative": (ids["neg"], "conditioning"), "latent_image": (ids["encode"], "latent")},
        seed=seed, steps=steps, cfg=cfg, sampler_name=sampler, scheduler=scheduler, denoise=denoise)
    ids["decode"] = add(g, "vae.decode", {"latent": (ids["sampler"], "latent"), "vae": (ids["ckpt"], "vae")})
    final = ids["decode"]
    if composite:
        ids["composite"] = add(g, "image.composite_masked", {
            "destination": (ids["load"], "image"), "source": (ids["decode"], "image"),
            "mask": (ids["mask"], "mask")})
        final = ids["composite"]
    ids["final"] = final
    ids["out"] = add(g, "image.save", {"images": (final, "image")})
    return g, ids


def run(executor: Any, graph: Graph, output_dir: Path) -> Any:
    result = executor.run(graph, output_dir=output_dir)
    assert result.ok, result.errors
    return result


def pixels(result: Any, node_id: str, output: str = "image") -> Any:
    """The 8-bit pixels of an IMAGE output, [B, H, W, C] uint8."""
    from nodes._tensors import image_to_uint8

    return image_to_uint8(result.values[node_id][output])
