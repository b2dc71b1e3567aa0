"""Class 7: what NodeFlow writes, it reads back: a PNG carrying a workflow far over Pillow's 1 MiB
text-chunk limit opens and runs again."""

from __future__ import annotations

from PIL import Image


def test_png_with_a_large_embedded_workflow_runs_again(sandbox):
    picture = sandbox.root / "work" / "in.png"
    Image.new("RGB", (8, 8), "blue").save(picture)
    sandbox.inputs.add(picture)
    notes = [{"id": str(10 + i), "type": "basic.text", "params": {"text": f"note {i} " + "x" * 99_000}}
             for i in range(30)]  # about 3 MB of workflow, none of it needed to make the picture
    wf = sandbox.workflow([{"id": "1", "type": "image.load", "params": {"image": "in.png"}},
                           {"id": "2", "type": "image.save", "params": {"filename_prefix": "big"}}, *notes],
                          [("1", "image", "2", "images")])
    assert sandbox.cli("run", wf)[0] == 0
    (saved,) = sandbox.out.rglob("big_*.png")
    with Image.open(saved) as image:
        assert image.size == (8, 8)
    # The PNG lies in out/, its picture beside the workflow: the user allows that folder.
    code, err = sandbox.cli("validate", saved, "--allow-read", picture.parent)
    assert code == 0, err
    sandbox.inputs.add(saved)
    code, err = sandbox.cli("run", saved, "--allow-read", picture.parent)
    assert code == 0, err
    assert len(list(sandbox.out.rglob("big_*.png"))) == 2
    assert sandbox.written_outside() == []
