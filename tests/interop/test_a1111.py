"""A1111/Forge/Civitai pictures open as workflows: the parameters text, its carriers, the graph, the report."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from PIL.PngImagePlugin import PngInfo
from safetensors.numpy import save

from nodeflow.cli import main
from nodeflow.core import default_registry
from nodeflow.interop.a1111 import import_parameters, parameters_in, parse
from nodeflow.interop.a1111.reading import EXIF_IFD, USER_COMMENT
from nodeflow.interop.loading import open_workflow
from nodeflow.library import HashIndex, ModelLibrary, configure
from nodeflow.library.hashes import file_hashes
from nodeflow.library.roots import collect

PARAMETERS = """masterpiece, a castle on a hill,
golden hour <lora:detail-tweaker:0.6> (sharp:1.2)
Negative prompt: blurry, lowres
Steps: 10, Sampler: DPM++ 2M, Schedule type: Karras, CFG scale: 6.5, Seed: 1234, Size: 512x768, \
Model hash: {model_hash}, Model: my-checkpoint, Denoising strength: 0.5, Clip skip: 2, Hires upscale: 2, \
Hires steps: 8, Hires upscaler: Latent (nearest-exact), Lora hashes: "detail-tweaker: {lora_hash}", \
ADetailer model: face_yolov8n.pt, Version: v1.10.1"""


@pytest.fixture(autouse=True)
def _no_cli_folders():
    configure()
    yield
    configure()


def test_the_parameters_text_splits_into_prompt_negative_and_settings():
    info = parse(PARAMETERS.format(model_hash="abcdef0123", lora_hash="0123456789ab"))
    assert info.prompt == "masterpiece, a castle on a hill,\ngolden hour <lora:detail-tweaker:0.6> (sharp:1.2)"
    assert info.negative == "blurry, lowres"
    assert info.fields["Sampler"] == "DPM++ 2M" and info.fields["Size"] == "512x768"
    assert info.fields["Lora hashes"] == "detail-tweaker: 0123456789ab"
    assert info.fields["ADetailer model"] == "face_yolov8n.pt"
    civitai = parse('a cat\nSteps: 25, CFG scale: 4, Sampler: Euler a, Seed: 123, workflow: txt2img, extra: {}, '
                    'Size: 832x1216, draft: false, Civitai resources: [{"type":"checkpoint","modelVersionId":1, '
                    '"weight": 1}, {"type":"lora"}], odd piece, Clip skip: 2, Hashes: {"model": "abc, def"}')
    assert civitai.fields["Size"] == "832x1216" and civitai.fields["Clip skip"] == "2"
    assert json.loads(civitai.fields["Civitai resources"])[1] == {"type": "lora"}
    assert json.loads(civitai.fields["Hashes"]) == {"model": "abc, def"} and civitai.fields["extra"] == "{}"
    only_prompt = parse("a photo: of a cat")
    assert (only_prompt.prompt, only_prompt.fields) == ("a photo: of a cat", {})


def _library(tmp_path: Path, indexed: bool = False) -> tuple[ModelLibrary, str, str]:
    """A library with a renamed checkpoint and LoRA; `indexed`: their hashes known (as after a run)."""
    root = tmp_path / "models"
    checkpoint = root / "checkpoints" / "renamed-base.safetensors"
    lora = root / "loras" / "sub" / "detail v2.safetensors"
    for path, seed in ((checkpoint, 1), (lora, 2)):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(save({"w": np.random.default_rng(seed).standard_normal(64).astype(np.float32)}))
    model_digest, _ = file_hashes(checkpoint)
    _, lora_data = file_hashes(lora)
    library = ModelLibrary(collect([root]), HashIndex(tmp_path / "i.sqlite"))
    for path in (checkpoint, lora) if indexed else ():
        library.index.sha256(path)
    return library, model_digest[7:17], lora_data[:12]


def test_the_graph_is_the_one_a1111_runs_with_models_found_by_their_hashes(tmp_path):
    library, model_hash, lora_hash = _library(tmp_path)
    text = PARAMETERS.format(model_hash=model_hash, lora_hash=lora_hash)
    unindexed, _ = import_parameters(text, default_registry(), library)  # opening reads no model file
    assert library.index.hashed == 0
    for record in unindexed.nodes.values():  # validation and runs resolve them by the recorded AutoV2/AutoV3
        for kind, field in (("checkpoints", "checkpoint"), ("loras", "lora")):
            if field in record.params:
                found = library.resolve_recorded(kind, record.params[field], unindexed.manifest)
                assert found.name in ("renamed-base.safetensors", "detail v2.safetensors")
    graph, report = import_parameters(text, default_registry(), library)  # now the index knows them
    by_type: dict[str, list] = {}
    for record in graph.nodes.values():
        by_type.setdefault(record.type, []).append(record)
    assert by_type["models.load_checkpoint"][0].params["checkpoint"] == "renamed-base.safetensors"
    lora = by_type["models.load_lora"][0].params
    assert (lora["lora"], lora["strength_model"], lora["strength_clip"]) == ("sub/detail v2.safetensors", 0.6, 0.6)
    assert by_type["conditioning.clip_set_last_layer"][0].params["stop_at_clip_layer"] == -2
    prompts = sorted(r.params["text"] for r in by_type["conditioning.text_encode"])
    assert prompts == ["blurry, lowres", "masterpiece, a castle on a hill,\ngolden hour (sharp:1.2)"]
    assert by_type["latent.empty"][0].params == {"width": 512, "height": 768, "batch_size": 1}
    first, second = sorted(by_type["sampling.sampler"], key=lambda r: int(r.id))
    keys = ("seed", "steps", "cfg", "sampler_name", "scheduler", "denoise", "convention")
    assert [first.params[k] for k in keys] == [1234, 10, 6.5, "dpmpp_2m", "karras", 1.0, "comfyui"]
    assert (second.params["steps"], second.params["denoise"]) == (4, 0.5)  # A1111 runs int(8 x 0.5) hires steps
    upscale = by_type["latent.upscale"][0]
    assert upscale.params == {"scale_by": 2.0, "method": "nearest-exact"}
    assert graph.links[(second.id, "latent_image")].src == upscale.id
    assert by_type["image.save"] and by_type["vae.decode"]
    lines = report.lines()
    assert "problem: 'ADetailer model: face_yolov8n.pt' has no equivalent in NodeFlow; not used" in lines
    assert not any("Version" in line for line in lines)
    assert graph.manifest["models"]["checkpoints/renamed-base.safetensors"].startswith(f"sha256:{model_hash}")


def test_models_missing_from_the_library_are_reported_with_their_hashes():
    text = PARAMETERS.format(model_hash="abcdef0123", lora_hash="0123456789ab").replace(" Sampler: DPM++ 2M,",
                                                                                        " Sampler: Restart,")
    graph, report = import_parameters(text, default_registry(), None)
    notes = "\n".join(report.notes)  # missing models are not a loss of the conversion: validation names them
    assert "checkpoint 'my-checkpoint' (Model hash abcdef0123) is not in the library yet" in notes
    assert "LoRA 'detail-tweaker' (hash 0123456789ab) is not in the library yet" in notes
    assert "sampler 'Restart' has no equivalent; euler is used" in report.problems
    assert graph.manifest["models"] == {"checkpoints/my-checkpoint.safetensors": "sha256:abcdef0123",
                                        "loras/detail-tweaker.safetensors": "sha256:0123456789ab"}


def test_civitai_hashes_find_the_models_and_bad_numbers_are_reported(tmp_path):
    library, model_hash, lora_hash = _library(tmp_path, indexed=True)
    text = ("a castle <lora:detail-tweaker:1>\nSteps: 10, Sampler: Euler, CFG scale: nan, Seed: 4, "
            f'Hashes: {{"model": "{model_hash}", "lora:detail-tweaker": "{lora_hash}"}}')
    graph, report = import_parameters(text, default_registry(), library)
    names = {r.type: r.params for r in graph.nodes.values()}
    assert names["models.load_checkpoint"]["checkpoint"] == "renamed-base.safetensors"
    assert names["models.load_lora"]["lora"] == "sub/detail v2.safetensors"
    assert names["sampling.sampler"]["cfg"] == 7.0
    assert "'CFG scale: nan' is not a number; 7.0 is used" in report.problems


@pytest.mark.parametrize("sampler, schedule, expected", [
    ("DPM++ 2M Karras", None, ("dpmpp_2m", "karras")), ("DPM++ 2M", "Automatic", ("dpmpp_2m", "normal")),
    ("DPM++ 2M SDE GPU", "Exponential", ("dpmpp_2m_sde", "exponential")),
    ("Euler a", None, ("euler_ancestral", "normal")),
    ("UniPC", "SGM Uniform", ("uni_pc", "sgm_uniform")), ("Restart", "Align Your Steps", (None, None)),
])
def test_a1111_sampler_and_schedule_names(sampler, schedule, expected):
    from nodeflow.interop.a1111.names import sampler_and_schedule

    assert sampler_and_schedule(sampler, schedule) == expected


def test_img2img_asks_for_the_source_picture():
    graph, report = import_parameters("a cat\nSteps: 20, Sampler: Euler a, Seed: 5, Denoising strength: 0.75",
                                      default_registry())
    [load] = [r for r in graph.nodes.values() if r.type == "image.load"]
    assert f"img2img: the source picture is not in the file; choose it in node {load.id} (Load Image)" \
        in report.problems
    [sampler] = [r for r in graph.nodes.values() if r.type == "sampling.sampler"]
    assert (sampler.params["steps"], sampler.params["denoise"], sampler.params["sampler_name"]) == \
        (15, 0.75, "euler_ancestral")


def _png(path: Path, text: str) -> Path:
    info = PngInfo()
    info.add_itxt("parameters", text)
    Image.new("RGB", (8, 8)).save(path, pnginfo=info)
    return path


@pytest.mark.parametrize("fmt, encoding", [("JPEG", "utf-16-be"), ("WEBP", "utf-16-le"), ("JPEG", "ascii")])
def test_jpeg_and_webp_carry_it_in_the_exif_user_comment(tmp_path, fmt, encoding):
    text = "a dog ünïcode\nNegative prompt: cat\nSteps: 3, Sampler: Euler, Seed: 9, Size: 64x64"
    exif = Image.Exif()
    prefix = b"ASCII\0\0\0" if encoding == "ascii" else b"UNICODE\0"
    body = text.encode("utf-8") if encoding == "ascii" else text.encode(encoding)
    exif.get_ifd(EXIF_IFD)[USER_COMMENT] = prefix + body
    path = tmp_path / f"picture.{fmt.lower()}"
    Image.new("RGB", (8, 8)).save(path, format=fmt, exif=exif)
    assert parameters_in(path) == text
    opened = open_workflow(path, default_registry())
    assert opened.comfyui is not None and "imported A1111/Forge parameters (" in opened.messages[0]
    assert sorted(r.params.get("text") for r in opened.graph.nodes.values() if r.type == "conditioning.text_encode") \
        == ["a dog ünïcode", "cat"]


def test_a_picture_without_parameters_is_still_refused(tmp_path):
    from nodeflow.core.errors import WorkflowFormatError

    Image.new("RGB", (8, 8)).save(tmp_path / "plain.png")
    with pytest.raises(WorkflowFormatError, match="carries no workflow"):
        open_workflow(tmp_path / "plain.png", default_registry())


def test_an_a1111_png_runs_and_converts(tmp_path, capsys):
    text = ("a red circle on a blue background <lora:absent:0.5>\nNegative prompt: \n"
            "Steps: 2, Sampler: Euler, CFG scale: 5, Seed: 3, Size: 64x64, Model: tiny-shapes")
    picture = _png(tmp_path / "a1111.png", text.replace(" <lora:absent:0.5>", ""))
    assert main(["convert", str(picture), str(tmp_path / "wf.json")]) == 0
    saved = json.loads((tmp_path / "wf.json").read_text())
    assert saved["nodes"][0]["params"] == {"checkpoint": "tiny-shapes"}
    assert main(["run", str(picture), "--device", "cpu", "--out", str(tmp_path / "out")]) == 0
    [made] = (tmp_path / "out").glob("a1111_*.png")
    written = parse(parameters_in(made))  # what NodeFlow writes for A1111, Forge and Civitai
    assert written.prompt == "a red circle on a blue background"
    assert {k: written.fields[k] for k in ("Steps", "Sampler", "CFG scale", "Seed", "Size", "Model")} == {
        "Steps": "2", "Sampler": "Euler", "CFG scale": "5", "Seed": "3", "Size": "64x64", "Model": "tiny-shapes"}
    assert len(written.fields["Model hash"]) == 10
    with_lora = _png(tmp_path / "lora.png", text)
    assert main(["validate", str(with_lora)]) == 2
    err = capsys.readouterr().err
    assert "LoRA 'absent' (hash not recorded) is not in the library yet" in err
    assert "loras model 'absent.safetensors' not found" in err
