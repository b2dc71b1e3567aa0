"""Load CLIP Vision and CLIP Vision Encode on a tiny random CLIP tower (2 layers, 28 px): a file in
transformers' names and one in OpenCLIP's load to the same tower, whose states and embeds the node
returns exactly; the pictures are read as ComfyUI's CLIPVisionEncode reads them; bad files and
pictures are one line; ComfyUI's two classes import fully mapped."""

from __future__ import annotations

import pytest
import torch

from nodeflow.core import NodeError, RunContext
from nodes.media import ClipVision
from nodes.vision._clip_vision import MEAN, STD, pixels
from nodes.vision.clip_vision import ClipVisionEncode, LoadClipVision

SIDE = 28


@pytest.fixture(scope="module")
def tower():
    import transformers

    torch.manual_seed(0)
    config = transformers.CLIPVisionConfig(hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                                           num_attention_heads=16, image_size=SIDE, patch_size=14,
                                           projection_dim=24, hidden_act="gelu", layer_norm_eps=1e-5)
    return transformers.CLIPVisionModelWithProjection(config).eval()


def open_clip_names(state: dict) -> dict:
    """A transformers CLIP tower's state in OpenCLIP's `visual.` names (q/k/v fused, projection transposed)."""
    out = {"visual.class_embedding": state["vision_model.embeddings.class_embedding"],
           "visual.conv1.weight": state["vision_model.embeddings.patch_embedding.weight"],
           "visual.positional_embedding": state["vision_model.embeddings.position_embedding.weight"],
           "visual.proj": state["visual_projection.weight"].t().contiguous()}
    for ours, theirs in (("pre_layrnorm", "ln_pre"), ("post_layernorm", "ln_post")):
        for kind in ("weight", "bias"):
            out[f"visual.{theirs}.{kind}"] = state[f"vision_model.{ours}.{kind}"]
    layers = {k.split(".")[3] for k in state if k.startswith("vision_model.encoder.layers.")}
    names = (("layer_norm1", "ln_1"), ("layer_norm2", "ln_2"), ("self_attn.out_proj", "attn.out_proj"),
             ("mlp.fc1", "mlp.c_fc"), ("mlp.fc2", "mlp.c_proj"))
    for i in layers:
        ours, theirs = f"vision_model.encoder.layers.{i}.", f"visual.transformer.resblocks.{i}."
        for kind in ("weight", "bias"):
            out[f"{theirs}attn.in_proj_{kind}"] = torch.cat([state[f"{ours}self_attn.{p}_proj.{kind}"]
                                                             for p in ("q", "k", "v")])
            for a, b in names:
                out[f"{theirs}{b}.{kind}"] = state[f"{ours}{a}.{kind}"]
    return {k: v.contiguous() for k, v in out.items()}


@pytest.fixture(scope="module")
def tower_files(tower, tmp_path_factory):
    from safetensors.torch import save_file

    folder = tmp_path_factory.mktemp("clip_vision")
    state = {k: v.contiguous() for k, v in tower.state_dict().items()}
    save_file(state, folder / "clip_vision_tiny.safetensors")
    save_file(open_clip_names(state), folder / "open_clip_tiny.safetensors")
    return folder


@pytest.mark.parametrize("name", ["clip_vision_tiny.safetensors", "open_clip_tiny.safetensors"])
@pytest.mark.parametrize("crop", ["center", "none"])
def test_the_encoder_gives_the_towers_states_and_embeds(tower, tower_files, name, crop):
    (clip_vision,) = LoadClipVision().run(RunContext(), str(tower_files / name))
    assert isinstance(clip_vision, ClipVision) and clip_vision.image_size == SIDE
    image = torch.rand(2, 40, 50, 3)
    (out,) = ClipVisionEncode().run(RunContext(), clip_vision, image, crop)
    with torch.no_grad():
        theirs = tower(pixel_values=pixels(image, SIDE, MEAN, STD, crop == "center"), output_hidden_states=True)
    assert out.penultimate_hidden_states.shape == (2, 5, 32)
    torch.testing.assert_close(out.penultimate_hidden_states, theirs.hidden_states[-2], rtol=0, atol=0)
    torch.testing.assert_close(out.last_hidden_state, theirs.last_hidden_state, rtol=0, atol=0)
    torch.testing.assert_close(out.image_embeds, theirs.image_embeds, rtol=0, atol=0)


def _levels(values: torch.Tensor) -> torch.Tensor:
    """What normalised pixel values were in [0, 1]."""
    return values * torch.tensor(STD).view(3, 1, 1) + torch.tensor(MEAN).view(3, 1, 1)


