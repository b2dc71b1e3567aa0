"""Single-file checkpoints load offline with the shipped configs and give the folder's pixels."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
from graphs import pixels, run, txt2img
from ldm_format import write_configs, write_single_file

from nodeflow.engine import Executor


@pytest.fixture(scope="module")
def single_file(tiny_sd, tmp_path_factory):
    folder = tmp_path_factory.mktemp("single")
    checkpoint = write_single_file(tiny_sd, folder / "tiny.safetensors")
    configs = write_configs(tiny_sd, folder / "configs" / "sd15")
    return checkpoint, configs


def test_single_file_gives_the_same_pixels_as_the_folder(tiny_sd, single_file, monkeypatch, tmp_path):
    import nodes.models._checkpoint as ck

    checkpoint, configs = single_file
    monkeypatch.setattr(ck, "configs_dir", lambda: configs.parent)
    shutil.copytree(tiny_sd / "tokenizer", checkpoint.parent / "tokenizer", dirs_exist_ok=True)
    graph, ids = txt2img(checkpoint, seed=4, save=False)
    from_file = pixels(run(Executor(device="cpu"), graph, tmp_path), ids["decode"])
    graph, ids = txt2img(tiny_sd, seed=4, save=False)
    from_folder = pixels(run(Executor(device="cpu"), graph, tmp_path), ids["decode"])
    np.testing.assert_array_equal(from_file, from_folder)


def test_a_lone_single_file_gets_the_shipped_clip_vocabulary(tiny_sd, single_file, tmp_path):
    """A ComfyUI user's first SD 1.5 file has no tokenizer beside it: the shipped one is used;
    a tokenizer folder beside the file wins over it."""
    from nodes.models._tokenizers import clip_tokenizer

    checkpoint, configs = single_file
    lonely = tmp_path / "lonely.safetensors"
    shutil.copy(checkpoint, lonely)
    tokenizer = clip_tokenizer(lonely, "sd15", configs=configs.parent)
    assert tokenizer("a photo of a cat").input_ids == [49406, 320, 1125, 539, 320, 2368, 49407]
    assert (tokenizer.pad_token, len(tokenizer)) == ("<|endoftext|>", 49408)
    openclip = clip_tokenizer(lonely, "sdxl", "tokenizer_2")  # the shipped SDXL configs: OpenCLIP pads with "!"
    assert (openclip.pad_token, openclip.pad_token_id) == ("!", 0)
    shutil.copytree(tiny_sd / "tokenizer", tmp_path / "tokenizer")
    assert len(clip_tokenizer(lonely, "sd15", configs=configs.parent)) == len(
        clip_tokenizer(tiny_sd / "text_encoder", "sd15"))


@pytest.mark.parametrize("arch", ["sd15", "sd15-inpainting", "sd21", "sd2-inpainting", "sdxl"])
def test_shipped_configs_are_complete(arch):
    from nodes.models._checkpoint import configs_dir

    folder = configs_dir() / arch
    index = json.loads((folder / "model_index.json").read_text())
    for part, spec in index.items():
        if part.startswith("_") or not isinstance(spec, list) or spec[0] is None:
            continue
        files = {p.name for p in (folder / part).iterdir()}
        assert files & {"config.json", "scheduler_config.json", "tokenizer_config.json"}, (arch, part)


# Parameter counts of the published models, in millions (UNet, VAE, text encoder(s)).
SIZES = {"sd15": (859.5, 83.7, 123.1), "sd21": (865.9, 83.7, 340.4), "sdxl": (2567.5, 83.7, 123.1, 694.7)}


@pytest.mark.parametrize("arch", sorted(SIZES))
def test_shipped_configs_build_the_published_architectures(arch):
    """Instantiated without memory (meta device), each config has the real model's size."""
    from accelerate import init_empty_weights
    from diffusers import AutoencoderKL, UNet2DConditionModel
    from transformers import CLIPTextConfig, CLIPTextModel, CLIPTextModelWithProjection

    from nodes.models._checkpoint import configs_dir

    folder = configs_dir() / arch

    def millions(module):
        return round(sum(p.numel() for p in module.parameters()) / 1e6, 1)

    def config(part):
        return json.loads((folder / part / "config.json").read_text())

    with init_empty_weights():
        sizes = [millions(UNet2DConditionModel.from_config(config("unet"))),
                 millions(AutoencoderKL.from_config(config("vae"))),
                 millions(CLIPTextModel(CLIPTextConfig(**config("text_encoder"))))]
        if arch == "sdxl":
            sizes.append(millions(CLIPTextModelWithProjection(CLIPTextConfig(**config("text_encoder_2")))))
    assert sizes == pytest.approx(list(SIZES[arch]), abs=0.6)
