"""Qwen-Image's DiffSynth block-wise ControlNets (Load Model Patch -> Model Patch ControlNet) on tiny random
weights, CPU: the pixels of QwenImagePipeline whose transformer blocks are each followed by the ControlNet's
formula written out here from the file's tensors (diffusers has no class for it); strength 0 is the model
without the patch, bit for bit; the inpaint file's mask channel counts; bad inputs are one line each."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from flow_graphs import as_uint8, meaningful, reference_pipe
from graphs import add, new_graph, pixels, run
from safetensors.torch import save_file

from nodeflow.core import NodeError
from nodeflow.engine import Executor


def blockwise_state(dim: int, blocks: int, extra: int = 0, seed: int = 3) -> dict[str, torch.Tensor]:
    """A DiffSynth block-wise ControlNet file's tensors (its key names), every weight random: the published
    zero-initialised output projections would add nothing."""
    generator = torch.Generator().manual_seed(seed)

    def rand(*shape: int, scale: float = 0.3, base: float = 0.0) -> torch.Tensor:
        return base + torch.randn(*shape, generator=generator) * scale

    state = {"img_in.weight": rand(dim, 64 + extra), "img_in.bias": rand(dim)}
    for k in range(blocks):
        p = f"controlnet_blocks.{k}."
        state |= {p + "x_rms.weight": rand(dim, base=1.0), p + "y_rms.weight": rand(dim, base=1.0),
                  p + "input_proj.weight": rand(dim, dim), p + "input_proj.bias": rand(dim),
                  p + "output_proj.weight": rand(dim, dim), p + "output_proj.bias": rand(dim)}
    return state


class _Followed(torch.nn.Module):
    """A transformer block followed by block k of the ControlNet, as DiffSynth-Studio's model_fn runs it:
    h + s * out(gelu(in(rms_x(h) + rms_y(c))))."""

    def __init__(self, block: torch.nn.Module, state: dict, k: int, cond: torch.Tensor, strength: float) -> None:
        super().__init__()
        self.block, self.state, self.k, self.cond, self.strength = block, state, k, cond, strength

    def forward(self, **kwargs):
        text, hidden = self.block(**kwargs)
        w = {name[len(f"controlnet_blocks.{self.k}."):]: v for name, v in self.state.items()
             if name.startswith(f"controlnet_blocks.{self.k}.")}
        dim = (hidden.shape[-1],)
        x = F.rms_norm(hidden, dim, w["x_rms.weight"], 1e-6) + F.rms_norm(self.cond, dim, w["y_rms.weight"], 1e-6)
        x = F.linear(F.gelu(F.linear(x, w["input_proj.weight"], w["input_proj.bias"])), w["output_proj.weight"],
                     w["output_proj.bias"])
        return text, hidden + self.strength * x


def _theirs(folder, state, picture, strength: float) -> np.ndarray:
    from PIL import Image

    pipe = reference_pipe("QwenImagePipeline", folder)
    pixels_in = pipe.image_processor.preprocess(Image.open(picture).convert("RGB"), 32, 32).unsqueeze(2)
    with torch.no_grad():
        mean = pipe.vae.encode(pixels_in).latent_dist.mode()
        config = pipe.vae.config
        m = torch.tensor(config.latents_mean).view(1, -1, 1, 1, 1)
        s = 1.0 / torch.tensor(config.latents_std).view(1, -1, 1, 1, 1)  # as QwenImageImg2ImgPipeline scales
        latents = ((mean - m) * s)[:, :, 0]
        b, c, h, w = latents.shape
        cond = F.linear(pipe._pack_latents(latents, b, c, h, w), state["img_in.weight"], state["img_in.bias"])
    blocks = pipe.transformer.transformer_blocks
    originals = list(blocks)
    for k, block in enumerate(originals):
        blocks[k] = _Followed(block, state, k, cond, strength)
    try:
        out = pipe("a red circle", height=32, width=32, num_inference_steps=2, true_cfg_scale=1.0,
                   generator=torch.Generator("cpu").manual_seed(4)).images
    finally:
        for k, block in enumerate(originals):
            blocks[k] = block
    return as_uint8(out)


def control_graph(checkpoint, patch, picture, *, strength: float = 0.75, mask=None):
    g = new_graph()
    ids = {"ckpt": add(g, "models.load_checkpoint", checkpoint=str(checkpoint))}
    clip, vae = (ids["ckpt"], "clip"), (ids["ckpt"], "vae")
    ids["pos"] = add(g, "conditioning.text_encode", {"clip": clip}, text="a red circle")
    ids["patch"] = add(g, "models.load_model_patch", name=str(patch))
    ids["picture"] = add(g, "image.load", image=str(picture))
    links = {"model": (ids["ckpt"], "model"), "model_patch": (ids["patch"], "model_patch"), "vae": vae,
             "image": (ids["picture"], "image")}
    if mask is not None:
        ids["mask_picture"] = add(g, "image.load", image=str(mask))
        ids["mask"] = add(g, "mask.from_image", {"image": (ids["mask_picture"], "image")})
        links["mask"] = (ids["mask"], "mask")
    ids["control"] = add(g, "conditioning.model_patch_controlnet", links, strength=strength)
    ids["latent"] = add(g, "latent.empty", width=32, height=32, batch_size=1)
    ids["sampler"] = add(g, "sampling.sampler",
                         {"model": (ids["control"], "model"), "positive": (ids["pos"], "conditioning"),
                          "latent_image": (ids["latent"], "latent")},
                         seed=4, steps=2, cfg=1.0, sampler_name="euler", scheduler="normal")
    ids["decode"] = add(g, "vae.decode", {"latent": (ids["sampler"], "latent"), "vae": vae})
    ids["out"] = add(g, "image.preview", {"images": (ids["decode"], "image")})
    return g, ids


@pytest.fixture(scope="module")
def executor():
    return Executor(device="cpu")


@pytest.fixture(scope="module")
def tiny_qwen_image2(tiny_qwen_image, tmp_path_factory):
    """The tiny Qwen-Image with a 2-layer transformer, so each ControlNet block's place shows."""
    import shutil

    from diffusers import QwenImageTransformer2DModel
    from tiny_flow import _randomize_zero_inits

    folder = tmp_path_factory.mktemp("qwen_image2") / "qwen_image2"
    shutil.copytree(tiny_qwen_image, folder)
    config = dict(QwenImageTransformer2DModel.load_config(folder / "transformer"), num_layers=2)
    torch.manual_seed(7)
    transformer = QwenImageTransformer2DModel.from_config(config)
    _randomize_zero_inits(transformer)
    shutil.rmtree(folder / "transformer")
    transformer.save_pretrained(folder / "transformer")
    return folder


