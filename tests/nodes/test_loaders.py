"""VAE, UNet and CLIP loaders for split-file models: folders and single files give the checkpoint's numbers."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import torch
from ldm_format import _convert_unet, _convert_vae, write_configs
from safetensors.torch import load_file, save_file

from nodeflow.core import NodeError, RunContext


@pytest.fixture(scope="module")
def parts(tiny_sd, tmp_path_factory):
    """The tiny model's parts as single files (original key names, no prefixes) and shipped-style configs."""
    folder = tmp_path_factory.mktemp("parts")

    def weights(part):
        (file,) = sorted((tiny_sd / part).glob("*.safetensors"))
        return load_file(str(file))

    def config(part):
        return json.loads((tiny_sd / part / "config.json").read_text())

    vae = {k.removeprefix("first_stage_model."): v for k, v in _convert_vae(weights("vae"), config("vae")).items()}
    unet = {k.removeprefix("model.diffusion_model."): v
            for k, v in _convert_unet(weights("unet"), config("unet")).items()}
    save_file({k: v.contiguous() for k, v in vae.items()}, str(folder / "vae.safetensors"))
    save_file({k: v.contiguous() for k, v in unet.items()}, str(folder / "unet.safetensors"))
    save_file(weights("text_encoder"), str(folder / "clip_l.safetensors"))
    shutil.copytree(tiny_sd / "tokenizer", folder / "tokenizer")
    configs = write_configs(tiny_sd, folder / "configs" / "sd15")
    return folder, configs


@pytest.fixture(scope="module")
def bundle(tiny_sd):
    from nodes.models._checkpoint import load_checkpoint

    return load_checkpoint(tiny_sd, "cpu", torch.float32)


def _ctx(tmp_path):
    return RunContext(search_dirs=(tmp_path,))


def test_vae_loader_folder_and_single_file_decode_like_the_checkpoint(tiny_sd, parts, bundle, monkeypatch):
    import nodes.models._checkpoint as ck
    from nodes.models.loaders import LoadVAE

    folder, configs = parts
    monkeypatch.setattr(ck, "configs_dir", lambda: configs.parent)
    latents = torch.randn(1, 4, 8, 8, generator=torch.Generator().manual_seed(0))
    expected = bundle[2].vae.decode(latents).sample
    for name in (str(tiny_sd / "vae"), str(folder / "vae.safetensors")):
        (vae,) = LoadVAE().run(_ctx(folder), name, "sd")
        torch.testing.assert_close(vae.vae.decode(latents).sample, expected, rtol=0, atol=0)
        assert vae.scaling_factor == bundle[2].scaling_factor


def test_unet_loader_single_file_predicts_like_the_checkpoint(tiny_sd, parts, bundle, monkeypatch):
    import nodes.models._checkpoint as ck
    from nodes.models.loaders import LoadUNet

    folder, configs = parts
    monkeypatch.setattr(ck, "configs_dir", lambda: configs.parent)
    x = torch.randn(1, 4, 8, 8, generator=torch.Generator().manual_seed(1))
    context = torch.randn(1, 5, 32, generator=torch.Generator().manual_seed(2))
    expected = bundle[0].unet(x, 500, encoder_hidden_states=context).sample
    for name in (str(tiny_sd / "unet"), str(folder / "unet.safetensors")):
        (model,) = LoadUNet().run(_ctx(folder), name)
        torch.testing.assert_close(model.unet(x, 500, encoder_hidden_states=context).sample, expected,
                                   rtol=0, atol=0)
        assert (model.vae_scale_factor, model.latent_channels, model.family) == (2, 4, "sd")
        assert model.scheduler_config["prediction_type"] == bundle[0].scheduler_config["prediction_type"]


def test_clip_loader_single_file_encodes_like_the_checkpoint(tiny_sd, parts, bundle, monkeypatch):
    import nodes.models._checkpoint as ck
    from nodes.conditioning._prompt_encode import encode_prompt
    from nodes.models.loaders import LoadCLIP

    folder, configs = parts
    monkeypatch.setattr(ck, "configs_dir", lambda: configs.parent)
    expected = encode_prompt(RunContext(), bundle[1], "red ball").embeds
    for name in (str(tiny_sd / "text_encoder"), str(folder / "clip_l.safetensors")):
        (clip,) = LoadCLIP().run(_ctx(folder), name, "sd", "")
        torch.testing.assert_close(encode_prompt(RunContext(), clip, "red ball").embeds, expected, rtol=0, atol=0)
    with pytest.raises(NodeError, match="not a sd15 text_encoder"):
        LoadCLIP().run(_ctx(folder), str(folder / "vae.safetensors"), "sd", "")
    with pytest.raises(NodeError, match="not found"):
        LoadCLIP().run(_ctx(folder), "nowhere.safetensors", "sd", "")


_LDM_CROSS = "input_blocks.1.1.transformer_blocks.0.attn2.to_k.weight"
_DIFFUSERS_CROSS = "down_blocks.0.attentions.0.transformer_blocks.0.attn2.to_k.weight"


