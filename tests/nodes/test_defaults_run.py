"""Defaults that run: a txt2img graph wired from default values alone runs on whatever model is
loaded, and whatever a run would refuse, validation refuses first (CLI exit 2)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from graphs import add, new_graph, pixels, run
from workflow_builder import MODEL, ROOT

from nodeflow.cli import main as cli_main
from nodeflow.core import RunContext, files
from nodeflow.engine import Executor
from nodeflow.engine.plan import validate
from nodes.latent.latents import EmptyLatent


def defaults_graph(checkpoint: str | None = None, vae_to_latent: bool = False):
    """What a newcomer wires from the palette: no values typed except the prompt, no negative."""
    g = new_graph()
    ckpt = add(g, "models.load_checkpoint", **({"checkpoint": checkpoint} if checkpoint else {}))
    pos = add(g, "conditioning.text_encode", {"clip": (ckpt, "clip")}, text="a red circle on a blue background")
    latent = add(g, "latent.empty", {"vae": (ckpt, "vae")} if vae_to_latent else None)
    sampler = add(g, "sampling.sampler", {"model": (ckpt, "model"), "positive": (pos, "conditioning"),
                                          "latent_image": (latent, "latent")}, steps=3)
    decode = add(g, "vae.decode", {"latent": (sampler, "latent"), "vae": (ckpt, "vae")})
    add(g, "image.save", {"images": (decode, "image")})
    return g, decode


@pytest.mark.parametrize("vae_to_latent", [False, True])
def test_defaults_graph_runs_at_the_models_native_size(tiny_sd, tmp_path, vae_to_latent):
    graph, decode = defaults_graph(str(tiny_sd), vae_to_latent)
    assert validate(graph) == []
    result = run(Executor(device="cpu"), graph, tmp_path)
    # tiny_sd: UNet sample_size 16 x VAE factor 2 = 32 px, as SD 1.5's 64 x 8 = 512
    assert pixels(result, decode).shape == (1, 32, 32, 3)


def test_unconnected_negative_is_the_empty_prompt(tiny_sd, tmp_path):
    """cfg above 1 without a negative gives the same pixels as an explicit empty negative prompt."""
    graph, decode = defaults_graph(str(tiny_sd), vae_to_latent=True)
    implicit = pixels(run(Executor(device="cpu"), graph, tmp_path / "a"), decode)
    sampler = next(i for i, r in graph.nodes.items() if r.type == "sampling.sampler")
    ckpt = next(i for i, r in graph.nodes.items() if r.type == "models.load_checkpoint")
    neg = add(graph, "conditioning.text_encode", {"clip": (ckpt, "clip")}, text="")
    graph.connect(neg, "conditioning", sampler, "negative")
    explicit = pixels(run(Executor(device="cpu"), graph, tmp_path / "b"), decode)
    np.testing.assert_array_equal(implicit, explicit)


def test_builtin_model_defaults_graph_runs(tmp_path, torch_threads):
    if not (ROOT / MODEL / "model_index.json").is_file():
        pytest.skip("the built-in model is not there")
    graph, decode = defaults_graph()
    assert validate(graph) == []
    assert pixels(run(Executor(device="cpu"), graph, tmp_path), decode).shape == (1, 64, 64, 3)


def test_sizes_off_the_vae_grid_are_rounded_with_a_warning():
    messages = []
    ctx = RunContext()
    ctx.on_message = lambda node, text: messages.append(text)
    (latent,) = EmptyLatent().run(ctx, width=100, height=64, batch_size=2)
    assert tuple(latent["samples"].shape) == (2, 4, 8, 12) and latent["empty_size"] == (100, 64)
    assert any("width 100" in m and "96" in m for m in messages)


def test_an_unchosen_file_is_refused_at_validation_and_by_the_cli(tmp_path, capsys):
    g = new_graph()
    load = add(g, "image.load")
    add(g, "image.preview", {"images": (load, "image")})
    problems = validate(g)
    assert [(p.node_id, p.field, p.message) for p in problems] == [(load, "image", "no file chosen")]
    path = tmp_path / "wf.json"
    files.save(g, path)
    assert cli_main(["validate", str(path)]) == 2
    assert cli_main(["run", str(path), "--out", str(tmp_path / "out"), "--quiet"]) == 2
    assert "no file chosen" in capsys.readouterr().err
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())
    assert json.loads(path.read_text())["nodes"][0]["params"]["image"] == ""