def test_control_matches_the_formula_after_each_block(tiny_qwen_image2, source_png, executor, tmp_path):
    state = blockwise_state(32, 2)
    patch = tmp_path / "qwen_image_canny_diffsynth_controlnet.safetensors"
    save_file(state, str(patch))
    picture = source_png[0]
    graph, ids = control_graph(tiny_qwen_image2, patch, picture)
    ours = pixels(run(executor, graph, tmp_path), ids["decode"])
    theirs = _theirs(tiny_qwen_image2, state, picture, 0.75)
    meaningful(theirs)
    np.testing.assert_array_equal(ours, theirs)
    swapped = dict(state)  # block 0 after layer 1 and block 1 after layer 0: another picture
    for name in state:
        if name.startswith("controlnet_blocks."):
            k = int(name.split(".")[1])
            swapped[name.replace(f"controlnet_blocks.{k}.", f"controlnet_blocks.{1 - k}.")] = state[name]
    assert np.abs(_theirs(tiny_qwen_image2, swapped, picture, 0.75).astype(int) - ours.astype(int)).max() > 8


def test_strength_zero_is_the_model_without_the_patch(tiny_qwen_image, source_png, executor, tmp_path):
    patch = tmp_path / "qwen_image_depth_diffsynth_controlnet.safetensors"
    save_file(blockwise_state(32, 1), str(patch))
    graph, ids = control_graph(tiny_qwen_image, patch, source_png[0], strength=0.0)
    off = pixels(run(executor, graph, tmp_path / "off"), ids["decode"])
    graph.remove_node(ids["control"])
    graph.connect(ids["ckpt"], "model", ids["sampler"], "model")
    plain = pixels(run(executor, graph, tmp_path / "plain"), ids["decode"])
    meaningful(plain)
    np.testing.assert_array_equal(off, plain)
    graph, ids = control_graph(tiny_qwen_image, patch, source_png[0], strength=1.0)
    assert np.abs(pixels(run(executor, graph, tmp_path / "on"), ids["decode"]).astype(int)
                  - plain.astype(int)).max() > 8


def test_the_inpaint_file_reads_the_keep_mask(tiny_qwen_image, source_png, executor, tmp_path):
    """The inpaint ControlNet's img_in takes a fifth latent channel, 1 - mask (all ones without one): a mask
    changes the picture, and an unmasked run equals one with an all-zero mask."""
    from PIL import Image

    patch = tmp_path / "qwen_image_inpaint_diffsynth_controlnet.safetensors"
    save_file(blockwise_state(32, 1, extra=4), str(patch))
    picture, mask = source_png
    empty = tmp_path / "empty.png"
    Image.new("L", (32, 32), 0).save(empty)
    results = {}
    for name, chosen in (("none", None), ("empty", empty), ("mask", mask)):
        graph, ids = control_graph(tiny_qwen_image, patch, picture, mask=chosen)
        results[name] = pixels(run(executor, graph, tmp_path / name), ids["decode"])
    np.testing.assert_array_equal(results["none"], results["empty"])
    assert np.abs(results["mask"].astype(int) - results["none"].astype(int)).max() > 8


def test_bad_inputs_are_one_line_each(tiny_qwen_image, source_png, executor, tmp_path):
    from nodeflow.core import RunContext
    from nodes.models.model_patch import LoadModelPatch

    odd = tmp_path / "odd.safetensors"
    save_file(blockwise_state(32, 1, extra=3), str(odd))
    with pytest.raises(NodeError, match="img_in takes 67 features") as caught:
        LoadModelPatch().run(RunContext(), str(odd))
    assert caught.value.field == "name" and "\n" not in str(caught.value)
    for name, state, words in (("wide.safetensors", blockwise_state(48, 1), "48 wide, 1 blocks"),
                               ("canny.safetensors", blockwise_state(32, 1), "takes none")):
        save_file(state, str(tmp_path / name))
        graph, ids = control_graph(tiny_qwen_image, tmp_path / name, source_png[0],
                                   mask=source_png[1] if name == "canny.safetensors" else None)
        result = executor.run(graph, output_dir=tmp_path / "out")
        assert not result.ok and words in str(result.errors), result.errors
    graph, ids = control_graph(tiny_qwen_image, tmp_path / "canny.safetensors", source_png[0])
    graph.set_param(ids["latent"], "width", 64)
    result = executor.run(graph, output_dir=tmp_path / "out")
    assert not result.ok and "the control picture's latents are" in str(result.errors)
