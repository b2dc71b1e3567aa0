"""Turn a tiny diffusers SD folder into an original-layout ("LDM") single-file checkpoint.

The reverse of what diffusers' `from_single_file` does, after diffusers' own script
`convert_diffusers_to_original_stable_diffusion.py`, generalised to any number of blocks and
layers so it works on the tests' tiny model. Test-only: NodeFlow itself never writes this format.
"""

from __future__ import annotations

from pathlib import Path


def _unet_map(config: dict) -> dict[str, str]:
    """diffusers UNet key prefix -> LDM key prefix."""
    layers = config["layers_per_block"]
    blocks = len(config["block_out_channels"])
    down_attn = ["CrossAttn" in t for t in config["down_block_types"]]
    up_attn = ["CrossAttn" in t for t in config["up_block_types"]]
    m = {
        "time_embedding.linear_1.": "time_embed.0.", "time_embedding.linear_2.": "time_embed.2.",
        "conv_in.": "input_blocks.0.0.", "conv_norm_out.": "out.0.", "conv_out.": "out.2.",
        "mid_block.attentions.0.": "middle_block.1.",
        "mid_block.resnets.0.": "middle_block.0.", "mid_block.resnets.1.": "middle_block.2.",
    }
    for i in range(blocks):
        for j in range(layers):
            n = (layers + 1) * i + j + 1
            m[f"down_blocks.{i}.resnets.{j}."] = f"input_blocks.{n}.0."
            if down_attn[i]:
                m[f"down_blocks.{i}.attentions.{j}."] = f"input_blocks.{n}.1."
        if i < blocks - 1:
            m[f"down_blocks.{i}.downsamplers.0.conv."] = f"input_blocks.{(layers + 1) * (i + 1)}.0.op."
        for j in range(layers + 1):
            n = (layers + 1) * i + j
            m[f"up_blocks.{i}.resnets.{j}."] = f"output_blocks.{n}.0."
            if up_attn[i]:
                m[f"up_blocks.{i}.attentions.{j}."] = f"output_blocks.{n}.1."
        if i < blocks - 1:
            m[f"up_blocks.{i}.upsamplers.0."] = f"output_blocks.{(layers + 1) * i + layers}.{2 if up_attn[i] else 1}."
    return m


_RESNET = {"norm1": "in_layers.0", "conv1": "in_layers.2", "norm2": "out_layers.0", "conv2": "out_layers.3",
           "time_emb_proj": "emb_layers.1", "conv_shortcut": "skip_connection"}


def _convert_unet(state: dict, config: dict) -> dict:
    prefixes = sorted(_unet_map(config).items(), key=lambda kv: -len(kv[0]))
    out = {}
    for key, value in state.items():
        new = key
        for hf, sd in prefixes:
            if key.startswith(hf):
                rest = key[len(hf):]
                if ".resnets." in hf:
                    head, _, tail = rest.partition(".")
                    rest = f"{_RESNET.get(head, head)}.{tail}"
                new = sd + rest
                break
        out["model.diffusion_model." + new] = value
    return out


def _convert_vae(state: dict, config: dict) -> dict:
    blocks = len(config["block_out_channels"])
    layers = config["layers_per_block"]
    m = {"encoder.conv_norm_out.": "encoder.norm_out.", "decoder.conv_norm_out.": "decoder.norm_out.",
         "encoder.mid_block.attentions.0.": "encoder.mid.attn_1.",
         "decoder.mid_block.attentions.0.": "decoder.mid.attn_1."}
    for part in ("encoder", "decoder"):
        for i in range(2):
            m[f"{part}.mid_block.resnets.{i}."] = f"{part}.mid.block_{i + 1}."
    for i in range(blocks):
        for j in range(layers):
            m[f"encoder.down_blocks.{i}.resnets.{j}."] = f"encoder.down.{i}.block.{j}."
        if i < blocks - 1:
            m[f"encoder.down_blocks.{i}.downsamplers.0."] = f"encoder.down.{i}.downsample."
            m[f"decoder.up_blocks.{i}.upsamplers.0."] = f"decoder.up.{blocks - 1 - i}.upsample."
        for j in range(layers + 1):
            m[f"decoder.up_blocks.{i}.resnets.{j}."] = f"decoder.up.{blocks - 1 - i}.block.{j}."
    attn = {"group_norm.": "norm.", "to_q.": "q.", "to_k.": "k.", "to_v.": "v.", "to_out.0.": "proj_out."}
    prefixes = sorted(m.items(), key=lambda kv: -len(kv[0]))
    out = {}
    for key, value in state.items():
        new = key
        for hf, sd in prefixes:
            if key.startswith(hf):
                rest = key[len(hf):]
                if "attn_1" in sd:
                    for a, b in attn.items():
                        if rest.startswith(a):
                            rest = b + rest[len(a):]
                            if b != "norm." and value.ndim == 2:
                                value = value[:, :, None, None]  # LDM attention uses 1x1 convs
                            break
                rest = rest.replace("conv_shortcut", "nin_shortcut")
                new = sd + rest
                break
        out["first_stage_model." + new] = value
    return out


def write_single_file(folder: Path, target: Path) -> Path:
    """Write `folder`'s UNet, VAE and text encoder as one LDM-layout .safetensors file."""
    import json

    from safetensors.torch import load_file, save_file

    def weights(part):
        (file,) = sorted((folder / part).glob("*.safetensors"))
        return load_file(str(file))

    state = {}
    state |= _convert_unet(weights("unet"), json.loads((folder / "unet" / "config.json").read_text()))
    state |= _convert_vae(weights("vae"), json.loads((folder / "vae" / "config.json").read_text()))
    for key, value in weights("text_encoder").items():
        key = key if key.startswith("text_model.") else "text_model." + key
        state["cond_stage_model.transformer." + key] = value
    save_file({k: v.contiguous() for k, v in state.items()}, str(target))
    return target


def write_configs(folder: Path, target: Path) -> Path:
    """The config-only copy of a diffusers folder (what resources/configs/<arch>/ holds)."""
    import shutil

    target.mkdir(parents=True, exist_ok=True)
    shutil.copy(folder / "model_index.json", target / "model_index.json")
    for part in ("unet", "vae", "text_encoder", "scheduler", "tokenizer"):
        (target / part).mkdir(exist_ok=True)
        for file in (folder / part).iterdir():
            if file.suffix in (".json", ".txt") and part != "tokenizer" or (
                    part == "tokenizer" and file.name in ("tokenizer_config.json", "special_tokens_map.json")):
                shutil.copy(file, target / part / file.name)
    return target