@pytest.mark.parametrize(("shapes", "config"), [
    ({"model.diffusion_model.label_emb.0.0.weight": (1280, 2816)}, "sdxl"),
    ({"label_emb.0.0.weight": (1280, 2816)}, "sdxl"),  # a lone SDXL UNet: diffusers' own guess says SD 1.x
    ({"add_embedding.linear_1.weight": (1280, 2816), "conv_in.weight": (320, 4, 3, 3)}, "sdxl"),
    ({"control_model.label_emb.0.0.weight": (1280, 2816), "control_model.input_hint_block.0.weight": (16, 3, 3, 3)},
     "sdxl"),  # an SDXL ControlNet
    ({_LDM_CROSS: (320, 1024)}, "sd21"),  # SD 2.x reads OpenCLIP-H's 1024-wide states
    ({_DIFFUSERS_CROSS: (320, 1024), "conv_in.weight": (320, 9, 3, 3)}, "sd2-inpainting"),
    ({"model.diffusion_model." + _LDM_CROSS: (320, 768),
      "model.diffusion_model.input_blocks.0.0.weight": (320, 9, 3, 3)}, "sd15-inpainting"),
    ({_DIFFUSERS_CROSS: (32, 32)}, "sd15"),  # what shows none of the above is SD 1.x, as diffusers takes it
])
def test_the_shipped_config_comes_from_the_unets_own_tensors(shapes, config):
    """One rule (core.family_detection.sd_architecture) for checkpoints, lone UNets and ControlNets,
    in the original and diffusers' naming; the library files them by the same rule."""
    from nodeflow.library.detect import Identity, identify_header
    from nodeflow.library.header import Header
    from nodeflow.library.sniff import SAFETENSORS
    from nodes.models._sd_configs import sd_config

    assert sd_config({key: torch.empty(shape, device="meta") for key, shape in shapes.items()}) == config
    family = {"sd15": "sd1", "sd15-inpainting": "sd1", "sd21": "sd2", "sd2-inpainting": "sd2", "sdxl": "sdxl"}[config]
    kind = "controlnet" if any(k.startswith("control_model.") for k in shapes) else "unet"
    assert identify_header(Header(SAFETENSORS, shapes)) == Identity(family, kind)


def test_an_sdxl_inpainting_unet_is_refused_in_one_line():
    from nodes.models._sd_configs import sd_config

    with pytest.raises(NodeError, match="unsupported single-file checkpoint architecture 'sdxl inpainting'"):
        sd_config({"label_emb.0.0.weight": torch.zeros(1, 2), "input_blocks.0.0.weight": torch.zeros(1, 9)})


def test_part_loaders_declare_what_the_checkpoint_holds_for_the_memory_plan(tiny_sd, parts):
    """The memory plan sizes split parts like the checkpoint's components: same weight counts,
    folder or single file; the second text encoder only for SDXL, as the run loads it."""
    from nodes.models._weights import component_counts
    from nodes.models.loaders import LoadCLIP, LoadUNet, LoadVAE

    folder, _ = parts
    counts = component_counts(tiny_sd)
    for name in (str(tiny_sd / "vae"), str(folder / "vae.safetensors")):
        (vae,) = LoadVAE.weights({"vae": name, "family": "sd"}, lambda n: Path(n))
        assert (vae.component, vae.output, vae.count) == ("vae", "vae", counts["vae"])
    (unet,) = LoadUNet.weights({"unet": str(folder / "unet.safetensors")}, lambda n: Path(n))
    assert (unet.component, unet.output, unet.count) == ("unet", "model", counts["unet"])
    clip = str(folder / "clip_l.safetensors")
    sd = LoadCLIP.weights({"clip_name": clip, "family": "sd", "clip_name_2": clip}, lambda n: Path(n))
    xl = LoadCLIP.weights({"clip_name": clip, "family": "sdxl", "clip_name_2": clip}, lambda n: Path(n))
    assert [w.component for w in sd] == ["text_encoder"] and sd[0].count == counts["text_encoder"]
    assert [w.component for w in xl] == ["text_encoder", "text_encoder_2"]
    assert LoadVAE.weights({"vae": "", "family": "sd"}, lambda n: Path(n)) == []


def test_a_vae_that_runs_in_float32_is_planned_at_four_bytes_a_weight_on_cuda(tiny_sd):
    """The precision rule (nodes.models._precision) reaches the plan through the declaration."""
    from nodeflow.engine.memory_plan import _component_bytes
    from nodes.models.loaders import LoadVAE

    def declared(family):
        return {"1": [(None, w) for w in LoadVAE.weights({"vae": str(tiny_sd / "vae"), "family": family}, Path)]}

    sd, xl = declared("sd"), declared("sdxl")
    assert [w.full_precision for _, w in sd["1"]] == [False] and [w.full_precision for _, w in xl["1"]] == [True]
    assert _component_bytes(xl, ("1", "vae"), 2) == 2 * _component_bytes(sd, ("1", "vae"), 2)
    assert _component_bytes(xl, ("1", "vae"), 4) == _component_bytes(sd, ("1", "vae"), 4)  # CPU: fp32 anyway
