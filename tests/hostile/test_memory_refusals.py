"""Class 6: work that cannot fit is refused at validation with node, estimate and memory available."""

from __future__ import annotations

from hostile_sandbox import names
from PIL import Image


def test_huge_latent_batch_is_refused_with_the_estimate(sandbox):
    wf = sandbox.workflow([{"id": "4", "type": "latent.empty",
                            "params": {"width": 16384, "height": 16384, "batch_size": 64}},
                           {"id": "9", "type": "basic.show"}], [("4", "latent", "9", "value")])
    code, err = sandbox.cli("run", wf)
    assert code == 2 and names(err, "4", "batch_size")
    assert "needs about" in err and "GB" in err and "available on cpu" in err
    assert sandbox.written_outside() == [] and not sandbox.out.exists()


def test_small_png_with_huge_pixels_is_refused_before_decoding(sandbox):
    path = sandbox.root / "work" / "bomb.png"
    Image.new("L", (12000, 12000)).save(path)
    sandbox.inputs.add(path)
    assert path.stat().st_size < 1_000_000
    wf = sandbox.workflow([{"id": "1", "type": "image.load", "params": {"image": "bomb.png"}},
                           {"id": "2", "type": "image.preview"}], [("1", "image", "2", "images")])
    code, err = sandbox.cli("run", wf)
    assert code == 2 and names(err, "1", "image") and "12000x12000" in err and "budget" in err


def test_ten_million_character_prompt_is_refused(sandbox):
    prompt = "a red circle " * 800_000
    wf = sandbox.workflow([{"id": "1", "type": "conditioning.text_encode", "params": {"text": prompt}},
                           {"id": "2", "type": "basic.show"}], [("1", "conditioning", "2", "value")])
    code, err = sandbox.cli("validate", wf)
    assert code == 2 and names(err, "1", "text") and "longer than the 1,000,000 allowed" in err
    assert len(err) < 2000  # the prompt itself is not echoed back