def test_pictures_are_read_as_comfyui_reads_them():
    # already the tower's square: only rounded to 8-bit levels and normalised
    square = torch.rand(1, SIDE, SIDE, 3)
    expected = (square.movedim(-1, 1) * 255).round() / 255
    torch.testing.assert_close(_levels(pixels(square, SIDE, MEAN, STD, True)), expected, rtol=0, atol=1e-6)
    # a wide picture, red in its middle third and blue outside: 'center' keeps the middle square
    wide = torch.zeros(1, SIDE, 3 * SIDE, 3)
    wide[..., 2] = 1.0
    wide[:, :, SIDE:2 * SIDE] = torch.tensor([1.0, 0.0, 0.0])
    middle = _levels(pixels(wide, SIDE, MEAN, STD, True))
    torch.testing.assert_close(middle, torch.tensor([1.0, 0, 0]).view(1, 3, 1, 1).expand(1, 3, SIDE, SIDE),
                               rtol=0, atol=1e-6)
    # 'none' squeezes the whole picture in: blue at the sides, red in the middle
    squeezed = _levels(pixels(wide, SIDE, MEAN, STD, False))
    assert squeezed[0, 2, :, 0].min() > 0.99 and squeezed[0, 0, :, SIDE // 2].min() > 0.99
    # a bigger picture is resized so its short side fits, then the middle cropped
    big = torch.rand(1, 3 * SIDE, 4 * SIDE, 4)
    assert pixels(big, SIDE, MEAN, STD, True).shape == (1, 3, SIDE, SIDE)


def test_the_readings_are_near_clip_image_processors():
    """WanImageToVideoPipeline's image_processor (CLIPImageProcessor: PIL bicubic resize of the 8-bit
    picture, centre crop) reads a smooth picture within 2 levels of 255 of ComfyUI's way."""
    import numpy as np
    from PIL import Image
    from transformers import CLIPImageProcessor

    y, x = np.mgrid[0:48, 0:64]
    array = np.stack([x * 4, y * 5, (x + y) * 2], axis=-1).clip(0, 255).astype("uint8")
    processor = CLIPImageProcessor(size={"shortest_edge": SIDE}, crop_size={"height": SIDE, "width": SIDE})
    theirs = processor(images=Image.fromarray(array), return_tensors="pt").pixel_values
    ours = pixels(torch.from_numpy(array)[None].float() / 255, SIDE, MEAN, STD, True)
    assert (_levels(ours) - _levels(theirs)).abs().max() * 255 <= 2.0


def test_files_that_hold_no_clip_tower_are_one_line(tmp_path):
    from safetensors.torch import save_file

    save_file({"encoder.layer.0.layer_scale1.lambda1": torch.zeros(4)}, tmp_path / "dino.safetensors")
    with pytest.raises(NodeError, match="DINOv2") as caught:
        LoadClipVision().run(RunContext(), str(tmp_path / "dino.safetensors"))
    assert caught.value.field == "clip_name"
    with pytest.raises(NodeError, match="not found"):
        LoadClipVision().run(RunContext(), str(tmp_path / "missing.safetensors"))


def test_a_picture_that_is_not_an_image_batch_is_one_line(tower_files):
    (clip_vision,) = LoadClipVision().run(RunContext(), str(tower_files / "clip_vision_tiny.safetensors"))
    with pytest.raises(NodeError, match="IMAGE") as caught:
        ClipVisionEncode().run(RunContext(), clip_vision, torch.rand(8, 8, 3), "center")
    assert caught.value.field == "image"


def test_comfyuis_classes_import_fully_mapped():
    from nodeflow.core import default_registry
    from nodeflow.interop.comfyui import import_data

    nodes = [{"id": 1, "type": "CLIPVisionLoader", "mode": 0, "widgets_values": ["clip_vision_h.safetensors"],
              "inputs": [], "outputs": [{"name": "CLIP_VISION", "type": "CLIP_VISION", "links": [1]}]},
             {"id": 2, "type": "CLIPVisionEncode", "mode": 0, "widgets_values": ["none"],
              "inputs": [{"name": "clip_vision", "type": "CLIP_VISION", "link": 1},
                         {"name": "image", "type": "IMAGE", "link": None}], "outputs": []}]
    data = {"version": 0.4, "last_node_id": 2, "last_link_id": 1, "nodes": nodes,
            "links": [[1, 1, 0, 2, 0, "CLIP_VISION"]]}
    graph, report = import_data(data, default_registry())
    assert report.fully_mapped, report.lines()
    assert graph.nodes["1"].type == "vision.load_clip_vision"
    assert graph.nodes["1"].params == {"clip_name": "clip_vision_h.safetensors"}
    assert graph.nodes["2"].type == "vision.clip_vision_encode" and graph.nodes["2"].params == {"crop": "none"}
