"""ChronoEdit (a Wan 2.1 image-to-video model that edits a picture as a two-latent-frame video) as its
ComfyUI template runs it: Wan Image To Video with CLIP vision, length 5, and Scale ROPE's scale_t 7. On
tiny random weights the graph gives ChronoEditPipeline's frames at tolerance 0 (its transformer's frame
positions 0 and 7 are Scale ROPE's; the pipeline's image_processor reads the picture as CLIP Vision
Encode does). Scale ROPE at scale 1, shift 0 is Wan's own positions; on a model it cannot patch it is one
line."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from graphs import add, pixels, run
from test_wan21_i2v import ComfyReading, _with_clip_vision
from wan_graphs import frames_uint8, meaningful, prompt_embeds, reference_pipe, wan_image2video

from nodeflow.core import NodeError, RunContext
from nodeflow.engine import Executor


@pytest.fixture(scope="module")
def tiny_wan21(tmp_path_factory, torch_threads):
    from tiny_wan21 import build_wan21

    return build_wan21(tmp_path_factory.mktemp("tiny_chrono"), seed=6)


def _chrono_pipe(folder):
    import diffusers

    wan = reference_pipe("WanImageToVideoPipeline", folder)
    transformer = diffusers.ChronoEditTransformer3DModel(**{k: v for k, v in wan.transformer.config.items()
                                                            if not k.startswith("_")})
    transformer.load_state_dict(wan.transformer.state_dict())
    parts = {k: v for k, v in wan.components.items() if k in ("tokenizer", "text_encoder", "image_encoder", "vae",
                                                              "scheduler")}
    pipe = diffusers.ChronoEditPipeline(**parts, transformer=transformer.eval(), image_processor=ComfyReading())
    pipe.set_progress_bar_config(disable=True)
    return pipe


def test_chrono_edit_matches_the_pipeline(tiny_wan21, source_png, tmp_path):
    from PIL import Image

    folder, tower_file = tiny_wan21
    graph, ids = wan_image2video(folder, source_png[0], negative="a blue circle", cfg=4.0, seed=9)
    _with_clip_vision(graph, ids, tower_file, ids["start"], crop="none")  # 32 px square: the same as center
    loaded = graph.disconnect(ids["sampler"], "model")
    ids["rope"] = add(graph, "models.scale_rope", {"model": (loaded.src, loaded.src_output)},
                      scale_x=1.0, shift_x=0.0, scale_y=1.0, shift_y=0.0, scale_t=7.0, shift_t=0.0)
    graph.connect(ids["rope"], "model", ids["sampler"], "model")
    ours = pixels(run(Executor(device="cpu"), graph, tmp_path), ids["decode"])

    pipe = _chrono_pipe(folder)
    frames = pipe(Image.open(source_png[0]).convert("RGB"), **prompt_embeds(pipe, "a red circle", "a blue circle", 1),
                  height=32, width=32, num_frames=5, num_inference_steps=2, guidance_scale=4.0,
                  generator=torch.Generator("cpu").manual_seed(9), output_type="np").frames
    theirs = frames_uint8(frames)
    meaningful(theirs)
    np.testing.assert_array_equal(ours, theirs)


def test_scale_t_7_is_chrono_edits_frame_positions():
    """Two latent frames at 0 and 7: ChronoEditRotaryPosEmbed's (temporal_skip_len 8), not Wan's 0 and 1."""
    from diffusers.models.transformers.transformer_chronoedit import ChronoEditRotaryPosEmbed
    from tiny_wan import wan_transformer

    from nodes.wan._rope import positions

    rope = wan_transformer(real_heads=True).rope
    chrono = ChronoEditRotaryPosEmbed(128, (1, 2, 2), 32, temporal_skip_len=8)
    hidden = torch.zeros(1, 16, 2, 4, 6)
    cos, sin = chrono(hidden)
    ours = positions(rope, 2, 2, 3, (1.0, 0.0, 1.0, 0.0, 7.0, 0.0))
    torch.testing.assert_close(ours[0].to(cos), cos, rtol=0, atol=0)
    torch.testing.assert_close(ours[1].to(sin), sin, rtol=0, atol=0)
    assert not torch.equal(rope(hidden)[0], cos)


def test_unit_scale_is_wans_own_positions():
    from tiny_wan import wan_transformer

    from nodes.wan._rope import positions

    rope = wan_transformer().rope
    cos, sin = rope(torch.zeros(1, 16, 3, 4, 6))
    ours = positions(rope, 3, 2, 3, (1.0, 0.0, 1.0, 0.0, 1.0, 0.0))
    torch.testing.assert_close(ours[0].to(cos), cos, rtol=0, atol=0)
    torch.testing.assert_close(ours[1].to(sin), sin, rtol=0, atol=0)


def test_scale_rope_on_a_model_it_cannot_patch_is_one_line(tiny_sd):
    from nodes.models.checkpoint import LoadCheckpoint
    from nodes.models.rope import ScaleRope

    model = LoadCheckpoint().run(RunContext(), checkpoint=str(tiny_sd))[0]
    with pytest.raises(NodeError, match="scaled rotary positions") as caught:
        ScaleRope().run(RunContext(), model, scale_t=7.0)
    assert caught.value.field == "model"
