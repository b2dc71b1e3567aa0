"""Flux Redux on tiny random weights gives FluxPriorReduxPipeline + FluxPipeline's pixels, byte for byte:
Text Encode -> Apply Style Model (Redux tokens of what a SigLIP tower, loaded by Load CLIP Vision, saw in
the picture) -> Flux Guidance -> Sampler, against the prior pipeline's prompt states (its feature
extractor reading the picture as CLIP Vision Encode does) handed to FluxPipeline."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from flow_graphs import as_uint8, flux_txt2img, meaningful, reference_pipe
from graphs import add, pixels, run

from nodeflow.engine import Executor

SIDE = 28


class ComfyReading:
    """The prior pipeline's feature extractor, reading as CLIP Vision Encode does ('center', SigLIP's -1..1)."""

    def preprocess(self, images, **_: object):
        from transformers import BatchFeature

        from nodes.vision._clip_vision import SIGLIP_MEAN, SIGLIP_STD, pixels

        picture = torch.from_numpy(np.asarray(images.convert("RGB"), dtype=np.float32) / 255)[None]
        return BatchFeature({"pixel_values": pixels(picture, SIDE, SIGLIP_MEAN, SIGLIP_STD, crop=True)})


@pytest.fixture(scope="module")
def redux_parts(tiny_flux, tmp_path_factory):
    import transformers
    from diffusers.pipelines.flux.modeling_flux import ReduxImageEncoder
    from safetensors.torch import save_file

    torch.manual_seed(5)
    tower = transformers.SiglipVisionModel(transformers.SiglipVisionConfig(
        hidden_size=32, intermediate_size=48, num_hidden_layers=2, num_attention_heads=16, image_size=SIDE,
        patch_size=14, hidden_act="gelu_pytorch_tanh", layer_norm_eps=1e-6)).eval()
    width = reference_pipe("FluxPipeline", tiny_flux).transformer.config.joint_attention_dim
    redux = ReduxImageEncoder(redux_dim=32, txt_in_features=width).eval()
    folder = tmp_path_factory.mktemp("flux_redux")
    save_file({k if k.startswith("vision_model.") else f"vision_model.{k}": v.contiguous()
               for k, v in tower.state_dict().items()}, folder / "sigclip_tiny.safetensors")
    save_file({k: v.contiguous() for k, v in redux.state_dict().items()}, folder / "redux_tiny.safetensors")
    return tower, redux, folder


def test_redux_matches_the_prior_and_flux_pipelines(tiny_flux, redux_parts, source_png, tmp_path):
    from diffusers import FluxPriorReduxPipeline
    from PIL import Image

    tower, redux, folder = redux_parts
    graph, ids = flux_txt2img(tiny_flux, guidance=3.5, steps=3, seed=3)
    ids["picture"] = add(graph, "image.load", image=str(source_png[0]))
    ids["tower"] = add(graph, "vision.load_clip_vision", clip_name=str(folder / "sigclip_tiny.safetensors"))
    ids["seen"] = add(graph, "vision.clip_vision_encode", {"clip_vision": (ids["tower"], "clip_vision"),
                                                           "image": (ids["picture"], "image")}, crop="center")
    ids["style"] = add(graph, "vision.load_style_model", style_model_name=str(folder / "redux_tiny.safetensors"))
    prompt = graph.disconnect(ids["guidance"], "conditioning")
    ids["apply"] = add(graph, "vision.apply_style_model", {
        "conditioning": (prompt.src, prompt.src_output), "style_model": (ids["style"], "style_model"),
        "clip_vision_output": (ids["seen"], "clip_vision_output")}, strength=1.0, strength_type="multiply")
    graph.connect(ids["apply"], "conditioning", ids["guidance"], "conditioning")
    ours = pixels(run(Executor(device="cpu"), graph, tmp_path), ids["decode"])

    pipe = reference_pipe("FluxPipeline", tiny_flux)
    texts = {k: pipe.components[k] for k in ("tokenizer", "text_encoder", "tokenizer_2", "text_encoder_2")}
    prior = FluxPriorReduxPipeline(image_encoder=tower, feature_extractor=ComfyReading(), image_embedder=redux,
                                   **texts)
    states = prior(Image.open(source_png[0]).convert("RGB"), prompt="a red circle")
    assert states.prompt_embeds.shape[1] == 512 + (SIDE // 14) ** 2
    theirs = as_uint8(pipe(prompt_embeds=states.prompt_embeds, pooled_prompt_embeds=states.pooled_prompt_embeds,
                           height=32, width=32, num_inference_steps=3, guidance_scale=3.5,
                           generator=torch.Generator("cpu").manual_seed(3)).images)
    meaningful(theirs)
    np.testing.assert_array_equal(ours, theirs)
