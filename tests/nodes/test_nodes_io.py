"""Files in and out: checkpoints, LoRAs, images, PNG workflows, masks, and their errors."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from graphs import pixels, run, txt2img
from PIL import Image

from nodeflow.core import NodeError, RunContext, ValidationError, default_registry, workflow
from nodeflow.core.files import PNG_PARAMETERS_KEY, PNG_WORKFLOW_KEY, read_png_workflow
from nodeflow.engine import Executor


@pytest.fixture(scope="module")
def executor():
    return Executor(device="cpu")


def test_saved_png_carries_the_workflow_that_made_it(tiny_sd, executor, tmp_path):
    graph, ids = txt2img(tiny_sd, prompt="a blue circle", seed=12)
    result = run(executor, graph, tmp_path)
    (png,) = tmp_path.glob("*.png")
    assert png.name == "nodeflow_00001.png"
    text = read_png_workflow(png)
    loaded, _ = workflow.loads(text, default_registry())
    assert workflow.dumps(loaded) == text  # canonical: byte-identical after a round trip
    without_manifest = workflow.to_data(loaded)
    without_manifest.pop("manifest")
    assert without_manifest == workflow.to_data(graph)
    assert loaded.manifest["models"]  # the model used is recorded with its hash
    with Image.open(png) as image:
        assert image.text[PNG_WORKFLOW_KEY] == text
        assert "a blue circle" in image.text[PNG_PARAMETERS_KEY]
        assert "Steps: 4, Sampler: Euler, Schedule type: Normal, CFG scale: 7, Seed: 12, Size: 32x32" \
            in image.text[PNG_PARAMETERS_KEY]  # A1111's format, which Forge and Civitai read
        np.testing.assert_array_equal(np.array(image)[None], pixels(result, ids["decode"]))
    # the PNG's graph runs again to the same pixels
    again = run(Executor(device="cpu"), loaded, tmp_path / "again")
    np.testing.assert_array_equal(pixels(again, ids["decode"]), pixels(result, ids["decode"]))


def test_save_never_overwrites(tiny_sd, tmp_path):
    from nodes.image.load_save import SaveImage

    ctx = RunContext(output_dir=tmp_path)
    image = torch.rand(2, 8, 8, 3)
    SaveImage().run(ctx, images=image, filename_prefix="shot")
    (tmp_path / "shot_00004.png").write_bytes(b"not ours")
    SaveImage().run(ctx, images=image[:1], filename_prefix="shot")
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == ["shot_00001.png", "shot_00002.png", "shot_00004.png", "shot_00005.png"]
    assert (tmp_path / "shot_00004.png").read_bytes() == b"not ours"


def test_missing_checkpoint_and_bad_sizes_are_clear_errors(tiny_sd, executor, tmp_path):
    from nodes.models.checkpoint import LoadCheckpoint

    with pytest.raises(NodeError, match="checkpoint not found"):
        LoadCheckpoint().run(RunContext(search_dirs=(tmp_path,)), checkpoint="nowhere")
    with pytest.raises(NodeError, match="not a diffusers model"):
        LoadCheckpoint().run(RunContext(), checkpoint=str(tmp_path))
    graph, ids = txt2img(tmp_path / "nowhere")
    with pytest.raises(ValidationError, match="nowhere"):
        executor.run(graph, output_dir=tmp_path)
    # sizes off the VAE's grid run, rounded down (Empty Latent warns); no VAE connected is fine too
    graph, ids = txt2img(tiny_sd, width=33)
    result = executor.run(graph, output_dir=tmp_path)
    assert result.ok and pixels(result, ids["decode"]).shape[2] == 32
    graph, ids = txt2img(tiny_sd)
    connected = pixels(executor.run(graph, output_dir=tmp_path), ids["decode"])
    graph.disconnect(ids["latent"], "vae")  # the sampler rebuilds the latent for its model
    np.testing.assert_array_equal(pixels(executor.run(graph, output_dir=tmp_path), ids["decode"]), connected)


def test_pickle_checkpoints_are_refused_unless_weights_only(tmp_path):
    import pickle

    from nodes.models._checkpoint import read_state_dict

    class Payload:
        def __reduce__(self):
            return (print, ("this would run",))

    evil = tmp_path / "evil.ckpt"
    evil.write_bytes(pickle.dumps({"state_dict": Payload()}))
    with pytest.raises(NodeError, match="code to run"):
        read_state_dict(evil)
    noise = tmp_path / "noise.ckpt"
    noise.write_bytes(bytes(range(256)) * 4)
    with pytest.raises(NodeError, match="not a checkpoint") as refused:
        read_state_dict(noise)
    assert "code" not in str(refused.value)
    fine = tmp_path / "fine.ckpt"
    torch.save({"state_dict": {"w": torch.ones(2)}}, fine)
    assert torch.equal(read_state_dict(fine)["w"], torch.ones(2))


def test_nine_channel_model_needs_vae_encode_for_inpaint(tiny_inpaint, executor, tmp_path):
    graph, ids = txt2img(tiny_inpaint)
    result = executor.run(graph, output_dir=tmp_path)
    assert "VAE Encode for Inpaint" in result.errors[ids["sampler"]]


def _lora_file(tmp_path, style):
    """A rank-2 LoRA on one UNet attention projection and one text-encoder projection."""
    from safetensors.torch import save_file

    g = torch.Generator().manual_seed(0)
    unet_mod = "down_blocks.1.attentions.0.transformer_blocks.0.attn2.to_k"
    te_mod = "text_model.encoder.layers.0.self_attn.q_proj"  # as LoRA files name it
    te_path = "encoder.layers.0.self_attn.q_proj"  # transformers 5 module path
    tensors = {}
    shapes = {unet_mod: (64, 32), te_mod: (32, 32)}  # (out, in) of the tiny model's layers
    for target, module in (("unet", unet_mod), ("text_encoder", te_mod)):
        out_f, in_f = shapes[module]
        up, down = torch.randn(out_f, 2, generator=g), torch.randn(2, in_f, generator=g)
        if style == "peft":
            tensors[f"{target}.{module}.lora_A.weight"] = down
            tensors[f"{target}.{module}.lora_B.weight"] = up
        else:
            prefix = {"unet": "lora_unet_", "text_encoder": "lora_te_"}[target] + module.replace(".", "_")
            tensors[f"{prefix}.lora_down.weight"] = down
            tensors[f"{prefix}.lora_up.weight"] = up
            tensors[f"{prefix}.alpha"] = torch.tensor(1.0)
    path = tmp_path / f"{style}.safetensors"
    save_file(tensors, str(path))
    return path, unet_mod, te_path, tensors


@pytest.mark.parametrize("style", ["peft", "kohya"])
def test_lora_patches_copies_and_strength_zero_is_identity(tiny_sd, tmp_path, style):
    from nodes.models.checkpoint import LoadCheckpoint, LoadLora

    ctx = RunContext()
    model, clip, _ = LoadCheckpoint().run(ctx, checkpoint=str(tiny_sd))
    path, unet_mod, te_mod, tensors = _lora_file(tmp_path, style)
    same = LoadLora().run(ctx, model=model, clip=clip, lora=str(path), strength_model=0.0, strength_clip=0.0)
    assert same[0] is model and same[1] is clip
    before = model.unet.get_submodule(unet_mod).weight.clone()
    new_model, new_clip = LoadLora().run(ctx, model=model, clip=clip, lora=str(path), strength_model=0.5,
                                         strength_clip=1.0)
    key = {"peft": f"unet.{unet_mod}.lora_", "kohya": "lora_unet_" + unet_mod.replace(".", "_") + ".lora_"}[style]
    up = tensors[key + ("B.weight" if style == "peft" else "up.weight")]
    down = tensors[key + ("A.weight" if style == "peft" else "down.weight")]
    scale = 1.0 / 2 if style == "kohya" else 1.0  # kohya: alpha 1 / rank 2; peft: no alpha, scale 1
    expected = before + 0.5 * scale * (up @ down)
    torch.testing.assert_close(new_model.unet.get_submodule(unet_mod).weight, expected)
    assert torch.equal(model.unet.get_submodule(unet_mod).weight, before)  # the shared model is untouched
    other = "down_blocks.1.attentions.0.transformer_blocks.0.attn2.to_v"
    assert new_model.unet.get_submodule(other).weight is model.unet.get_submodule(other).weight
    assert not torch.equal(new_clip.text_encoder.get_submodule(te_mod).weight,
                           clip.text_encoder.get_submodule(te_mod).weight)


def test_lora_changes_the_picture(tiny_sd, tmp_path):
    from graphs import add

    path = _lora_file(tmp_path, "peft")[0]
    out = {}
    for strength in (0.0, 1.0):
        graph, ids = txt2img(tiny_sd, seed=2, save=False)
        lora = add(graph, "models.load_lora", {"model": (ids["ckpt"], "model"), "clip": (ids["ckpt"], "clip")},
                   lora=str(path), strength_model=strength, strength_clip=strength)
        graph.connect(lora, "model", ids["sampler"], "model")
        graph.connect(lora, "clip", ids["pos"], "clip")
        out[strength] = pixels(run(Executor(device="cpu"), graph, tmp_path), ids["decode"])
    plain_graph, plain_ids = txt2img(tiny_sd, seed=2, save=False)
    plain = pixels(run(Executor(device="cpu"), plain_graph, tmp_path), plain_ids["decode"])
    np.testing.assert_array_equal(out[0.0], plain)
    assert (out[1.0] != plain).any()


def test_load_image_alpha_becomes_mask_and_exif_orientation_applies(tmp_path):
    from nodes.image.load_save import LoadImage

    rgba = Image.new("RGBA", (4, 2), (255, 0, 0, 255))
    rgba.putpixel((0, 0), (0, 0, 255, 0))
    rgba.save(tmp_path / "a.png")
    image, mask = LoadImage().run(RunContext(search_dirs=(tmp_path,)), image="a.png")
    assert image.shape == (1, 2, 4, 3) and mask.shape == (1, 2, 4)
    assert mask[0, 0, 0] == 1.0 and mask[0, 1, 1] == 0.0
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise to display
    Image.new("RGB", (4, 2), (0, 255, 0)).save(tmp_path / "r.jpg", exif=exif)
    image, mask = LoadImage().run(RunContext(search_dirs=(tmp_path,)), image="r.jpg")
    assert image.shape == (1, 4, 2, 3) and float(mask.max()) == 0.0
    with pytest.raises(NodeError, match="image not found"):
        LoadImage().run(RunContext(search_dirs=(tmp_path,)), image="missing.png")


def test_mask_nodes():
    from nodes.mask.masks import ImageToMask, InvertMask, MaskFromColor, MaskThreshold

    ctx = RunContext()
    image = torch.zeros(1, 2, 2, 3)
    image[0, 0, 0] = torch.tensor([1.0, 0.5, 0.0])
    image[0, 1, 1] = torch.tensor([1.0, 0.51, 0.0])
    (by_colour,) = MaskFromColor().run(ctx, image=image, color="#ff8000", tolerance=2)
    assert by_colour.tolist() == [[[1.0, 0.0], [0.0, 1.0]]]
    (exact,) = MaskFromColor().run(ctx, image=image, color="#ff8000", tolerance=0)
    assert exact.tolist() == [[[1.0, 0.0], [0.0, 0.0]]]
    (green,) = ImageToMask().run(ctx, image=image, channel="green")
    (hard,) = MaskThreshold().run(ctx, mask=green, threshold=0.505)
    assert hard.tolist() == [[[0.0, 0.0], [0.0, 1.0]]]
    (inverted,) = InvertMask().run(ctx, mask=hard)
    assert inverted.tolist() == [[[1.0, 1.0], [1.0, 0.0]]]
    with pytest.raises(NodeError):
        MaskFromColor().run(ctx, image=image, color="orange", tolerance=0)


def test_composite_pastes_at_offset_within_mask():
    from nodes.image.load_save import ImageCompositeMasked

    destination = torch.zeros(1, 4, 4, 3)
    source = torch.ones(1, 2, 2, 3)
    mask = torch.tensor([[[1.0, 0.0], [0.5, 1.0]]])
    (out,) = ImageCompositeMasked().run(RunContext(), destination=destination, source=source, x=2, y=1, mask=mask)
    assert out[0, 1, 2, 0] == 1.0 and out[0, 1, 3, 0] == 0.0 and out[0, 2, 2, 0] == 0.5
    assert out[0, 0].abs().sum() == 0 and destination.abs().sum() == 0


def test_image_scale_and_latent_upscale():
    from nodes.image.load_save import ImageScale
    from nodes.latent.latents import LatentUpscale

    ctx = RunContext()
    image = torch.rand(1, 20, 40, 3)
    (scaled,) = ImageScale().run(ctx, image=image, width=16, height=16, method="bilinear", crop="center")
    assert scaled.shape == (1, 16, 16, 3)
    (kept,) = ImageScale().run(ctx, image=image, width=20, height=0, method="lanczos", crop="disabled")
    assert kept.shape == (1, 10, 20, 3)
    (latent,) = LatentUpscale().run(ctx, latent={"samples": torch.zeros(1, 4, 8, 8), "downscale": 8},
                                    scale_by=1.5, method="bilinear")
    assert latent["samples"].shape == (1, 4, 12, 12) and latent["downscale"] == 8


def test_listing_nodes_does_not_import_torch():
    import subprocess
    import sys

    code = ("import sys; from nodeflow.core import default_registry; r = default_registry(); "
            "assert not r.problems, r.problems; assert 'torch' not in sys.modules; "
            "assert 'sampling.sampler' in r and 'models.load_checkpoint' in r")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_sampler_choices_are_the_implemented_schedulers():
    from nodes.sampling import _comfy_sampling, _schedulers, _sigma_schedules
    from nodes.sampling import sampler as sampling

    sampler = sampling.Sampler
    assert set(sampler.input("sampler_name").choices) == set(_schedulers.SAMPLERS) | set(_comfy_sampling.SAMPLER_NAMES)
    assert set(sampler.input("scheduler").choices) == set(_schedulers.SCHEDULES) | set(
        _sigma_schedules.SCHEDULER_NAMES)


def test_save_prefix_may_not_leave_the_output_folder(tmp_path):
    from nodes.image.load_save import SaveImage

    ctx = RunContext(output_dir=tmp_path / "out")
    for bad in ("../escape", "/abs/name", "sub/../../x"):
        with pytest.raises(NodeError, match="inside the output folder"):
            SaveImage().run(ctx, images=torch.rand(1, 4, 4, 3), filename_prefix=bad)
    SaveImage().run(ctx, images=torch.rand(1, 4, 4, 3), filename_prefix="runs/cat")
    assert (tmp_path / "out" / "runs" / "cat_00001.png").is_file()


def test_load_image_16_bit_greyscale(tmp_path):
    from nodes.image.load_save import LoadImage

    array = np.array([[0, 32768, 65535]], dtype=np.uint16)
    Image.fromarray(array).save(tmp_path / "deep.png")
    image, _ = LoadImage().run(RunContext(search_dirs=(tmp_path,)), image="deep.png")
    assert image.shape == (1, 1, 3, 3)
    assert image[0, 0, :, 0].tolist() == pytest.approx([0.0, 0.5, 1.0], abs=1e-4)
