"""Upscale models through spandrel: tiny random ESRGAN / compact models built here, safetensors and .pth."""

from __future__ import annotations

import pytest
import torch

from nodeflow.core import NodeError, RunContext
from nodeflow.core.errors import Cancelled


def _spandrel():
    """spandrel, or a skip naming why it cannot be imported (its torchvision must match torch)."""
    try:
        import spandrel
    except Exception as exc:  # e.g. a CUDA torchvision next to a CPU-only torch: RuntimeError
        pytest.skip(f"spandrel cannot be imported here: {type(exc).__name__}: {exc}")
    return spandrel


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    _spandrel()
    from safetensors.torch import save_file
    from spandrel.architectures.Compact import Compact
    from spandrel.architectures.ESRGAN import ESRGAN

    folder = tmp_path_factory.mktemp("upscale")
    torch.manual_seed(0)
    compact = Compact(num_feat=8, num_conv=2, upscale=2).eval()
    esrgan = ESRGAN(num_filters=8, num_blocks=1, scale=2).eval()
    save_file({k: v.contiguous() for k, v in compact.state_dict().items()}, str(folder / "compact.safetensors"))
    torch.save({"params_ema": esrgan.state_dict()}, folder / "esrgan.pth")  # BasicSR's layout, plain weights
    return folder, compact, esrgan


def _load(folder, name):
    from nodes.image.upscale import LoadUpscaleModel

    return LoadUpscaleModel().run(RunContext(search_dirs=(folder,)), name)[0]


def _image(h=20, w=24):
    return torch.rand(2, h, w, 3, generator=torch.Generator().manual_seed(1))


def test_safetensors_and_weights_only_pth_give_the_models_own_output(models):
    from nodes.image.upscale import ImageUpscaleWithModel

    folder, compact, esrgan = models
    image = _image()
    for name, net in (("compact.safetensors", compact), ("esrgan.pth", esrgan)):
        (out,) = ImageUpscaleWithModel().run(RunContext(), _load(folder, name), image, 0, 0)
        with torch.no_grad():
            expected = net(image.permute(0, 3, 1, 2)).clamp(0, 1).permute(0, 2, 3, 1)
        assert out.shape == (2, 40, 48, 3)
        torch.testing.assert_close(out, expected, rtol=0, atol=1e-6)


def test_tiles_blend_to_the_whole_picture_with_progress(models):
    from nodes.image.upscale import ImageUpscaleWithModel

    folder, _, _ = models
    model = _load(folder, "compact.safetensors")
    image = _image(40, 52)
    (whole,) = ImageUpscaleWithModel().run(RunContext(), model, image, 0, 0)
    steps = []
    ctx = RunContext(on_progress=lambda node, step, total, preview: steps.append((step, total)))
    (tiled,) = ImageUpscaleWithModel().run(ctx, model, image, 24, 8)
    assert steps == [(i, 6) for i in range(1, 7)]  # 2 rows x 3 columns of tiles
    # The compact model sees 4 pixels around each one: with 8 pixels of overlap the blend hides the seams.
    assert (tiled - whole).abs().max() < 0.02
    torch.testing.assert_close(tiled[:, :20, :20], whole[:, :20, :20], rtol=0, atol=1e-5)  # inside tile 1


def test_cancel_stops_between_tiles_and_bad_files_are_refused(models, tmp_path):
    from nodes.image.upscale import ImageUpscaleWithModel

    folder, _, _ = models
    ctx = RunContext()
    ctx.on_progress = lambda *args: ctx.cancel_token.cancel()
    with pytest.raises(Cancelled):
        ImageUpscaleWithModel().run(ctx, _load(folder, "compact.safetensors"), _image(40, 52), 24, 8)
    (tmp_path / "junk.safetensors").write_bytes(b"not a model")
    with pytest.raises(NodeError, match="not a readable"):
        _load(tmp_path, "junk.safetensors")
    from safetensors.torch import save_file

    save_file({"weight": torch.zeros(3)}, str(tmp_path / "other.safetensors"))
    with pytest.raises(NodeError, match="does not recognise"):
        _load(tmp_path, "other.safetensors")
    with pytest.raises(NodeError, match="overlap"):
        ImageUpscaleWithModel().run(RunContext(), None, _image(), 32, 16)


def test_without_spandrel_the_loader_says_what_to_install(tmp_path, monkeypatch):
    import sys

    from nodes.image.upscale import LoadUpscaleModel

    (tmp_path / "x.safetensors").write_bytes(b"")
    monkeypatch.setitem(sys.modules, "spandrel", None)  # import spandrel -> ImportError
    with pytest.raises(NodeError, match=r"\.\[upscale\]"):
        LoadUpscaleModel().run(RunContext(search_dirs=(tmp_path,)), "x.safetensors")
