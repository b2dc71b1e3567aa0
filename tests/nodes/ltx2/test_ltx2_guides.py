"""LTX-2's guides (ComfyUI's LTXVAddGuide and LTXVCropGuides): a guide picture is encoded as In Place encodes
a start picture and appended after the video's frames, held by 1 - strength; the prompts record its frame
(negative counts back from the last); the transformer sees its tokens at that frame; Crop Guides undoes it all."""

from __future__ import annotations

import pytest
import torch

from nodeflow.core import NodeError, RunContext
from nodes.ltx2._guides import guide_coords
from nodes.ltx2.guides import AddGuide, CropGuides, Guides, guide_frame, guides_of
from nodes.ltx2.image import ImgToVideoInplace
from nodes.models.checkpoint import LoadCheckpoint
from nodes.values import CondEntry, Conditioning

CTX = RunContext()


@pytest.fixture(scope="module")
def parts(tiny_ltx2):
    model, _, vae = LoadCheckpoint().run(CTX, checkpoint=str(tiny_ltx2[0]))
    return model, vae


def _prompts() -> tuple[Conditioning, Conditioning]:
    return (Conditioning([CondEntry(torch.zeros(1, 2, 4), text="a", frame_rate=24.0)]),
            Conditioning([CondEntry(torch.zeros(1, 2, 4))]))


def test_guides_append_at_their_frames_and_crop_guides_undoes_them(parts):
    _, vae = parts
    positive, negative = _prompts()
    latent = {"samples": torch.randn(1, 128, 3, 2, 2)}  # 17 frames of 64 x 64
    first, last = torch.rand(1, 64, 64, 3), torch.rand(1, 64, 64, 3)
    positive, negative, guided = AddGuide().run(CTX, positive, negative, vae, latent, first, 0, 0.7)
    positive, negative, guided = AddGuide().run(CTX, positive, negative, vae, guided, last, -1, 1.0)
    assert guides_of(positive) == guides_of(negative) == Guides(((0, 1), (16, 1)))
    assert positive.entries[0].frame_rate == 24.0 and positive.entries[0].text == "a"
    assert guided["samples"].shape == (1, 128, 5, 2, 2)
    torch.testing.assert_close(guided["noise_mask"].flatten(), torch.tensor([1.0, 1.0, 1.0, 0.3, 0.0]))
    inplace = ImgToVideoInplace().run(CTX, vae, last, latent, 1.0, False)[0]["samples"]
    torch.testing.assert_close(guided["samples"][:, :, 4], inplace[:, :, 0])
    assert torch.equal(guided["samples"][:, :, :3], latent["samples"])
    positive, negative, cropped = CropGuides().run(CTX, positive, negative, guided)
    assert torch.equal(cropped["samples"], latent["samples"]) and cropped["noise_mask"].shape[2] == 3
    assert guides_of(positive).placed == guides_of(negative).placed == ()
    assert positive.entries[0].frame_rate == 24.0


def test_guide_tokens_take_their_frames_rotary_positions(parts):
    model, _ = parts
    transformer = model.unet
    video = transformer.rope.prepare_video_coords(1, 5, 2, 2, torch.device("cpu"), fps=24.0)
    moved = guide_coords(transformer, video, Guides(((0, 1), (16, 1))), 2, 2, 24.0)
    assert torch.equal(moved[:, :, :12], video[:, :, :12])
    torch.testing.assert_close(moved[:, :, 12:16], video[:, :, :4])  # frame 0: the first frame's own positions
    assert torch.equal(moved[:, 1:, 16:], video[:, 1:, :4])
    torch.testing.assert_close(moved[:, 0, 16:], torch.tensor([16.0, 17.0]).div(24.0).expand(1, 4, 2))


def test_guide_placement_and_bad_guides_are_one_line_naming_the_field(parts):
    _, vae = parts
    assert guide_frame(-1, 3, 1) == 16 and guide_frame(-9, 3, 1) == 8 and guide_frame(-99, 3, 1) == 0
    positive, negative = _prompts()
    latent = {"samples": torch.zeros(1, 128, 3, 2, 2)}
    for pictures, frame_idx, field in ((torch.rand(9, 64, 64, 3), 8, "frame_idx"),
                                       (torch.rand(1, 64, 64, 3), 17, "frame_idx"),
                                       (torch.rand(17, 64, 64, 3), 8, "frame_idx")):
        with pytest.raises(NodeError) as error:
            AddGuide().run(CTX, positive, negative, vae, latent, pictures, frame_idx, 1.0)
        assert error.value.field == field and "\n" not in str(error.value)
    with pytest.raises(NodeError) as error:
        AddGuide().run(CTX, positive, negative, vae, latent | {"audio_samples": torch.zeros(1, 8, 4, 16)},
                       torch.rand(1, 64, 64, 3), 0, 1.0)
    assert error.value.field == "latent"


def test_the_first_last_frame_template_does_not_promise_comfyuis_attention_to_its_guides():
    from pathlib import Path

    from nodeflow.core import default_registry
    from nodeflow.interop.comfyui import import_source
    from nodeflow.interop.comfyui.source import read_source

    templates = pytest.importorskip("comfyui_workflow_templates_json")
    path = Path(templates.__file__).parent / "templates" / "video_ltx2_3_flf2v.json"
    graph, report = import_source(read_source(path), default_registry(), flatten_subgraphs=True)
    assert report.fully_mapped, report.lines()
    guides = sorted((r.params["frame_idx"], r.params["strength"]) for r in graph.nodes.values()
                    if r.type == "ltx2.add_guide")
    assert guides == [(-1, 0.7), (0, 0.7)]
    assert sum("LTXVAddGuide's strength" in line for line in report.unproven) == 2, report.unproven
