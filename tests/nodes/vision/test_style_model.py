"""Flux Redux's pieces on tiny random weights: a SigLIP tower file (no class token, no first norm) loads
into SiglipVisionModel and CLIP Vision Encode returns its states exactly (pixels in -1..1); Load Style
Model loads a Redux file into ReduxImageEncoder; Apply Style Model puts ReduxImageEncoder's tokens of the
tower's last states after each prompt's own, times strength, exactly; mismatches are one line; ComfyUI's
flux_redux_model_example imports fully mapped."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from nodeflow.core import NodeError, RunContext
from nodes.vision._clip_vision import SIGLIP_MEAN, SIGLIP_STD, pixels
from nodes.vision.clip_vision import ClipVisionEncode, LoadClipVision
from nodes.vision.style_model import ApplyStyleModel, LoadStyleModel

SIDE = 28


@pytest.fixture(scope="module")
def parts(tmp_path_factory):
    import transformers
    from diffusers.pipelines.flux.modeling_flux import ReduxImageEncoder
    from safetensors.torch import save_file

    torch.manual_seed(0)
    tower = transformers.SiglipVisionModel(transformers.SiglipVisionConfig(
        hidden_size=32, intermediate_size=48, num_hidden_layers=2, num_attention_heads=16, image_size=SIDE,
        patch_size=14, hidden_act="gelu_pytorch_tanh", layer_norm_eps=1e-6)).eval()
    redux = ReduxImageEncoder(redux_dim=32, txt_in_features=24).eval()
    folder = tmp_path_factory.mktemp("redux")
    state = {k if k.startswith("vision_model.") else f"vision_model.{k}": v.contiguous()
             for k, v in tower.state_dict().items()}
    save_file(state, folder / "sigclip_tiny.safetensors")
    save_file({k: v.contiguous() for k, v in redux.state_dict().items()}, folder / "redux_tiny.safetensors")
    return tower, redux, folder


def _seen(folder: Path, image: torch.Tensor):
    (tower,) = LoadClipVision().run(RunContext(), str(folder / "sigclip_tiny.safetensors"))
    assert type(tower.model).__name__ == "SiglipVisionModel" and tower.mean == SIGLIP_MEAN
    return ClipVisionEncode().run(RunContext(), tower, image, "center")[0]


def test_a_siglip_tower_gives_its_states(parts):
    tower, _, folder = parts
    image = torch.rand(2, 40, 50, 3)
    out = _seen(folder, image)
    with torch.no_grad():
        theirs = tower(pixel_values=pixels(image, SIDE, SIGLIP_MEAN, SIGLIP_STD, True), output_hidden_states=True)
    assert out.last_hidden_state.shape == (2, 4, 32)
    torch.testing.assert_close(out.last_hidden_state, theirs.last_hidden_state, rtol=0, atol=0)
    torch.testing.assert_close(out.penultimate_hidden_states, theirs.hidden_states[-2], rtol=0, atol=0)
    assert out.image_embeds is None


@pytest.mark.parametrize("strength", [1.0, 0.5])
def test_redux_tokens_follow_each_prompt(parts, strength):
    from nodes.values import CondEntry, Conditioning

    tower, redux, folder = parts
    image = torch.rand(2, 40, 50, 3)
    seen = _seen(folder, image)
    (style,) = LoadStyleModel().run(RunContext(), str(folder / "redux_tiny.safetensors"))
    prompts = Conditioning([CondEntry(embeds=torch.randn(1, 7, 24), pooled=torch.randn(1, 8)),
                            CondEntry(embeds=torch.randn(1, 3, 24))])
    (out,) = ApplyStyleModel().run(RunContext(), prompts, style, seen, strength, "multiply")
    with torch.no_grad():
        tokens = redux(seen.last_hidden_state).image_embeds.flatten(0, 1)[None] * strength
    assert [e.embeds.shape[1] for e in out.entries] == [7 + 8, 3 + 8]  # two pictures of 4 tokens
    for before, after in zip(prompts.entries, out.entries):
        torch.testing.assert_close(after.embeds, torch.cat([before.embeds, tokens], dim=1), rtol=0, atol=0)
    assert out.entries[0].pooled is prompts.entries[0].pooled


def test_mismatches_are_one_line(parts, tmp_path):
    from safetensors.torch import save_file

    from nodes.values import CondEntry, Conditioning

    _, _, folder = parts
    seen = _seen(folder, torch.rand(1, 28, 28, 3))
    (style,) = LoadStyleModel().run(RunContext(), str(folder / "redux_tiny.safetensors"))
    prompts = Conditioning([CondEntry(embeds=torch.randn(1, 7, 24))])
    with pytest.raises(NodeError, match="attn_bias") as caught:
        ApplyStyleModel().run(RunContext(), prompts, style, seen, 0.5, "attn_bias")
    assert caught.value.field == "strength_type"
    with pytest.raises(NodeError, match="77"):
        ApplyStyleModel().run(RunContext(), Conditioning([CondEntry(embeds=torch.randn(1, 7, 77))]), style, seen,
                              1.0, "multiply")
    save_file({"x.weight": torch.zeros(2, 2)}, tmp_path / "other.safetensors")
    with pytest.raises(NodeError, match="not a Flux Redux"):
        LoadStyleModel().run(RunContext(), str(tmp_path / "other.safetensors"))


def test_the_redux_template_imports_fully_mapped():
    templates = pytest.importorskip("comfyui_workflow_templates_json")
    from nodeflow.core import default_registry
    from nodeflow.interop.comfyui import import_source
    from nodeflow.interop.comfyui.source import read_source

    path = Path(templates.__file__).parent / "templates" / "flux_redux_model_example.json"
    graph, report = import_source(read_source(path), default_registry(), flatten_subgraphs=True)
    assert report.fully_mapped, report.lines()
    applied = [r for r in graph.nodes.values() if r.type == "vision.apply_style_model"]
    assert len(applied) == 2 and all(r.params == {"strength": 1.0, "strength_type": "multiply"} for r in applied)
