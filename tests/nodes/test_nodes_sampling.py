"""Custom sampling, seeds, caching, progress, cancel and the sampler options."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from graphs import add, new_graph, pixels, run, txt2img
from pipelines import as_uint8, generator, with_scheduler

from nodeflow.core import CancelToken, RunContext
from nodeflow.engine import Executor
from nodeflow.engine import events as ev


@pytest.fixture(scope="module")
def executor():
    return Executor(device="cpu")


def custom_graph(checkpoint, *, seed=0, steps=4, cfg=7.0, sampler="euler", scheduler="normal", eta=1.0):
    g = new_graph()
    ckpt = add(g, "models.load_checkpoint", checkpoint=str(checkpoint))
    pos = add(g, "conditioning.text_encode", {"clip": (ckpt, "clip")}, text="a red circle")
    neg = add(g, "conditioning.text_encode", {"clip": (ckpt, "clip")}, text="")
    latent = add(g, "latent.empty", {"vae": (ckpt, "vae")}, width=32, height=32, batch_size=1)
    noise = add(g, "noise.random", seed=seed)
    guider = add(g, "sampling.cfg_guider", {"model": (ckpt, "model"), "positive": (pos, "conditioning"),
                                             "negative": (neg, "conditioning")}, cfg=cfg)
    pick = add(g, "sampling.sampler_select", sampler_name=sampler, eta=eta)
    sigmas = add(g, "sampling.scheduler", scheduler=scheduler, steps=steps, denoise=1.0)
    sample = add(g, "sampling.sample", {"noise": (noise, "noise"), "guider": (guider, "guider"),
                                         "sampler": (pick, "sampler"), "sigmas": (sigmas, "sigmas"),
                                         "latent_image": (latent, "latent")})
    decode = add(g, "vae.decode", {"latent": (sample, "latent"), "vae": (ckpt, "vae")})
    add(g, "image.preview", {"images": (decode, "image")})
    return g, decode


@pytest.mark.parametrize(("sampler", "scheduler"), [("euler_ancestral", "normal"), ("dpmpp_2m", "karras")])
def test_custom_sampling_equals_all_in_one_sampler(tiny_sd, executor, tmp_path, sampler, scheduler):
    g, decode = custom_graph(tiny_sd, seed=21, sampler=sampler, scheduler=scheduler)
    custom = pixels(run(executor, g, tmp_path), decode)
    g2, ids = txt2img(tiny_sd, seed=21, sampler=sampler, scheduler=scheduler, save=False)
    np.testing.assert_array_equal(custom, pixels(run(executor, g2, tmp_path), ids["decode"]))


def test_same_seed_same_pixels_different_seed_different_pixels(tiny_sd, tmp_path):
    images = []
    for seed in (5, 5, 6):
        graph, ids = txt2img(tiny_sd, seed=seed, sampler="euler_ancestral", save=False)
        images.append(pixels(run(Executor(device="cpu"), graph, tmp_path), ids["decode"]))
    np.testing.assert_array_equal(images[0], images[1])
    assert np.abs(images[0].astype(int) - images[2].astype(int)).mean() > 1


def test_unchanged_rerun_does_nothing_and_seed_change_reruns_only_sampling(tiny_sd, tmp_path):
    ex = Executor(device="cpu")
    graph, ids = txt2img(tiny_sd, seed=1)
    run(ex, graph, tmp_path)
    again = run(ex, graph, tmp_path)
    assert again.executed == []
    graph.set_param(ids["sampler"], "seed", 2)
    changed = run(ex, graph, tmp_path)
    assert sorted(changed.executed) == sorted([ids["sampler"], ids["decode"], ids["out"]])
    assert len(list(tmp_path.glob("*.png"))) == 2  # the cached re-run wrote nothing


def test_progress_reports_every_step_with_a_preview(tiny_sd, tmp_path):
    ex = Executor(device="cpu")
    seen = []
    ex.subscribe(lambda e: seen.append(e) if isinstance(e, ev.NodeProgress) else None)
    graph, ids = txt2img(tiny_sd, steps=3, save=False)
    run(ex, graph, tmp_path)
    steps = [(e.step, e.total) for e in seen if e.node_id == ids["sampler"]]
    assert steps == [(1, 3), (2, 3), (3, 3)]
    previews = [e.preview for e in seen]
    assert previews[0] is not None and previews[-1] is not None  # in between: at most ten a second
    assert all(p.size == (16, 16) for p in previews if p is not None)


def test_cancel_stops_between_steps(tiny_sd, tmp_path):
    ex = Executor(device="cpu")
    token = CancelToken()
    steps = []

    def watch(event):
        if isinstance(event, ev.NodeProgress):
            steps.append(event.step)
            token.cancel()

    ex.subscribe(watch)
    graph, _ = txt2img(tiny_sd, steps=10)
    result = ex.run(graph, cancel=token, output_dir=tmp_path)
    assert result.cancelled and not result.ok
    assert steps == [1]
    assert not list(tmp_path.glob("*.png"))


def test_euler_ancestral_eta_zero_is_plain_euler_and_eta_changes_the_picture(tiny_sd, executor, tmp_path):
    results = {}
    for name, sampler, eta in [("euler", "euler", 1.0), ("eta0", "euler_ancestral", 0.0),
                               ("eta05", "euler_ancestral", 0.5), ("eta1", "euler_ancestral", 1.0)]:
        g, decode = custom_graph(tiny_sd, seed=3, sampler=sampler, eta=eta)
        results[name] = pixels(run(executor, g, tmp_path), decode).astype(int)
    assert np.abs(results["eta0"] - results["euler"]).max() <= 1
    assert np.abs(results["eta05"] - results["eta1"]).mean() > 0.5
    assert np.abs(results["eta05"] - results["euler"]).mean() > 0.5


@pytest.mark.parametrize(("sampler", "scheduler"), [("dpmpp_sde", "karras"), ("uni_pc", "normal"),
                                                     ("heun", "normal")])
def test_more_samplers_match_the_pipeline(tiny_sd, executor, tmp_path, sampler, scheduler):
    graph, ids = txt2img(tiny_sd, seed=8, sampler=sampler, scheduler=scheduler, steps=3)
    ours = pixels(run(executor, graph, tmp_path), ids["decode"])
    pipe = with_scheduler("txt2img", tiny_sd, sampler, scheduler, seed=8)
    theirs = as_uint8(pipe("a red circle", negative_prompt="", height=32, width=32, num_inference_steps=3,
                           guidance_scale=7.0, generator=generator(8)).images)
    np.testing.assert_array_equal(ours, theirs)


@pytest.mark.parametrize("sampler", ["lms", "dpm_2", "dpm_2_ancestral", "dpmpp_2m_sde", "ddpm", "deis"])
def test_every_sampler_runs(tiny_sd, executor, tmp_path, sampler):
    graph, ids = txt2img(tiny_sd, seed=1, sampler=sampler, steps=3, save=False)
    image = pixels(run(executor, graph, tmp_path), ids["decode"])
    assert image.shape == (1, 32, 32, 3) and image.std() > 5


@pytest.mark.parametrize("scheduler", ["karras", "exponential", "beta", "sgm_uniform"])
def test_schedules_run_and_differ_from_normal(tiny_sd, executor, tmp_path, scheduler):
    out = {}
    for name in ("normal", scheduler):
        graph, ids = txt2img(tiny_sd, seed=1, sampler="euler", scheduler=name, steps=4, save=False)
        out[name] = pixels(run(executor, graph, tmp_path), ids["decode"]).astype(int)
    assert np.abs(out["normal"] - out[scheduler]).mean() > 0.5


def test_unsupported_sampler_and_schedule_pair_is_a_clear_error(tiny_sd, executor, tmp_path):
    graph, ids = txt2img(tiny_sd, sampler="ddim", scheduler="karras", save=False)
    result = executor.run(graph, output_dir=tmp_path)
    assert "does not support the 'karras' scheduler" in result.errors[ids["sampler"]]


def test_denoise_leaving_no_step_is_a_clear_error(tiny_sd, executor, tmp_path, source_png):
    from graphs import img2img

    graph, ids = img2img(tiny_sd, source_png[0], steps=4, denoise=0.2)
    result = executor.run(graph, output_dir=tmp_path)
    assert "leaves no step to run" in result.errors[ids["sampler"]]


def test_long_prompt_is_cut_like_diffusers_with_a_warning(tiny_sd):
    from nodes.conditioning.prompts import TextEncode
    from nodes.models.checkpoint import LoadCheckpoint

    messages = []
    ctx = RunContext(on_message=lambda node, text: messages.append(text))
    _, clip, _ = LoadCheckpoint().run(ctx, checkpoint=str(tiny_sd))
    (short,) = TextEncode().run(ctx, clip=clip, text="a red circle")
    assert messages == []
    (long,) = TextEncode().run(ctx, clip=clip, text="a red circle " * 10)
    assert len(messages) == 1 and "cut off" in messages[0] and "circle" in messages[0]
    assert long.entries[0].embeds.shape == short.entries[0].embeds.shape


@pytest.mark.parametrize("which", ["random", "builtin"])
def test_latent_preview_projection_is_fitted_to_the_vae(tiny_sd, source_png, which):
    """The preview of an encoded picture looks like the picture (a linear fit of this VAE's latents).

    Only a trained VAE has latents a linear map can read; the random one just has to work.
    """
    from PIL import Image
    from workflow_builder import MODEL, ROOT

    from nodes._tensors import pil_to_image
    from nodes.models.checkpoint import LoadCheckpoint
    from nodes.sampling._preview import latent_preview
    from nodes.vae.codec import VAEEncode

    folder = tiny_sd if which == "random" else ROOT / MODEL
    if not (folder / "model_index.json").is_file():
        pytest.skip(f"the built-in model is not in {MODEL} yet")
    ctx = RunContext()
    model, _, vae = LoadCheckpoint().run(ctx, checkpoint=str(folder))
    picture = Image.open(source_png[0]).convert("RGB") if which == "random" else \
        Image.open(ROOT / "workflows/inputs/red_circle.png").convert("RGB")
    (latent,) = VAEEncode().run(ctx, pixels=pil_to_image(picture), vae=vae)
    preview = latent_preview(model, latent["samples"])
    assert preview.size == tuple(latent["samples"].shape[-1:-3:-1])
    assert model.vae.preview_projection is not None  # fitted once per VAE, then reused
    if which == "builtin":
        ours = np.asarray(preview).astype(float)
        small = np.asarray(picture.resize(preview.size, Image.Resampling.BOX)).astype(float)
        assert np.corrcoef(ours.ravel(), small.ravel())[0, 1] > 0.6  # the random VAE: ~0.35


def test_save_and_preview_hand_their_images_to_the_viewer(tiny_sd, tmp_path):
    ex = Executor(device="cpu")
    shown = []
    ex.subscribe(lambda e: shown.append(e) if isinstance(e, ev.NodeImages) else None)
    for save in (True, False):
        graph, ids = txt2img(tiny_sd, batch=2, save=save)
        run(ex, graph, tmp_path)
    assert [len(e.images) for e in shown] == [2, 2]
    assert all(image.size == (32, 32) and image.mode == "RGB" for e in shown for image in e.images)


def test_model_sampling_overrides_prediction_type(tiny_sd, executor, tmp_path):
    from graphs import add

    def render(folder, prediction):
        graph, ids = txt2img(folder, seed=2, save=False)
        override = add(graph, "models.model_sampling", {"model": (ids["ckpt"], "model")}, prediction=prediction)
        graph.connect(override, "model", ids["sampler"], "model")
        return pixels(run(executor, graph, tmp_path), ids["decode"])

    plain_graph, plain_ids = txt2img(tiny_sd, seed=2, save=False)
    plain = pixels(run(executor, plain_graph, tmp_path), plain_ids["decode"])
    np.testing.assert_array_equal(render(tiny_sd, "epsilon"), plain)  # its own type: unchanged
    assert (render(tiny_sd, "v_prediction") != plain).any()


def test_chunked_long_prompts(tiny_sd, executor, tmp_path):
    from nodes.conditioning.prompts import TextEncode
    from nodes.models.checkpoint import LoadCheckpoint

    ctx = RunContext(on_message=lambda node, text: pytest.fail(f"unexpected warning: {text}"))
    _, clip, _ = LoadCheckpoint().run(ctx, checkpoint=str(tiny_sd))
    (cut,) = TextEncode().run(ctx, clip=clip, text="a red circle", long_prompt="cut")
    (chunked,) = TextEncode().run(ctx, clip=clip, text="a red circle", long_prompt="chunk")
    assert torch.equal(cut.entries[0].embeds, chunked.entries[0].embeds)  # fits: the same either way
    (long,) = TextEncode().run(ctx, clip=clip, text="a red circle " * 6, long_prompt="chunk")
    assert long.entries[0].embeds.shape == (1, 2 * 32, 32)  # 48 tokens -> two windows of 30

    graph, ids = txt2img(tiny_sd, prompt="a red circle " * 6, save=False)
    graph.set_param(ids["pos"], "long_prompt", "chunk")  # the negative stays one window: repeated
    image = pixels(run(executor, graph, tmp_path), ids["decode"])
    graph.set_param(ids["pos"], "long_prompt", "cut")
    assert (image != pixels(run(executor, graph, tmp_path), ids["decode"])).any()
