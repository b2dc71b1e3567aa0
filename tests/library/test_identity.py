"""Model identity: family and kind from headers, AutoV1/V2/V3 hashes, resolving a model by any of them."""

from __future__ import annotations

import hashlib
import json
import struct
from pathlib import Path

import numpy as np
import pytest
from safetensors.numpy import save

from nodeflow.cli import main
from nodeflow.core.manifest import compute_model_hash
from nodeflow.library import HashIndex, ModelLibrary, configure
from nodeflow.library.detect import Identity, identify
from nodeflow.library.hashes import autov1, file_hashes
from nodeflow.library.header import read_header
from nodeflow.library.roots import collect


@pytest.fixture(autouse=True)
def _no_cli_folders():
    configure()
    yield
    configure()


def fake_safetensors(path: Path, shapes: dict[str, tuple[int, ...]], metadata: dict | None = None) -> Path:
    """A header with these tensor names and shapes (no data: the detector reads only the header)."""
    header: dict = {name: {"dtype": "U8", "shape": list(shape), "data_offsets": [0, 0]}
                    for name, shape in shapes.items()}
    if metadata:
        header["__metadata__"] = metadata
    text = json.dumps(header).encode()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(struct.pack("<Q", len(text)) + text)
    return path


def _gguf_string(text: str) -> bytes:
    return struct.pack("<Q", len(text.encode())) + text.encode()


def fake_gguf(path: Path, architecture: str, tensors: dict[str, tuple[int, ...]]) -> Path:
    body = b"GGUF" + struct.pack("<IQQ", 3, len(tensors), 2)
    body += _gguf_string("general.architecture") + struct.pack("<I", 8) + _gguf_string(architecture)
    body += _gguf_string("tokenizer.tokens") + struct.pack("<IIQ", 9, 8, 2) + _gguf_string("a") + _gguf_string("b")
    for name, shape in tensors.items():
        body += _gguf_string(name) + struct.pack("<I", len(shape)) + struct.pack(f"<{len(shape)}Q", *reversed(shape))
        body += struct.pack("<IQ", 0, 0)
    path.write_bytes(body)
    return path


UNET = "model.diffusion_model.input_blocks.1.1.transformer_blocks.0.attn2.to_k.weight"


@pytest.mark.parametrize("shapes, metadata, expected", [
    ({UNET: (320, 768), "cond_stage_model.transformer.text_model.final_layer_norm.weight": (768,)}, None,
     Identity("sd1", "checkpoints")),
    ({UNET: (320, 1024), "cond_stage_model.model.transformer.resblocks.0.attn.in_proj_weight": (3072, 1024)}, None,
     Identity("sd2", "checkpoints")),
    ({"model.diffusion_model.label_emb.0.0.weight": (1280, 2816), "conditioner.embedders.1.model.ln_final.weight":
      (1280,)}, None, Identity("sdxl", "checkpoints")),
    ({"double_blocks.0.img_attn.qkv.weight": (9216, 3072)}, None, Identity("flux", "unet")),
    ({"joint_blocks.0.context_block.attn.qkv.weight": (4608, 1536)}, None, Identity("sd3", "unet")),
    ({"double_blocks.0.img_attn.qkv.weight": (9216, 3072), "img_in.weight": (3072, 384)}, None,
     Identity("flux-fill", "unet")),
    ({"double_blocks.0.img_attn.qkv.weight": (9216, 3072), "distilled_guidance_layer.in_proj.weight": (5120, 64)},
     None, Identity("chroma", "unet")),
    ({"model.diffusion_model.txt_norm.weight": (3584,), "model.diffusion_model.img_in.weight": (3072, 64),
      "model.diffusion_model.transformer_blocks.0.img_mod.1.weight": (18432, 3072)}, None,
     Identity("qwen-image", "unet")),  # the families the loaders run are the families the library lists
    ({"cap_embedder.1.weight": (3840, 2560), "layers.0.attention.qkv.weight": (11520, 3840)}, None,
     Identity("z-image", "unet")),
    ({"model.diffusion_model.double_blocks.0.img_attn.qkv.weight": (9216, 3072), "vae.decoder.conv_in.weight":
      (512, 16, 3, 3)}, None, Identity("flux", "checkpoints")),
    ({"something.else": (3,)}, {"modelspec.architecture": "qwen-image"}, Identity("qwen-image", None)),
    ({"lora_unet_down_blocks_0_attentions_0_proj_in.lora_down.weight": (4, 320)},
     {"ss_base_model_version": "sdxl_base_v1-0", "ss_network_module": "networks.lora"}, Identity("sdxl", "loras")),
    ({"transformer.single_blocks.0.linear1.lora_A.weight": (16, 3072)},
     {"modelspec.architecture": "flux-1-dev/lora"}, Identity("flux", "loras")),
    ({"lora_unet_double_blocks_0_img_attn_qkv.lora_down.weight": (16, 3072)}, None, Identity("flux", "loras")),
    ({"decoder.conv_in.weight": (512, 16, 3, 3), "encoder.conv_in.weight": (128, 3, 3, 3)}, None,
     Identity("flux/sd3", "vae")),
    ({"decoder.conv_in.weight": (512, 4, 3, 3), "encoder.conv_in.weight": (128, 3, 3, 3)}, None, Identity("sd", "vae")),
    ({"text_model.encoder.layers.0.mlp.fc1.weight": (3072, 768),
      "text_model.embeddings.token_embedding.weight": (49408, 768)}, None, Identity("clip-l", "clip")),
    ({"encoder.block.0.layer.0.SelfAttention.q.weight": (4096, 4096)}, None, Identity("t5", "clip")),
    ({"control_model.input_hint_block.0.weight": (16, 3, 3, 3)}, None, Identity("sd1", "controlnet")),
    ({"something.else": (3,)}, {"modelspec.architecture": "stable-diffusion-xl-v1-base/textual-inversion"},
     Identity("sdxl", "embeddings")),
    ({"something.else": (3,)}, {"modelspec.architecture": "flux-2-klein/lora"}, Identity("flux2-klein", "loras")),
    ({"something.else": (3,)}, {"modelspec.architecture": "flux-2-dev/lora"}, Identity("flux2", "loras")),
    ({"something.else": (3,)}, {"modelspec.architecture": "flux-dev/lora"}, Identity("flux", "loras")),
    ({"something.else": (3,)}, None, Identity(None, None)),
])
def test_family_and_kind_come_from_the_header(tmp_path, shapes, metadata, expected):
    assert identify(fake_safetensors(tmp_path / "m.safetensors", shapes, metadata)) == expected


