"""LTX-2's latent upscaler: a ComfyUI-style file loads with its sizes read off the tensors, and LTXV Latent
Upsampler followed by VAE Decode gives LTX2LatentUpsamplePipeline's frames for the same normalised latents
(within 1e-5: the normalisation is undone and redone around the upscaler)."""

from __future__ import annotations

import pytest
import torch

from nodeflow.core import NodeError, RunContext
from nodes.ltx2.upsampler import LatentUpsampler, LoadLatentUpscaleModel, upsampler_config
from nodes.vae.codec import decode
from nodes.values import Vae

CTX = RunContext()


@pytest.fixture(scope="module")
def upsampler_file(tmp_path_factory, torch_threads):
    from tiny_ltx2 import write_upsampler_file

    return write_upsampler_file(tmp_path_factory.mktemp("ltx2_up") / "ltx-2-spatial-upscaler-x2-tiny.safetensors")


def test_upsampled_latents_decode_as_the_pipeline_does(upsampler_file):
    from diffusers.pipelines.ltx2.pipeline_ltx2_latent_upsample import LTX2LatentUpsamplePipeline
    from tiny_ltx2 import video_vae

    path, reference = upsampler_file
    (loaded,) = LoadLatentUpscaleModel().run(CTX, str(path))
    assert (loaded.config.mid_channels, loaded.config.num_blocks_per_stage) == (32, 1)
    vae = video_vae(seed=2)
    latents = torch.randn(1, 128, 2, 2, 2, generator=torch.Generator().manual_seed(4))
    mask = torch.ones(1, 1, 2, 1, 1)
    (bigger,) = LatentUpsampler().run(CTX, {"samples": latents, "noise_mask": mask, "audio_samples": torch.ones(1)},
                                      loaded, Vae(vae, "cpu", torch.float32))
    assert bigger["samples"].shape == (1, 128, 2, 4, 4) and "noise_mask" not in bigger
    assert torch.equal(bigger["audio_samples"], torch.ones(1))  # a soundtrack passes
    ours = decode(Vae(vae, "cpu", torch.float32), bigger)
    pipe = LTX2LatentUpsamplePipeline(vae=vae, latent_upsampler=reference)
    pipe.set_progress_bar_config(disable=True)
    theirs = pipe(latents=latents, latents_normalized=True, output_type="pt").frames  # [B, F, 3, H, W]
    theirs = theirs.permute(0, 1, 3, 4, 2).reshape(-1, *theirs.shape[-2:], 3)
    assert ours.shape == theirs.shape == (9, 128, 128, 3) and theirs.std() > 0.01
    torch.testing.assert_close(ours, theirs.float(), atol=1e-5, rtol=0)


def test_sizes_and_kinds_come_off_the_tensors():
    shapes = {"initial_conv.weight": (64, 128, 3, 3, 3), "final_conv.weight": (128, 64, 3, 3, 3),
              "res_blocks.0.conv1.weight": (64, 64, 3, 3, 3), "res_blocks.1.conv1.weight": (64, 64, 3, 3, 3),
              "upsampler.conv.weight": (9 * 64, 64, 3, 3)}
    config = upsampler_config(shapes, {})
    assert config == {"in_channels": 128, "mid_channels": 64, "dims": 3, "num_blocks_per_stage": 2,
                      "spatial_upsample": True, "temporal_upsample": False, "use_rational_resampler": True,
                      "rational_spatial_scale": 1.5}
    temporal = dict(shapes, **{"upsampler.0.weight": (2 * 64, 64, 3, 3, 3)})
    del temporal["upsampler.conv.weight"]
    assert upsampler_config(temporal, {})["temporal_upsample"] is True
    with pytest.raises(NodeError) as error:
        upsampler_config({"x.weight": (1,)}, {})
    assert error.value.field == "model_name"


def test_bad_inputs_name_their_field(upsampler_file):
    path, _ = upsampler_file
    (loaded,) = LoadLatentUpscaleModel().run(CTX, str(path))
    with pytest.raises(NodeError) as error:
        LatentUpsampler().run(CTX, {"samples": torch.zeros(1, 128, 4, 4)}, loaded, Vae(None, "cpu", None))
    assert error.value.field == "samples"
    with pytest.raises(NodeError) as error:
        LatentUpsampler().run(CTX, {"samples": torch.zeros(1, 128, 1, 4, 4)}, loaded, object())
    assert error.value.field == "vae"
