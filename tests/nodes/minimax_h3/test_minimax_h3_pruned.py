"""A pruned MiniMax H3 transformer file (the templates' `*_pruned_*`: `adaln_t_table` in place of the time
embedder, AdaLN projections reading the curve without a SiLU) loads through Load Diffusion Model and runs
in the curve form. Written here at full rank from the tiny unpruned model (the table = the SiLU of its
time embedding at 1025 points of t, the projections unchanged): at times on the table's grid the two
forms give the same velocities to float rounding (the embedding of 1025 times at once sums in another
order: 1e-6 of the largest); between grid points they differ by the interpolation (under 1e-3)."""

from __future__ import annotations

import pytest
import torch
from safetensors.torch import save_file
from test_minimax_h3_parity import PROMPT, as_model, empty_latent
from tiny_minimax_h3 import original_state, parts

from nodes.minimax_h3 import _adapter as ad
from nodes.values import CondEntry

GRID = 1025


@pytest.fixture(scope="module")
def tiny():
    return parts()


def pruned_state(transformer) -> dict:
    state = {k: v for k, v in original_state(transformer.state_dict()).items() if ".time_embedder." not in k}
    t = torch.arange(GRID, dtype=torch.float32) / (GRID - 1)
    with torch.no_grad():
        curve = torch.nn.functional.silu(transformer.time_embedder(transformer.time_proj(t)))
    return state | {"model.diffusion_model.adaln_t_table": curve.contiguous()}


def velocities(transformer, tiny, t_video: float, t_audio: float) -> tuple[torch.Tensor, torch.Tensor]:
    states, tags = ad.prompt_states(tiny["tokenizer"], tiny["text_encoder"], PROMPT, "cpu")
    latent = empty_latent()
    layout = ad.Layout(as_model(transformer), CondEntry(embeds=states, extra=ad.Prompt(tags)),
                       tuple(latent["samples"].shape), latent["audio_samples"].shape[-1])
    generator = torch.Generator().manual_seed(3)
    video = ad.video_rows(torch.randn(latent["samples"].shape, generator=generator), (1, 2, 2))
    audio = ad.audio_rows(torch.randn(latent["audio_samples"].shape, generator=generator))
    return layout(video, audio, t_video, t_audio)


def test_a_pruned_file_runs_in_the_curve_form(tiny, tmp_path):
    from nodes.families import detect
    from nodes.models._quantized_headers import tensor_shapes
    from nodes.models._split_loaders import load_unet

    path = tmp_path / "minimax_h3_fl2va_pruned_bf16.safetensors"
    save_file(pruned_state(tiny["transformer"]), str(path))
    assert detect(tensor_shapes(path)).name == "minimax-h3"
    model = load_unet(path, "cpu", torch.float32)
    assert model.unet.config.time_embed_dim == 16
    on_grid = velocities(model.unet, tiny, 0.25, 0.5), velocities(tiny["transformer"], tiny, 0.25, 0.5)
    for got, want in zip(on_grid[0], on_grid[1], strict=True):
        assert (got - want).abs().max() <= 1e-6 * want.abs().max()
    between = velocities(model.unet, tiny, 0.2501, 0.6), velocities(tiny["transformer"], tiny, 0.2501, 0.6)
    scale = between[1][0].abs().max()
    assert (between[0][0] - between[1][0]).abs().max() < 1e-3 * scale
