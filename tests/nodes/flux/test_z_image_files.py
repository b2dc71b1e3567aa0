"""A Z-Image transformer as ComfyUI users hold it: one file in the original key names (fused qkv),
fp8 scaled, loaded by Load Diffusion Model (UNETLoader) with its sizes read off the weights."""

from __future__ import annotations

import numpy as np
import torch
from flow_graphs import flux_txt2img, split_files_pixels
from graphs import add, pixels, run
from safetensors.torch import save_file

from nodeflow.engine import Executor


def comfyui_z_image_state(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """diffusers' Z-Image names -> the original ones ComfyUI's files use (fused qkv, `out`)."""
    renamed = {}
    for key, value in state.items():
        new = (key.replace("all_final_layer.2-1.", "final_layer.").replace("all_x_embedder.2-1.", "x_embedder.")
               .replace(".attention.to_out.0.", ".attention.out.").replace(".attention.norm_k.", ".attention.k_norm.")
               .replace(".attention.norm_q.", ".attention.q_norm."))
        if ".attention.to_k." in key or ".attention.to_v." in key:
            continue
        if ".attention.to_q." in key:
            value = torch.cat([state[key], state[key.replace("to_q", "to_k")], state[key.replace("to_q", "to_v")]])
            new = new.replace(".attention.to_q.", ".attention.qkv.")
        renamed["model.diffusion_model." + new] = value
    return renamed


def _fp8_scaled(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    out = {}
    for key, value in state.items():
        if key.endswith(".weight") and value.dim() == 2 and value.shape[1] % 16 == 0:
            scale = value.abs().max() / 448.0
            out[key] = (value / scale).to(torch.float8_e4m3fn)
            out[key[: -len("weight")] + "scale_weight"] = scale.reshape(())
        else:
            out[key] = value.to(torch.bfloat16)
    out["scaled_fp8"] = torch.empty(0, dtype=torch.float8_e4m3fn)
    return out


def test_an_fp8_scaled_comfyui_file_samples_like_the_folder(tiny_z_image8, tmp_path):
    from diffusers import ZImageTransformer2DModel

    transformer = ZImageTransformer2DModel.from_pretrained(tiny_z_image8 / "transformer")
    path = tmp_path / "z_image_turbo_fp8_scaled.safetensors"
    save_file({k: v.contiguous() for k, v in _fp8_scaled(comfyui_z_image_state(transformer.state_dict())).items()},
              str(path))
    executor = Executor(device="cpu")
    graph, ids = flux_txt2img(tiny_z_image8, guidance=None, steps=3, seed=5)
    expected = pixels(run(executor, graph, tmp_path / "folder"), ids["decode"])

    unet = add(graph, "models.load_unet", unet=str(path))
    graph.connect(unet, "model", ids["sampler"], "model")
    got = pixels(run(executor, graph, tmp_path / "file"), ids["decode"])

    difference = np.abs(got.astype(int) - expected.astype(int))
    assert difference.mean() < 2 and difference.max() < 24  # e4m3 rounding (measured: mean 0.88, max 9)
    assert not np.array_equal(got, expected)  # the file's own weights ran, not the folder's


def test_comfyui_split_files_sample_like_the_pipeline_folder(tiny_z_image8, tmp_path):
    """UNETLoader + CLIPLoader (type lumina2: a lone Qwen3 file in its checkpoint's key names, its
    tokenizer beside it) + VAELoader, as the Z-Image Turbo template holds the model."""
    import shutil

    from diffusers import ZImageTransformer2DModel
    from transformers import Qwen3Model

    folder = tiny_z_image8
    transformer = ZImageTransformer2DModel.from_pretrained(folder / "transformer")
    unet = tmp_path / "z_image_turbo_bf16.safetensors"
    save_file({k: v.contiguous() for k, v in comfyui_z_image_state(transformer.state_dict()).items()}, str(unet))
    encoder = Qwen3Model.from_pretrained(folder / "text_encoder")
    clip = tmp_path / "text_encoders" / "qwen_3_4b.safetensors"
    clip.parent.mkdir()
    save_file({"model." + k: v.contiguous() for k, v in encoder.state_dict().items()}, str(clip))
    shutil.copytree(folder / "tokenizer", clip.parent / "tokenizer")
    expected, got = split_files_pixels(folder, unet, clip, "lumina2", tmp_path, vae_family="flux", steps=3, seed=5)

    np.testing.assert_array_equal(got, expected)


def test_a_gguf_file_as_unetloadergguf_loads_it(tiny_z_image8, tmp_path):
    """ComfyUI-GGUF's files: the original key names, linear weights in GGML blocks (Q8_0 here), kept
    stored and dequantized per layer."""
    import gguf
    from diffusers import ZImageTransformer2DModel

    transformer = ZImageTransformer2DModel.from_pretrained(tiny_z_image8 / "transformer")
    path = tmp_path / "z_image_turbo-Q8_0.gguf"
    writer = gguf.GGUFWriter(str(path), arch="lumina2")
    for key, value in comfyui_z_image_state(transformer.state_dict()).items():
        kind = gguf.GGMLQuantizationType.Q8_0 if value.dim() == 2 and value.shape[1] % 32 == 0 \
            else gguf.GGMLQuantizationType.F32
        writer.add_tensor(key.removeprefix("model.diffusion_model."), gguf.quants.quantize(value.float().numpy(), kind),
                          raw_dtype=kind)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    executor = Executor(device="cpu")
    graph, ids = flux_txt2img(tiny_z_image8, guidance=None, steps=3, seed=5)
    expected = pixels(run(executor, graph, tmp_path / "folder"), ids["decode"])
    unet = add(graph, "models.load_unet", unet=str(path))
    graph.connect(unet, "model", ids["sampler"], "model")
    got = pixels(run(executor, graph, tmp_path / "file"), ids["decode"])

    difference = np.abs(got.astype(int) - expected.astype(int))
    assert difference.mean() < 1 and difference.max() < 8  # Q8_0: 8 bits a weight (measured: mean 0.12, max 1)
    assert not np.array_equal(got, expected)  # the file's own (quantized) weights ran


def test_a_llama_cpp_gguf_text_encoder_as_cliploadergguf_loads_it(tiny_z_image8, tmp_path):
    """CLIPLoaderGGUF's files: Qwen3 in llama.cpp's names (blk.N.attn_q...), Q8_0 projections, the
    tokenizer beside it; mapped back by the gguf package's name map, kept quantized."""
    import shutil

    import gguf
    from transformers import Qwen3Model

    folder = tiny_z_image8
    encoder = Qwen3Model.from_pretrained(folder / "text_encoder")
    path = tmp_path / "text_encoders" / "Qwen3-4B-Q8_0.gguf"
    path.parent.mkdir()
    names = gguf.get_tensor_name_map(gguf.MODEL_ARCH.QWEN3, encoder.config.num_hidden_layers)
    writer = gguf.GGUFWriter(str(path), arch="qwen3")
    for key, value in encoder.state_dict().items():
        kind = gguf.GGMLQuantizationType.Q8_0 if key.endswith("proj.weight") else gguf.GGMLQuantizationType.F32
        writer.add_tensor(names.get_name("model." + key, try_suffixes=(".weight",)),
                          gguf.quants.quantize(value.float().numpy(), kind), raw_dtype=kind)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    shutil.copytree(folder / "tokenizer", path.parent / "tokenizer")
    executor = Executor(device="cpu")
    graph, ids = flux_txt2img(folder, guidance=None, steps=3, seed=5)
    expected = pixels(run(executor, graph, tmp_path / "folder"), ids["decode"])
    text = add(graph, "models.load_clip", clip_name=str(path), family="lumina2")
    graph.connect(text, "clip", ids["pos"], "clip")
    got = pixels(run(executor, graph, tmp_path / "file"), ids["decode"])

    difference = np.abs(got.astype(int) - expected.astype(int))
    assert difference.mean() < 2 and difference.max() < 16  # Q8_0 projections
    assert not np.array_equal(got, expected)  # the GGUF file's own weights ran
