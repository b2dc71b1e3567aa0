"""Single-file checkpoints load offline with the shipped configs and give the folder's pixels."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
from graphs import pixels, run, txt2img
from ldm_format import write_configs, write_single_file

from nodeflow.core import NodeError, RunContext
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


def test_missing_tokenizer_says_where_to_put_it(single_file, monkeypatch, tmp_path):
    import nodes.models._checkpoint as ck
    from nodes.models.checkpoint import LoadCheckpoint

    checkpoint, configs = single_file
    lonely = tmp_path / "lonely.safetensors"
    shutil.copy(checkpoint, lonely)
    monkeypatch.setattr(ck, "configs_dir", lambda: configs.parent)
    monkeypatch.setattr(ck, "TOKENIZER_REPOS", {})
    with pytest.raises(NodeError, match="vocab.json") as info:
        LoadCheckpoint().run(RunContext(), checkpoint=str(lonely))
    assert str(configs / "tokenizer") in str(info.value)


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
