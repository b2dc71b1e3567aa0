"""FLUX.3 [klein] as ComfyUI users hold it: the transformer in BFL's key names (Load Diffusion Model, which
diffusers' own converter reads back to the same weights) and Qwen3-VL in its published checkpoint names
(Load CLIP, family flux3: ComfyUI's CLIPLoader type), loaded to the pipeline folder's pixels."""

from __future__ import annotations

import pytest
import torch
from flow_graphs import split_files_pixels
from tiny_flux3 import bfl_flux3_state, comfyui_files


@pytest.fixture(scope="module")
def flux3_files(tiny_flux3_8, tmp_path_factory):
    return comfyui_files(tiny_flux3_8, tmp_path_factory.mktemp("flux3_files"))


def test_bfl_names_are_the_ones_diffusers_converts_back():
    from diffusers.loaders.single_file_utils import convert_flux3_transformer_checkpoint_to_diffusers
    from tiny_flux3 import flux3_transformer

    state = flux3_transformer(flow_map=True).state_dict()
    bfl = {k.removeprefix("model.diffusion_model."): v for k, v in bfl_flux3_state(state).items()}
    back = convert_flux3_transformer_checkpoint_to_diffusers(bfl)
    assert set(back) == set(state)
    assert all(torch.equal(back[k], state[k]) for k in state)


def test_lone_files_give_the_folders_pixels(tiny_flux3_8, flux3_files, tmp_path):
    unet, clip = flux3_files
    expected, got = split_files_pixels(tiny_flux3_8, unet, clip, "flux3", tmp_path, size=64, steps=2, seed=3)
    assert expected.std() > 5
    assert (got == expected).all()
