"""Budgets on real runs: two checkpoints that do not fit together, same pixels, clear refusals."""

from __future__ import annotations

import numpy as np
import pytest
from graphs import add, new_graph, pixels, run

from nodeflow.core import ValidationError
from nodeflow.engine import Executor
from nodeflow.engine import events as ev


@pytest.fixture(scope="module")
def second_sd(tmp_path_factory, torch_threads):
    """Another tiny SD with other weights: a second checkpoint for the budget to juggle."""
    from tiny_sd import build

    return build(tmp_path_factory.mktemp("tiny_sd_b"), seed=1)


def two_checkpoints(first, second):
    """Two txt2img branches, one per checkpoint; ids make branch A run fully before B loads."""
    g = new_graph()
    ids = {}
    for name, checkpoint in (("a", first), ("b", second)):
        ckpt = add(g, "models.load_checkpoint", checkpoint=str(checkpoint))
        pos = add(g, "conditioning.text_encode", {"clip": (ckpt, "clip")}, text="a red circle")
        latent = add(g, "latent.empty", {"vae": (ckpt, "vae")}, width=32, height=32, batch_size=1)
        sampler = add(g, "sampling.sampler", {"model": (ckpt, "model"), "positive": (pos, "conditioning"),
                                              "latent_image": (latent, "latent")}, steps=2, cfg=1.0)
        ids[name] = add(g, "vae.decode", {"latent": (sampler, "latent"), "vae": (ckpt, "vae")})
        add(g, "image.preview", {"images": (ids[name], "image")})
    return g, ids


def bundle_bytes(executor):
    return sum(size for _, size, _ in executor.models.snapshot())


def test_two_checkpoints_under_a_budget_for_one_give_the_same_pixels(tiny_sd, second_sd, tmp_path):
    graph, ids = two_checkpoints(tiny_sd, second_sd)
    free = Executor(device="cpu")
    unbounded = run(free, graph, tmp_path)
    one_model = bundle_bytes(free) // 2
    tight = Executor(device="cpu", memory_budget=one_model + one_model // 2)
    notes = []
    tight.subscribe(lambda e: notes.append(e.text) if isinstance(e, ev.NodeMessage) else None)
    budgeted = run(tight, graph, tmp_path)
    for name in "ab":
        np.testing.assert_array_equal(pixels(budgeted, ids[name]), pixels(unbounded, ids[name]))
    assert any(note.startswith("memory: freed") for note in notes), notes
    assert tight.models.device_bytes() <= tight.models.budget
    # With another seed branch A samples again: its freed UNet comes back from the file bit for bit.
    graph.set_param(str(int(ids["a"]) - 1), "seed", 7)
    rerun = {name: pixels(run(ex, graph, tmp_path), ids["a"]) for name, ex in (("free", free), ("tight", tight))}
    np.testing.assert_array_equal(rerun["tight"], rerun["free"])
    assert any(note.startswith("memory: re-read") for note in notes), notes


def test_a_budget_below_the_model_is_refused_naming_node_and_sizes(tiny_sd, tmp_path):
    from graphs import txt2img

    graph, ids = txt2img(tiny_sd, save=False)
    with pytest.raises(ValidationError) as info:
        Executor(device="cpu", memory_budget=10_000).run(graph, output_dir=tmp_path)
    text = str(info.value)
    assert f"node {ids['ckpt']}:" in text and "memory budget of 10 KB" in text and "unet" in text


def test_intermediates_are_released_after_their_last_consumer_when_the_budget_needs_room(source_png, tmp_path):
    g = new_graph()
    load = add(g, "image.load", image=str(source_png[0]))  # 32x32: 12 KB as float32
    first = add(g, "image.invert", {"image": (load, "image")})
    second = add(g, "image.invert", {"image": (first, "image")})
    third = add(g, "image.invert", {"image": (second, "image")})
    out = add(g, "image.save", {"images": (third, "image")})
    roomy = run(Executor(device="cpu"), g, tmp_path)
    assert {load, first, second} <= set(roomy.values)  # the cache may keep them all
    tight = Executor(device="cpu", memory_budget=46_000)  # Load Image needs 40 KB; 52 KB of results
    result = run(tight, g, tmp_path)
    assert load not in result.values and third in result.values and out in result.values
    assert tight.models.device_bytes() <= 46_000
    np.testing.assert_array_equal(pixels(result, third), pixels(roomy, third))
