"""`nodeflow convert`, `validate` and `run` on ComfyUI files (JSON, PNG with tEXt or iTXt, WebP)."""

from __future__ import annotations

import json

from PIL import Image, PngImagePlugin

from nodeflow.cli import main
from tests.interop.comfy_graphs import txt2img_api, ui_workflow


def test_convert_writes_nodeflow_and_prints_the_report(tmp_path, capsys):
    source = tmp_path / "wf.json"
    data = ui_workflow()
    data["nodes"].append({"id": 30, "type": "MysteryNode", "mode": 0, "widgets_values": [1]})
    source.write_text(json.dumps(data), encoding="utf-8")
    assert main(["convert", str(source), str(tmp_path / "out.json")]) == 2  # a placeholder: not complete
    out = capsys.readouterr().out
    assert "8 mapped, 1 kept as placeholders, 1 dropped" in out  # the Reroute maps; the PrimitiveNode is dropped
    assert "placeholder: node 30 (MysteryNode): no NodeFlow node for this ComfyUI class" in out
    saved = json.loads((tmp_path / "out.json").read_text())
    assert saved["format"] == "nodeflow-workflow"
    capsys.readouterr()
    assert main(["convert", "--to", "comfyui-api", str(tmp_path / "out.json"), str(tmp_path / "api.json")]) == 2
    assert "export: node 30 (MysteryNode): its widget values cannot be named" in capsys.readouterr().out
    api = json.loads((tmp_path / "api.json").read_text())
    assert api["30"]["class_type"] == "MysteryNode" and api["3"]["inputs"]["steps"] == 6


def test_validate_accepts_post_bodies_and_itxt_pngs(tmp_path, capsys):
    body = tmp_path / "body.json"
    body.write_text(json.dumps({"prompt": txt2img_api(), "client_id": "x", "number": 3}), encoding="utf-8")
    assert main(["validate", str(body)]) == 0
    assert "POST /prompt body" in capsys.readouterr().err
    info = PngImagePlugin.PngInfo()
    info.add_itxt("workflow", json.dumps(ui_workflow()))
    Image.new("RGB", (8, 8)).save(tmp_path / "itxt.png", pnginfo=info)
    assert main(["validate", str(tmp_path / "itxt.png")]) == 0
    assert "'workflow' chunk" in capsys.readouterr().err


def test_webp_exif_prompt_is_found(tmp_path, capsys):
    image = Image.new("RGB", (8, 8))
    exif = image.getexif()
    exif[0x0110] = "prompt:" + json.dumps(txt2img_api())
    image.save(tmp_path / "anim.webp", exif=exif)
    assert main(["convert", str(tmp_path / "anim.webp"), str(tmp_path / "out.json")]) == 0
    assert "ComfyUI API prompt" in capsys.readouterr().out


def test_validate_names_a_missing_comfyui_model(tmp_path, capsys):
    prompt = txt2img_api()
    prompt["4"]["inputs"]["ckpt_name"] = "sd15/v1-5-pruned-emaonly.safetensors"
    path = tmp_path / "wf.json"
    path.write_text(json.dumps(prompt), encoding="utf-8")
    assert main(["validate", str(path)]) == 2
    err = capsys.readouterr().err
    assert "node 4 input 'checkpoint': checkpoints model 'sd15/v1-5-pruned-emaonly.safetensors' not found" in err
