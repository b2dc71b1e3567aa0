"""LTX-2.5 from ComfyUI's split files (Load Diffusion Model, Load CLIP type ltxv with Gemma 4 and LTX's text
projection, Load VAE for the video VAE and for the audio VAE) on tiny random weights.

Parity with diffusers' LTX2Pipeline holding the same parts (Gemma4UnifiedForConditionalGeneration, LTX-2.5's
transformer), guided by LTXV Dual CFG Guider with 3 for the video and 6 for the sound, within the rounding the
LTX-2 parity tests state (the pipeline guides x0 by deltas, NodeFlow velocities): frames 1e-5, waveform 1e-6.
The projection runs when the prompt is encoded and the connectors when it samples (`nodes.ltx2._projection`),
the pipeline runs both in one call: the same numbers, in the same order.
"""

from __future__ import annotations

import pytest
import torch
from graphs import add, new_graph
from ltx2_graphs import pipeline_run

from nodeflow.engine import Executor


@pytest.fixture(scope="module")
def ltx25(tmp_path_factory, torch_threads):
    from tiny_ltx25 import build, write_files

    root = tmp_path_factory.mktemp("ltx25")
    folder = build(root / "pipeline")
    return folder, write_files(folder, root / "files")


def split_graph(files, *, video_cfg: float, audio_cfg: float, negative: str, seed: int):
    """The split loaders -> prompts -> LTXV Conditioning -> joined latents -> Sample with LTXV Dual CFG Guider
    (Euler, the pipeline's levels) -> separated -> VAE Decode and LTXV Audio VAE Decode."""
    g = new_graph()
    unet = add(g, "models.load_unet", unet=str(files["unet"]))
    clip = add(g, "models.load_clip", clip_name=str(files["clip"]), family="ltxv")
    vae = add(g, "models.load_vae", vae=str(files["video_vae"]))
    audio_vae = add(g, "models.load_vae", vae=str(files["audio_vae"]))
    pos = add(g, "conditioning.text_encode", {"clip": (clip, "clip")}, text="a red circle")
    neg = add(g, "conditioning.text_encode", {"clip": (clip, "clip")}, text=negative)
    cond = add(g, "ltx2.conditioning", {"positive": (pos, "conditioning"), "negative": (neg, "conditioning")},
               frame_rate=25.0)
    video = add(g, "ltx2.empty_latent_video", width=64, height=64, length=9, batch_size=1)
    audio = add(g, "ltx2.empty_latent_audio", {"audio_vae": (audio_vae, "vae")}, frames_number=9, frame_rate=25.0,
                batch_size=1)
    av = add(g, "ltx2.concat_av_latent", {"video_latent": (video, "latent"), "audio_latent": (audio, "latent")})
    guider = add(g, "ltx2.dual_cfg_guider", {"model": (unet, "model"), "positive": (cond, "positive"),
                                             "negative": (cond, "negative")}, video_cfg=video_cfg, audio_cfg=audio_cfg)
    sample = add(g, "sampling.sample", {
        "noise": (add(g, "noise.random", seed=seed), "noise"), "guider": (guider, "guider"),
        "sampler": (add(g, "sampling.sampler_select", sampler_name="euler"), "sampler"),
        "sigmas": (add(g, "sampling.scheduler", scheduler="normal", steps=2), "sigmas"),
        "latent_image": (av, "latent")})
    split = add(g, "ltx2.separate_av_latent", {"av_latent": (sample, "latent")})
    decode = add(g, "vae.decode", {"latent": (split, "video_latent"), "vae": (vae, "vae")})
    sound = add(g, "ltx2.audio_vae_decode", {"samples": (split, "audio_latent"), "audio_vae": (audio_vae, "vae")})
    out = add(g, "image.preview", {"images": (decode, "image")})
    return g, {"decode": decode, "sound": sound, "out": out}


def test_ltx25_split_files_match_ltx2_pipeline(ltx25, tmp_path):
    folder, files = ltx25
    graph, ids = split_graph(files, video_cfg=3.0, audio_cfg=6.0, negative="a blue square", seed=7)
    result = Executor(device="cpu").run(graph, output_dir=tmp_path, targets=[ids["out"], ids["sound"]])
    assert result.ok, result.errors
    frames, sound = result.values[ids["decode"]]["image"], result.values[ids["sound"]]["audio"]["waveform"]
    theirs_frames, theirs_sound = pipeline_run(folder, negative="a blue square", cfg=3.0, audio_cfg=6.0, seed=7)
    assert theirs_frames.std() > 0.02 and theirs_sound.std() > 1e-3
    torch.testing.assert_close(frames, theirs_frames.float(), atol=1e-5, rtol=0)
    torch.testing.assert_close(sound, theirs_sound.float(), atol=1e-6, rtol=0)


@pytest.mark.parametrize("template", ["video_ltx2_5_t2v", "video_ltx2_5_i2v", "video_ltx2_5_flf2v"])
def test_the_ltx25_templates_run_on_tiny_files(ltx25, tmp_path, template):
    """ComfyUI's LTX-2.5 templates, fully mapped, on the tiny split files and the x2 latent upscaler (its prompt
    writer's Gemma 4 switched off, as the templates ship): two passes guided by LTXV Dual CFG Guider at 1 and 1."""
    from test_ltx2_template import _run_template
    from tiny_ltx2 import write_upsampler_file

    _, files = ltx25
    files = files | {"upscaler": write_upsampler_file(tmp_path / "ltx-2.5-spatial-upscaler-tiny.safetensors")[0]}
    needs = ("ltx2.dual_cfg_guider",) + (("ltx2.latent_upsampler",) if template != "video_ltx2_5_flf2v" else ())
    assert len(_run_template(template, files, tmp_path, needs=needs)) == 1


def test_a_gemma4_file_carrying_its_tokenizer(ltx25, tmp_path):
    """ComfyUI's file keeps the tokenizer as `tokenizer_json`: it tokenizes as the pipeline's tokenizer does, and the
    prompt's projected features are the same as with the tokenizer folder beside the file."""
    from tiny_ltx25 import write_files

    from nodes.ltx2._gemma4 import load_clip

    folder, files = ltx25
    carried = write_files(folder, tmp_path / "embedded", embed_tokenizer=True)["clip"]
    ours, beside = (load_clip([path], "cpu", torch.float32, "cpu") for path in (carried, files["clip"]))
    text = "a red circle, then a blue square"
    assert ours.tokenizer(text).input_ids == beside.tokenizer(text).input_ids
    assert ours.text_encoder.projection.video_text_proj_in.out_features == 128