def test_gguf_headers_are_read_without_the_gguf_package(tmp_path):
    path = fake_gguf(tmp_path / "flux.gguf", "flux", {"double_blocks.0.img_attn.qkv.weight": (9216, 3072)})
    header = read_header(path)
    assert header.metadata == {"general.architecture": "flux"}
    assert header.shapes == {"double_blocks.0.img_attn.qkv.weight": (9216, 3072)}
    assert identify(path) == Identity("flux", "unet")
    path.write_bytes(path.read_bytes()[:40])  # cut inside the metadata: unknown, no exception
    assert identify(path) == Identity(None, None)


def test_a_diffusers_folder_names_its_family(tmp_path):
    (tmp_path / "pipe").mkdir()
    (tmp_path / "pipe" / "model_index.json").write_text('{"_class_name": "StableDiffusionXLPipeline"}')
    assert identify(tmp_path / "pipe") == Identity("sdxl", "checkpoints")


def _lora(seed: int, metadata: dict | None = None) -> bytes:
    return save({"a.lora_down.weight": np.random.default_rng(seed).standard_normal(300_000).astype(np.float32)},
                metadata=metadata)


def test_the_hashes_other_tools_print(tmp_path):
    data = _lora(1)
    path = tmp_path / "l.safetensors"
    path.write_bytes(data)
    digest, data_hash = file_hashes(path)
    assert digest == compute_model_hash(path, [path]) == "sha256:" + hashlib.sha256(data).hexdigest()
    length = struct.unpack("<Q", data[:8])[0]
    assert data_hash == hashlib.sha256(data[8 + length:]).hexdigest()
    assert autov1(path) == hashlib.sha256(data[0x100000:0x110000]).hexdigest()[:8]
    other = tmp_path / "same-tensors-new-metadata.safetensors"
    other.write_bytes(_lora(1, {"ss_output_name": "renamed"}))
    assert file_hashes(other)[1] == data_hash and file_hashes(other)[0] != digest  # AutoV3 ignores the header


def test_a_model_is_found_by_any_of_its_hashes_and_hashed_once(tmp_path):
    root = tmp_path / "models"
    (root / "loras").mkdir(parents=True)
    (root / "loras" / "other.safetensors").write_bytes(_lora(2))
    mine = root / "loras" / "renamed.safetensors"
    mine.write_bytes(_lora(3))
    digest, data_hash = file_hashes(mine)
    library = ModelLibrary(collect([root]), HashIndex(tmp_path / "i.sqlite"))
    assert library.find_by_hash("loras", digest, compute=False) is None  # nothing indexed yet, nothing read
    assert library.index.hashed == 0
    hex_digest = digest.removeprefix("sha256:")
    for given in (digest, hex_digest.upper(), hex_digest[:10], data_hash[:12], autov1(mine)):
        assert library.find_by_hash("loras", given, like="style.safetensors") == mine, given
    assert library.index.hashed == 2  # each file read once, AutoV3 in the same pass
    assert library.find_by_hash("loras", data_hash[:12], compute=False) == mine  # now from the index
    assert library.find_by_hash("loras", "0123456789") is None and library.find_by_hash("loras", "not hex") is None
    assert library.resolve("loras", "style.safetensors", sha256=data_hash[:12]) == mine


def test_models_lists_family_kind_size_and_hashes(tmp_path, capsys):
    root = tmp_path / "models"
    path = root / "checkpoints" / "lora-in-the-wrong-folder.safetensors"
    path.parent.mkdir(parents=True)
    path.write_bytes(_lora(4, {"ss_base_model_version": "sd_v1", "ss_network_module": "networks.lora"}))
    digest, data_hash = file_hashes(path)
    assert main(["models", "--kind", "checkpoints", "--json", "--hash", "--models-dir", str(root)]) == 0
    [model] = [m for m in json.loads(capsys.readouterr().out)["models"] if m["source"] != "built-in"]
    assert (model["family"], model["detected_kind"], model["size"]) == ("sd1", "loras", path.stat().st_size)
    assert (model["sha256"], model["autov2"], model["autov3"]) == (digest, digest[7:17], data_hash[:12])
    assert main(["models", "--kind", "checkpoints", "--models-dir", str(root)]) == 0
    line = next(x for x in capsys.readouterr().out.splitlines() if "wrong-folder" in x)
    assert f"sd1, looks like loras, 1.2 MB, sha256 {digest[7:19]}, AutoV2 {digest[7:17]}, AutoV3 {data_hash[:12]}" \
        in line
