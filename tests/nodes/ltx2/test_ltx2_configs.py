"""An all-in-one file's parts are sized off their tensors: LTX-2.0- and LTX-2.3-shaped transformers, text
connectors and video VAEs (narrow, real head widths) give back the configs they were built from."""

from __future__ import annotations

import json

import pytest
import torch

from nodeflow.core.paths import RESOURCES
from nodes.ltx2._files import connectors_config, transformer_config, vae_config

CONFIGS = RESOURCES / "configs" / "ltx2"


def _shipped(part: str) -> dict:
    return {k: v for k, v in json.loads((CONFIGS / part / "config.json").read_text("utf-8")).items()
            if not k.startswith("_")}


def _shapes(model) -> dict:
    return {k: tuple(v.shape) for k, v in model.state_dict().items()}


def _same(config: dict, built: dict, keys) -> None:
    for key in keys:
        want = built[key]
        assert (list(config[key]) if isinstance(config[key], (list, tuple)) else config[key]) == \
            (list(want) if isinstance(want, (list, tuple)) else want), key


@pytest.mark.parametrize("version", ["2.0", "2.3"])
def test_the_video_vae_is_sized_off_its_tensors(version):
    from diffusers import AutoencoderKLLTX2Video

    base = _shipped("vae" if version == "2.0" else "vae_2_3")
    sizes = (dict(block_out_channels=(8, 16, 32, 32), decoder_block_out_channels=(8, 16, 32),
                  layers_per_block=(1, 2, 1, 1, 1), decoder_layers_per_block=(1, 1, 2, 1)) if version == "2.0" else
             dict(block_out_channels=(8, 16, 32, 32), decoder_block_out_channels=(8, 16, 16, 32),
                  layers_per_block=(1, 2, 1, 1, 1), decoder_layers_per_block=(1, 1, 2, 1, 1)))
    with torch.device("meta"):
        vae = AutoencoderKLLTX2Video(**(base | sizes | {"latent_channels": 64}))
    config = vae_config(_shapes(vae), {"2.0": _shipped("vae"), "2.3": _shipped("vae_2_3")})
    _same(config, dict(vae.config), ("latent_channels", "block_out_channels", "decoder_block_out_channels",
                                     "layers_per_block", "decoder_layers_per_block", "upsample_type",
                                     "upsample_factor", "upsample_residual", "decoder_spatial_padding_mode"))


@pytest.mark.parametrize("version", ["2.0", "2.3"])
def test_the_transformer_and_connectors_are_sized_off_their_tensors(version):
    from diffusers import LTX2VideoTransformer3DModel
    from diffusers.pipelines.ltx2.connectors import LTX2TextConnectors

    new = version == "2.3"
    flags = dict(gated_attn=new, cross_attn_mod=new, audio_gated_attn=new, audio_cross_attn_mod=new,
                 use_prompt_embeddings=not new)
    with torch.device("meta"):
        transformer = LTX2VideoTransformer3DModel(**(_shipped("transformer") | flags | dict(
            num_attention_heads=2, num_layers=2, audio_num_attention_heads=3, cross_attention_dim=256,
            audio_cross_attention_dim=192, caption_channels=96, in_channels=128, audio_in_channels=16,
            out_channels=128, audio_out_channels=16)))
        connectors_base = _shipped("connectors_2_3" if new else "connectors")
        connectors = LTX2TextConnectors(**(connectors_base | dict(
            caption_channels=connectors_base["caption_channels"] if new else 256, text_proj_in_factor=3,
            video_connector_num_attention_heads=2, video_connector_num_layers=1,
            audio_connector_num_attention_heads=2 if not new else 4, audio_connector_num_layers=2,
            video_connector_num_learnable_registers=8, audio_connector_num_learnable_registers=8,
            video_hidden_dim=256, audio_hidden_dim=256)))
    config = transformer_config(_shapes(transformer), _shipped("transformer"))
    _same(config, dict(transformer.config), ("num_attention_heads", "audio_num_attention_heads", "num_layers",
                                              "cross_attention_dim", "audio_cross_attention_dim", "gated_attn",
                                              "cross_attn_mod", "use_prompt_embeddings", "rope_type"))
    if not new:
        assert config["caption_channels"] == 96
    bases = {"2.0": _shipped("connectors"), "2.3": _shipped("connectors_2_3")}
    config = connectors_config(_shapes(connectors), bases)
    keys = ["caption_channels", "text_proj_in_factor", "per_modality_projections",
            "video_connector_num_attention_heads", "audio_connector_num_attention_heads",
            "video_connector_num_layers", "audio_connector_num_layers", "video_gated_attn", "proj_bias", "rope_type"]
    _same(config, dict(connectors.config), keys + (["video_hidden_dim", "audio_hidden_dim"] if new else []))
