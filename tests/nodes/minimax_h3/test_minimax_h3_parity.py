"""MiniMax H3 on tiny random weights against diffusers' MiniMaxH3ModularPipeline: the prompt's layer-50
states, the text-to-video and first-frame runs (video and audio latents) equal the pipeline's exactly;
the transformer as ComfyUI's file (original key names, and its blocks as int8 ConvRot) loads through
Load Diffusion Model's path as the MiniMax H3 family; the NVFP4 text encoder the templates name is one
line at validation."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from safetensors.torch import save_file
from tiny_minimax_h3 import original_state, parts, pipeline

from nodes.minimax_h3 import _adapter as ad
from nodes.values import CondEntry, Model, Vae

PROMPT = "a red circle on a blue background"
#: 22 frames (17 + 5: the fewest the video VAE decodes) at 32 px: 7 latent frames of 2x2 cells, 37 audio frames.
FRAMES, SIDE, STEPS, SEED = 22, 32, 3, 1


@pytest.fixture(scope="module")
def tiny():
    return parts()


def as_model(transformer) -> Model:
    return Model(unet=transformer, scheduler_config={}, vae_scale_factor=16, latent_channels=24, device="cpu",
                 dtype=torch.float32, family="minimax-h3")


def empty_latent() -> dict:
    _, frames, audio = ad.frame_counts(FRAMES)
    return {"samples": torch.zeros(1, 24, frames, SIDE // 16, SIDE // 16),
            "audio_samples": torch.zeros(1, 32, 2, audio)}


def reference(tiny, **inputs) -> dict:
    return pipeline(tiny)(prompt=PROMPT, height=SIDE, width=SIDE, num_frames=FRAMES, num_inference_steps=STEPS,
                          generator=torch.Generator().manual_seed(SEED),
                          output=["latents", "audio_latents", "prompt_embeds"], **inputs)


def test_frame_counts_snap_to_the_vae_grid():
    assert ad.frame_counts(5) == (5, 2, 8)
    assert ad.frame_counts(73) == (73, 22, 122)
    assert ad.frame_counts(100) == (107, 32, 178)


def test_text_to_video_equals_the_pipeline(tiny):
    want = reference(tiny)
    states, tags = ad.prompt_states(tiny["tokenizer"], tiny["text_encoder"], PROMPT, "cpu")
    assert torch.equal(states, want["prompt_embeds"])
    got = ad.sample(as_model(tiny["transformer"]), CondEntry(embeds=states, extra=ad.Prompt(tags)), empty_latent(),
                    SEED, STEPS)
    assert torch.equal(got["samples"], want["latents"])
    # the pipeline's audio is [left/right, 32, frames]; a LATENT keeps ComfyUI's [1, 32, 2, frames]
    assert torch.equal(got["audio_samples"][0].permute(1, 0, 2), want["audio_latents"])


def test_first_frame_equals_the_pipeline(tiny):
    from PIL import Image

    from nodes.qwen_image21._prompt import processor_for

    pixels = np.random.default_rng(0).integers(0, 256, (SIDE, SIDE, 3), dtype=np.uint8)
    want = reference(tiny, image=Image.fromarray(pixels))
    states, tags = ad.prompt_states(tiny["tokenizer"], tiny["text_encoder"], PROMPT, "cpu",
                                    (Image.fromarray(pixels),), processor_for(tiny["tokenizer"]))
    assert torch.equal(states, want["prompt_embeds"])
    assert tags.tolist().count(ad.VIDEO_TAG) > 2  # the vision block's rows carry the video tag
    first = ad.keyframe_latents(Vae(tiny["vae"], "cpu", torch.float32), torch.from_numpy(pixels)[None] / 255.0)
    entry = CondEntry(embeds=states, extra=ad.Prompt(tags, (ad.Guide(0, first),)))
    got = ad.sample(as_model(tiny["transformer"]), entry, empty_latent(), SEED, STEPS)
    assert torch.equal(got["samples"], want["latents"])
    assert torch.equal(got["audio_samples"][0].permute(1, 0, 2), want["audio_latents"])


def test_a_conditioning_of_another_family_is_one_line(tiny):
    from nodeflow.core import NodeError

    with pytest.raises(NodeError, match="minimax"):
        ad.sample(as_model(tiny["transformer"]), CondEntry(embeds=torch.zeros(1, 3, 32)), empty_latent(), 0, 3)


def velocity(transformer, tiny) -> tuple[torch.Tensor, torch.Tensor]:
    states, tags = ad.prompt_states(tiny["tokenizer"], tiny["text_encoder"], PROMPT, "cpu")
    latent = empty_latent()
    layout = ad.Layout(as_model(transformer), CondEntry(embeds=states, extra=ad.Prompt(tags)),
                       tuple(latent["samples"].shape), latent["audio_samples"].shape[-1])
    generator = torch.Generator().manual_seed(3)
    video = ad.video_rows(torch.randn(latent["samples"].shape, generator=generator), (1, 2, 2))
    audio = ad.audio_rows(torch.randn(latent["audio_samples"].shape, generator=generator))
    return layout(video, audio, 0.25, 0.6)


def test_comfyui_file_loads_as_the_family(tiny, tmp_path):
    from nodes.families import detect
    from nodes.models._quantized_headers import tensor_shapes
    from nodes.models._split_loaders import load_unet

    path = tmp_path / "minimax_h3_fl2va_bf16.safetensors"
    save_file(original_state(tiny["transformer"].state_dict()), str(path))
    assert detect(tensor_shapes(path)).name == "minimax-h3"
    assert detect({k: list(v.shape) for k, v in tiny["transformer"].state_dict().items()}).name == "minimax-h3"
    model = load_unet(path, "cpu", torch.float32)
    assert model.family == "minimax-h3" and model.vae_scale_factor == 16
    want, got = velocity(tiny["transformer"], tiny), velocity(model.unet, tiny)
    assert torch.equal(got[0], want[0]) and torch.equal(got[1], want[1])


def test_int8_convrot_file_runs_within_its_rounding(tiny, tmp_path):
    from test_convrot import convrot_state

    from nodes.models._split_loaders import load_unet

    state = original_state(tiny["transformer"].state_dict())
    blocks = {k: v for k, v in state.items() if ".blocks.0." in k and v.dim() == 2 and v.shape[1] % 16 == 0}
    path = tmp_path / "minimax_h3_fl2va_int8_convrot.safetensors"
    save_file(state | convrot_state(blocks, 16), str(path))
    model = load_unet(path, "cpu", torch.float32)
    want, got = velocity(tiny["transformer"], tiny), velocity(model.unet, tiny)
    scale = want[0].abs().max()
    assert (got[0] - want[0]).abs().max() < 0.05 * scale  # int8 per-row rounding of the block's weights
    assert not torch.equal(got[0], want[0])


def test_nvfp4_text_encoder_is_one_line_at_validation(tmp_path):
    from nodes.models.loaders import LoadCLIP

    path = tmp_path / "qwen3vl_32b_minimax_h3_nvfp4_awq.safetensors"
    marker = torch.tensor(list(json.dumps({"format": "nvfp4"}).encode()), dtype=torch.uint8)
    save_file({"model.language_model.layers.0.mlp.down_proj.weight": torch.zeros(8, 4, dtype=torch.uint8),
               "model.language_model.layers.0.mlp.down_proj.weight_scale": torch.ones(8, 1),
               "model.language_model.layers.0.mlp.down_proj.comfy_quant": marker}, str(path))
    problems = LoadCLIP.device_problems({"clip_name": path.name, "family": "minimax"}, lambda name: tmp_path / name,
                                        "cpu")
    assert len(problems) == 1 and problems[0][0] == "clip_name"
    assert "NVFP4" in problems[0][1] and path.name in problems[0][1]


def test_a_sampler_node_in_the_diffusers_convention_runs_the_pipelines_loop(tiny):
    """Sample (diffusers convention) with a video + soundtrack latent: the family's own loop, `steps` model
    calls (the pipeline's num_inference_steps counts the final 0 too); equal at tolerance 0."""
    from nodeflow.core import RunContext
    from nodes.sampling._loop import sample
    from nodes.values import Conditioning, Guider, NoiseSource, SamplerChoice, Schedule

    want = reference(tiny)
    states, tags = ad.prompt_states(tiny["tokenizer"], tiny["text_encoder"], PROMPT, "cpu")
    guider = Guider(as_model(tiny["transformer"]), Conditioning([CondEntry(embeds=states, extra=ad.Prompt(tags))]),
                    None, 1.0)
    got = sample(RunContext(), guider, SamplerChoice("euler"), Schedule("normal", STEPS - 1), NoiseSource(SEED),
                 empty_latent())
    assert torch.equal(got["samples"], want["latents"])
    assert torch.equal(got["audio_samples"][0].permute(1, 0, 2), want["audio_latents"])


def test_a_keyframe_between_the_ends_sits_at_its_frames_rotary_time(tiny):
    """The first and last frames where the pipeline anchors them; one between at text rows + 5/3 per frame."""
    states, tags = ad.prompt_states(tiny["tokenizer"], tiny["text_encoder"], PROMPT, "cpu")
    latent = empty_latent()
    held = torch.zeros(1, 24, 1, SIDE // 16, SIDE // 16)
    guides = (ad.Guide(0, held), ad.Guide(-1, held), ad.Guide(10, held))
    layout = ad.Layout(as_model(tiny["transformer"]), CondEntry(embeds=states, extra=ad.Prompt(tags, guides)),
                       tuple(latent["samples"].shape), latent["audio_samples"].shape[-1])
    text = layout.text_count
    times = layout.fields["position_ids"][text:text + 3, 0].tolist()  # one row per guide at 32 px
    assert times[0] == text and times[1] == pytest.approx(text + 5 / 3 * (FRAMES - 1))
    assert times[2] == pytest.approx(text + 5 / 3 * 10)
    from nodeflow.core import NodeError

    with pytest.raises(NodeError, match="outside the video's 22 frames"):
        ad.Layout(as_model(tiny["transformer"]), CondEntry(embeds=states, extra=ad.Prompt(tags, (ad.Guide(22, held),))),
                  tuple(latent["samples"].shape), latent["audio_samples"].shape[-1])
