"""LTX-2 image-to-video: LTXV Img To Video Inplace gives LTX2ImageToVideoPipeline's video and soundtrack (the
start frame kept clean, its tokens at timestep 0), within rounding (1e-5); LTXV Preprocess is the pipeline's
H.264 re-compression of a start picture."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from ltx2_graphs import ltx2_img2video, pipeline_i2v_run

from nodeflow.core import NodeError, RunContext
from nodeflow.engine import Executor
from nodes.ltx2.image import ImgToVideoInplace, Preprocess


@pytest.fixture(scope="module")
def start_picture(tmp_path_factory):
    from PIL import Image

    y, x = np.mgrid[0:64, 0:64]
    pixels = np.stack([x * 4, y * 4, (x + y) * 2], axis=-1).clip(0, 255).astype("uint8")
    path = tmp_path_factory.mktemp("ltx2_i2v") / "start.png"
    Image.fromarray(pixels).save(path)
    return path


@pytest.mark.parametrize("cfg", [1.0, 3.0])
def test_img2video_matches_ltx2_image_to_video_pipeline(tiny_ltx2, start_picture, tmp_path, cfg):
    folder, audio_file = tiny_ltx2
    negative = "a blue square" if cfg > 1 else ""
    graph, ids = ltx2_img2video(folder, audio_file, start_picture, negative=negative, cfg=cfg, seed=5)
    result = Executor(device="cpu").run(graph, output_dir=tmp_path, targets=[ids["out"], ids["sound"]])
    assert result.ok, result.errors
    frames, sound = result.values[ids["decode"]]["image"], result.values[ids["sound"]]["audio"]
    theirs_frames, theirs_sound = pipeline_i2v_run(folder, start_picture, negative=negative, cfg=cfg, seed=5)
    assert frames.shape == (9, 64, 64, 3) and theirs_frames.std() > 0.02
    torch.testing.assert_close(frames, theirs_frames.float(), atol=1e-5, rtol=0)
    torch.testing.assert_close(sound["waveform"], theirs_sound.float(), atol=1e-6, rtol=0)


def test_preprocess_is_the_pipelines_crf_recompression():
    from diffusers.pipelines.ltx2.utils import apply_image_conditioning_crf

    pixels = torch.rand(2, 32, 48, 3, generator=torch.Generator().manual_seed(0))
    (out,) = Preprocess().run(RunContext(), pixels, 30)
    expected = apply_image_conditioning_crf((pixels[1] * 255).to(torch.uint8).numpy(), 30)
    assert out.shape == pixels.shape
    assert torch.equal((out[1] * 255).round().to(torch.uint8), torch.from_numpy(expected))
    assert Preprocess().run(RunContext(), pixels, 0)[0] is pixels


def test_inplace_bad_inputs_name_their_field():
    latent = {"samples": torch.zeros(1, 128, 4, 4)}
    with pytest.raises(NodeError) as error:
        ImgToVideoInplace().run(RunContext(), object(), torch.zeros(1, 8, 8, 3), latent, 1.0, False)
    assert error.value.field == "vae"
    assert ImgToVideoInplace().run(RunContext(), object(), torch.zeros(1, 8, 8, 3), latent, 1.0, True)[0] is latent
