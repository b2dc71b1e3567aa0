"""Loading without waste: minimal tokenizer folders, previews only when shown, header-only guesses."""

from __future__ import annotations

import shutil

import numpy as np
import pytest
from graphs import add, pixels, run, txt2img

from nodeflow.engine import Executor


def test_a_tokenizer_folder_with_only_vocab_and_merges_gets_the_encoder_window(tiny_sd, tmp_path):
    """transformers gives such a tokenizer a ~1e30 window; padding to it overflowed."""
    lean = tmp_path / "lean"
    shutil.copytree(tiny_sd, lean)
    for extra in (lean / "tokenizer").iterdir():
        if extra.name not in ("vocab.json", "merges.txt"):
            extra.unlink()
    graph, ids = txt2img(lean, seed=2, save=False)
    ours = pixels(run(Executor(device="cpu"), graph, tmp_path), ids["decode"])
    graph, ids = txt2img(tiny_sd, seed=2, save=False)
    np.testing.assert_array_equal(ours, pixels(run(Executor(device="cpu"), graph, tmp_path), ids["decode"]))


def test_the_preview_projection_is_fitted_only_when_previews_are_shown(tiny_sd, tmp_path, monkeypatch):
    import nodes.sampling._preview as preview

    fits = []
    real = preview.fit_preview_projection
    monkeypatch.setattr(preview, "fit_preview_projection", lambda model: fits.append(model) or real(model))
    graph, ids = txt2img(tiny_sd, steps=2, save=False)
    quiet = Executor(device="cpu", previews=False)
    quiet.subscribe(lambda event: None)
    run(quiet, graph, tmp_path)
    run(Executor(device="cpu"), graph, tmp_path)  # previews on, but no one watches the run
    assert fits == []
    # Shown: fitted once per VAE, also for a second MODEL sharing it (Model Sampling makes a copy).
    shown = Executor(device="cpu")
    shown.subscribe(lambda event: None)
    run(shown, graph, tmp_path)
    sampling = add(graph, "models.model_sampling", {"model": (ids["ckpt"], "model")}, prediction="epsilon",
                   zero_terminal_snr="off")
    graph.connect(sampling, "model", ids["sampler"], "model")
    result = run(shown, graph, tmp_path)
    assert ids["sampler"] in result.executed and len(fits) == 1


def test_a_single_file_architecture_is_guessed_from_the_header_alone(tiny_sd, tmp_path, monkeypatch):
    from ldm_format import write_single_file

    import nodes.models._checkpoint as ck

    checkpoint = write_single_file(tiny_sd, tmp_path / "tiny.safetensors")
    shapes = ck._shapes_only(checkpoint)
    assert shapes and all(isinstance(v.shape, tuple) for v in shapes.values())
    monkeypatch.setattr(ck, "read_state_dict", lambda path: pytest.fail("the weights were read twice"))
    assert ck.architecture(ck._shapes_only(checkpoint) or ck.read_state_dict(checkpoint)) == "sd15"
