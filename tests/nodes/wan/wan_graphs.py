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


def wan_image2video(checkpoint: Path, start: Path, *, end: Path | None = None, low: Path | None = None,
                    handover: int = 1, prompt: str = "a red circle", negative: str | None = None, size: int = 32,
                    length: int = 5, batch: int = 1, seed: int = 0, steps: int = 2,
                    cfg: float = 1.0) -> tuple[Graph, dict[str, str]]:
    """Load Checkpoint -> Text Encode -> Wan Image To Video (or First-Last Frame with `end`) -> Sampler ->
    VAE Decode -> Preview; with a `low` noise transformer folder, two KSampler (Advanced) nodes in the
    diffusers convention: steps [0, handover) on the checkpoint's, the rest on `low`'s."""
    g = new_graph()
    ids: dict[str, str] = {}
    ids["ckpt"] = add(g, "models.load_checkpoint", checkpoint=str(checkpoint))
    clip = (ids["ckpt"], "clip")
    ids["pos"] = add(g, "conditioning.text_encode", {"clip": clip}, text=prompt)
    ids["neg"] = add(g, "conditioning.text_encode", {"clip": clip}, text=negative or "")
    ids["start"] = add(g, "image.load", image=str(start))
    links = {"positive": (ids["pos"], "conditioning"), "negative": (ids["neg"], "conditioning"),
             "vae": (ids["ckpt"], "vae"), "start_image": (ids["start"], "image")}
    kind = "wan.image_to_video"
    if end is not None:
        ids["end"] = add(g, "image.load", image=str(end))
        links["end_image"] = (ids["end"], "image")
        kind = "wan.first_last_frame_to_video"
    ids["i2v"] = add(g, kind, links, width=size, height=size, length=length, batch_size=batch)
    sampling = {"positive": (ids["i2v"], "positive"), "latent_image": (ids["i2v"], "latent")}
    if negative is not None:
        sampling["negative"] = (ids["i2v"], "negative")
    options = dict(steps=steps, cfg=cfg, sampler_name="euler", scheduler="normal")
    if low is None:
        ids["sampler"] = add(g, "sampling.sampler", {"model": (ids["ckpt"], "model"), **sampling}, seed=seed,
                             **options)
    else:
        ids["low"] = add(g, "models.load_unet", unet=str(low))
        ids["high_sampler"] = add(g, "sampling.sampler_advanced", {"model": (ids["ckpt"], "model"), **sampling},
                                  add_noise=True, noise_seed=seed, start_at_step=0, end_at_step=handover,
                                  return_with_leftover_noise=True, **options)
        sampling["latent_image"] = (ids["high_sampler"], "latent")
        ids["sampler"] = add(g, "sampling.sampler_advanced", {"model": (ids["low"], "model"), **sampling},
                             add_noise=False, noise_seed=0, start_at_step=handover, end_at_step=10000,
                             return_with_leftover_noise=False, **options)
    ids["decode"] = add(g, "vae.decode", {"latent": (ids["sampler"], "latent"), "vae": (ids["ckpt"], "vae")})
    ids["out"] = add(g, "image.preview", {"images": (ids["decode"], "image")})
    return g, ids


def wan_ti2v(checkpoint: Path, start: Path | None = None, *, prompt: str = "a red circle", negative: str | None = None,
             size: int = 64, length: int = 5, batch: int = 1, seed: int = 0, steps: int = 2, cfg: float = 1.0,
             convention: str = "diffusers") -> tuple[Graph, dict[str, str]]:
    """Wan 2.2 5B: Load Checkpoint -> Text Encode -> Wan 2.2 Image To Video Latent (with or without a start
    picture) -> Sampler -> VAE Decode -> Preview."""
    g = new_graph()
    ids: dict[str, str] = {}
    ids["ckpt"] = add(g, "models.load_checkpoint", checkpoint=str(checkpoint))
    clip = (ids["ckpt"], "clip")
    ids["pos"] = add(g, "conditioning.text_encode", {"clip": clip}, text=prompt)
    links = {"vae": (ids["ckpt"], "vae")}
    if start is not None:
        ids["start"] = add(g, "image.load", image=str(start))
        links["start_image"] = (ids["start"], "image")
    ids["latent"] = add(g, "wan.image_to_video_latent", links, width=size, height=size, length=length,
                        batch_size=batch)
    sampling = {"model": (ids["ckpt"], "model"), "positive": (ids["pos"], "conditioning"),
                "latent_image": (ids["latent"], "latent")}
    if negative is not None:
        ids["neg"] = add(g, "conditioning.text_encode", {"clip": clip}, text=negative)
        sampling["negative"] = (ids["neg"], "conditioning")
    ids["sampler"] = add(g, "sampling.sampler", sampling, seed=seed, steps=steps, cfg=cfg, sampler_name="euler",
                         scheduler="normal" if convention == "diffusers" else "simple", convention=convention)
    ids["decode"] = add(g, "vae.decode", {"latent": (ids["sampler"], "latent"), "vae": (ids["ckpt"], "vae")})
    ids["out"] = add(g, "image.preview", {"images": (ids["decode"], "image")})
    return g, ids


def prompt_embeds(pipe: Any, prompt: str, negative: str | None, batch: int) -> dict[str, Any]:
    """The prompts' UMT5 states for an image-to-video pipeline call, made by WanPipeline's encoder from
    the same parts (WanImageToVideoPipeline's own prompt cleaning needs ftfy, which NodeFlow does not
    install), one per video as the pipeline repeats the states it makes itself (the pipeline then makes
    as many videos as it is given states)."""
    import diffusers

    parts = {k: pipe.components[k] for k in ("tokenizer", "text_encoder", "vae", "transformer", "scheduler")}
    t2v = diffusers.WanPipeline(**parts)
    cond, uncond = t2v.encode_prompt(prompt, negative, do_classifier_free_guidance=negative is not None,
                                     num_videos_per_prompt=batch, max_sequence_length=512, device="cpu")
    return {"prompt_embeds": cond, "negative_prompt_embeds": uncond}


def reference_pipe(name: str, folder: Path, **parts: Any) -> Any:
    """A diffusers pipeline from `folder` (with `parts` put in, e.g. a second transformer), cached."""
    import diffusers

    key = (name, str(folder), tuple(sorted(parts)))
    if key not in _pipes:
        from pipelines import settled  # the weights laid out as NodeFlow's loaders lay them out

        pipe = settled(getattr(diffusers, name).from_pretrained(folder, local_files_only=True, **parts))
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
