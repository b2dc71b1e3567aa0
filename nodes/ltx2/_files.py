"""LTX-2's all-in-one checkpoint files, as ComfyUI's Load Checkpoint reads them, and its lone VAE files
(Load VAE: the video VAE's weights bare, or the audio VAE's and vocoder's under their prefixes below).

One .safetensors holds the transformer and its text connectors under model.diffusion_model. (the
connectors as video_embeddings_connector. / audio_embeddings_connector.), the text projection under
text_embedding_projection., the video VAE under vae., the audio VAE and vocoder under audio_vae. and
vocoder. (`nodes.ltx2._audio`, Load LTXV Audio VAE). No text encoder: Gemma 3 comes from its own file
(`nodes.ltx2.text`). Weights keep LTX-2's original names; they are renamed by diffusers' single-file
converters (transformer, VAE) and by the connectors' names below, and each part's sizes are read off its
tensors, the rest of its config being the shipped LTX-2 one (resources/configs/ltx2).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from nodeflow.core import NodeError

DENOISER_PREFIX, VAE_PREFIX, PROJECTION_PREFIX = "model.diffusion_model.", "vae.", "text_embedding_projection."
CONNECTOR_PREFIXES = ("video_embeddings_connector.", "audio_embeddings_connector.")
#: LTX-2's original connector names -> diffusers' LTX2TextConnectors names (LTX-2.0's one projection,
#: LTX-2.3's one per stream).
CONNECTOR_NAMES = (("video_embeddings_connector.", "video_connector."),
                   ("audio_embeddings_connector.", "audio_connector."),
                   ("transformer_1d_blocks.", "transformer_blocks."),
                   ("text_embedding_projection.aggregate_embed.", "text_proj_in."),
                   ("text_embedding_projection.video_aggregate_embed.", "video_text_proj_in."),
                   ("text_embedding_projection.audio_aggregate_embed.", "audio_text_proj_in."),
                   (".q_norm.", ".norm_q."), (".k_norm.", ".norm_k."))
#: LTX-2.3's video VAE decoder's last level and its upsampler (blocks 8 and 7 of its one sequence), which
#: diffusers' (LTX-2.0) converter leaves as they are; its conversion script renames them so.
DECODER_23_NAMES = (("decoder.up_blocks.7.", "decoder.up_blocks.3.upsamplers.0."),
                    ("decoder.up_blocks.8.", "decoder.up_blocks.3."))
#: LTX-2.3's names diffusers' (LTX-2.0) transformer converter does not know, renamed before it runs.
TRANSFORMER_PRE_NAMES = (("audio_prompt_adaln_single.", "audio_prompt_adaln."),
                         ("prompt_adaln_single.", "prompt_adaln."))


def _rename(key: str, names: tuple[tuple[str, str], ...]) -> str:
    for old, new in names:
        key = key.replace(old, new)
    return key


def _blocks(shapes: Mapping[str, tuple[int, ...]], prefix: str) -> int:
    return len({k[len(prefix):].split(".", 1)[0] for k in shapes if k.startswith(prefix)})


def transformer_config(shapes: Mapping[str, tuple[int, ...]], base: dict[str, Any]) -> dict[str, Any]:
    """LTX2VideoTransformer3DModel's config for weights of these (diffusers-named) shapes: channels, widths,
    blocks and LTX-2.3's gated / prompt-modulated attention off the tensors; the head widths are the
    shipped ones (LTX-2's 128 for video, 64 for sound), which no tensor records."""
    config = dict(base)
    inner, config["in_channels"] = shapes["proj_in.weight"]
    audio_inner, config["audio_in_channels"] = shapes["audio_proj_in.weight"]
    for width, key, head in ((inner, "num_attention_heads", "attention_head_dim"),
                             (audio_inner, "audio_num_attention_heads", "audio_attention_head_dim")):
        if width % int(config[head]):
            raise NodeError(f"an LTX-2 transformer {width} wide is not one NodeFlow has a config for (its heads are "
                            f"{config[head]} wide)", "checkpoint")
        config[key] = width // int(config[head])
    config["out_channels"] = shapes["proj_out.weight"][0]
    config["audio_out_channels"] = shapes["audio_proj_out.weight"][0]
    config["cross_attention_dim"] = shapes["transformer_blocks.0.attn2.to_k.weight"][1]
    config["audio_cross_attention_dim"] = shapes["transformer_blocks.0.audio_attn2.to_k.weight"][1]
    config["num_layers"] = _blocks(shapes, "transformer_blocks.")
    config["use_prompt_embeddings"] = "caption_projection.linear_1.weight" in shapes
    if config["use_prompt_embeddings"]:
        config["caption_channels"] = shapes["caption_projection.linear_1.weight"][1]
    config["gated_attn"] = "transformer_blocks.0.attn1.to_gate_logits.weight" in shapes
    config["audio_gated_attn"] = "transformer_blocks.0.audio_attn1.to_gate_logits.weight" in shapes
    config["cross_attn_mod"] = config["audio_cross_attn_mod"] = any(k.startswith("prompt_adaln.") for k in shapes)
    # LTX-2.5's: no biases in the video feed-forward, a learned marker for single-frame (keyframe) tokens
    config["ff_bias"] = "transformer_blocks.0.ff.net.0.proj.bias" in shapes
    config["audio_ff_bias"] = "transformer_blocks.0.audio_ff.net.0.proj.bias" in shapes
    config["use_keyframes_abs_pos_embedding"] = "keyframes_abs_pos_embedding" in shapes
    return config


def transformer_weights(denoiser: Mapping[str, Any]) -> dict[str, Any]:
    """A transformer's weights (LTX-2's original names, the checkpoint's prefix removed) in diffusers' names,
    its text connectors left out; LTX-2.5's keyframe marker in diffusers' shape ([1, width])."""
    from diffusers.loaders.single_file_utils import convert_ltx2_transformer_to_diffusers

    weights = {_rename(k, TRANSFORMER_PRE_NAMES): v for k, v in denoiser.items()
               if not k.startswith(CONNECTOR_PREFIXES)}
    weights = convert_ltx2_transformer_to_diffusers(weights)
    marker = weights.get("keyframes_abs_pos_embedding")
    if marker is not None and marker.ndim == 1:
        weights["keyframes_abs_pos_embedding"] = marker.reshape(1, -1)
    return weights


def projection_kept_apart(shapes: Mapping[str, tuple[int, ...]]) -> bool:
    """Whether connectors (diffusers' names) come without their text projection, which LTX-2.5's split files keep
    in the text encoder's file (ComfyUI's gemma4-...-with-proj): `connect` then takes projected prompts."""
    return not any(k.startswith(("text_proj_in.", "video_text_proj_in.")) for k in shapes)


def connectors_config(shapes: Mapping[str, tuple[int, ...]], bases: Mapping[str, dict[str, Any]]) -> dict[str, Any]:
    """LTX2TextConnectors' config for weights of these (diffusers-named) shapes: LTX-2.3's (a projection per
    stream) or LTX-2.0's shipped one, the text width and layer count off the projection(s), each connector's
    width, depth and registers off its tensors; head widths (and LTX-2.3's Gemma width) the shipped ones."""
    # a projection per stream, or none beside connectors of two widths (LTX-2.5's, the projection kept apart)
    per_stream = "video_text_proj_in.weight" in shapes or projection_kept_apart(shapes)
    config = dict(bases["2.3" if per_stream else "2.0"])
    config["per_modality_projections"] = per_stream
    for stream in ("video", "audio"):
        prefix = f"{stream}_connector."
        width = shapes[f"{prefix}transformer_blocks.0.attn1.to_q.weight"][0]
        head = int(config[f"{stream}_connector_attention_head_dim"])
        if width % head:
            raise NodeError(f"LTX-2 text connectors {width} wide are not ones NodeFlow has a config for (heads "
                            f"{head} wide)", "checkpoint")
        config[f"{stream}_connector_num_attention_heads"] = width // head
        config[f"{stream}_connector_num_layers"] = _blocks(shapes, f"{prefix}transformer_blocks.")
        registers = shapes.get(f"{prefix}learnable_registers")
        config[f"{stream}_connector_num_learnable_registers"] = registers[0] if registers else None
        config[f"{stream}_gated_attn"] = f"{prefix}transformer_blocks.0.attn1.to_gate_logits.weight" in shapes
        if per_stream:
            config[f"{stream}_hidden_dim"] = width
    if projection_kept_apart(shapes):  # LTX-2.5's split files: the projection is in the text encoder's file
        return config
    projection = shapes["video_text_proj_in.weight" if per_stream else "text_proj_in.weight"]
    caption = int(config["caption_channels"]) if per_stream else projection[0]
    if projection[1] % caption:
        raise NodeError(f"an LTX-2 text projection of {projection[1]} features is not whole layers of "
                        f"{caption}", "checkpoint")
    config["caption_channels"], config["text_proj_in_factor"] = caption, projection[1] // caption
    config["proj_bias"] = ("video_text_proj_in.bias" if per_stream else "text_proj_in.bias") in shapes
    return config


def connectors_from(linked: Mapping[str, Any], dtype: Any) -> Any:
    """LTX2TextConnectors holding these weights (diffusers' names), in `dtype`; built without weights first, so
    connectors whose projection is kept apart (`projection_kept_apart`) have none (those layers are None)."""
    from accelerate import init_empty_weights
    from diffusers.pipelines.ltx2.connectors import LTX2TextConnectors

    from nodes.families import by_name
    from nodes.models._family_loader import _shipped

    family = by_name("ltx2")
    shapes = {k: tuple(v.shape) for k, v in linked.items()}
    with init_empty_weights():
        connectors = LTX2TextConnectors(**connectors_config(
            shapes, {"2.0": _shipped(family, "connectors"), "2.3": _shipped(family, "connectors_2_3")}))
    if projection_kept_apart(shapes):
        connectors.video_text_proj_in = connectors.audio_text_proj_in = None
    connectors.load_state_dict(dict(linked), assign=True)
    return connectors.to(dtype=dtype).eval()


def linked_weights(denoiser: Mapping[str, Any]) -> dict[str, Any]:
    """The text connectors' weights a transformer's state carries (original names), in diffusers' names."""
    return {_rename(k, CONNECTOR_NAMES): v for k, v in denoiser.items() if k.startswith(CONNECTOR_PREFIXES)}


def vae_config(shapes: Mapping[str, tuple[int, ...]], bases: Mapping[str, dict[str, Any]],
               field: str = "checkpoint") -> dict[str, Any]:
    """AutoencoderKLLTX2Video's config for weights of these (diffusers-named) shapes: LTX-2.3's (four decoder
    levels) or LTX-2.0's shipped one for the up/down sampling kinds, latent channels and each level's width
    and blocks off the tensors."""
    up = _blocks(shapes, "decoder.up_blocks.")
    base = next((b for b in bases.values() if len(b["decoder_block_out_channels"]) == up), bases["2.0"])
    config = dict(base)
    config["latent_channels"] = shapes["decoder.conv_in.conv.weight"][1]

    def resnets(prefix: str) -> int:
        return _blocks(shapes, prefix + "resnets.")

    def width(prefix: str) -> int:
        return shapes[prefix + "resnets.0.conv1.conv.weight"][0]

    down = _blocks(shapes, "encoder.down_blocks.")
    if up != len(base["decoder_block_out_channels"]) or down != len(base["block_out_channels"]):
        raise NodeError(f"an LTX-2 video VAE with {down} encoder and {up} decoder levels is not one NodeFlow has a "
                        "config for (LTX-2.0's: 4 and 3, LTX-2.3's: 4 and 4)", field)
    config["block_out_channels"] = [width(f"encoder.down_blocks.{i}.") for i in range(1, down)] + \
        [width("encoder.mid_block.")]
    config["layers_per_block"] = [resnets(f"encoder.down_blocks.{i}.") for i in range(down)] + \
        [resnets("encoder.mid_block.")]
    factors = [int(f) for f in base["upsample_factor"]]
    # the decoder runs the levels from the last: up block n - 1 - i is level i's width / level i's factor
    config["decoder_block_out_channels"] = [width(f"decoder.up_blocks.{up - 1 - i}.") * factors[i] for i in range(up)]
    config["decoder_layers_per_block"] = [resnets(f"decoder.up_blocks.{i}.") for i in reversed(range(up))] + \
        [resnets("decoder.mid_block.")]
    return config


def video_vae(state: dict[str, Any], field: str) -> Any:
    """AutoencoderKLLTX2Video of video VAE weights in LTX-2's original names (under the checkpoint's `vae.`
    or bare), renamed by diffusers' converter; the config off the tensors (`vae_config`)."""
    from diffusers import AutoencoderKLLTX2Video
    from diffusers.loaders.single_file_utils import convert_ltx2_vae_to_diffusers

    from nodes.families import by_name
    from nodes.models._family_loader import _shipped

    family = by_name("ltx2")
    weights = {}
    for key, value in convert_ltx2_vae_to_diffusers(dict(state)).items():
        for old, new in DECODER_23_NAMES:  # LTX-2.3's fourth decoder level, which the converter leaves as it is
            key = new + key[len(old):] if key.startswith(old) else key
        weights[key] = value
    vae = AutoencoderKLLTX2Video(**vae_config({k: tuple(v.shape) for k, v in weights.items()},
                                              {"2.0": _shipped(family, "vae"), "2.3": _shipped(family, "vae_2_3")},
                                              field))
    vae.load_state_dict(weights)
    return vae


def load_vae_file(path: Path, device: str, dtype: Any, place: str) -> Any:
    """The VAE of a lone LTX-2 VAE file, as ComfyUI's VAELoader reads one: the video VAE (its weights bare,
    or under `vae.` in an all-in-one file), else the soundtrack's audio VAE and vocoder (`nodes.ltx2._audio`)."""
    from nodes.families import by_name
    from nodes.ltx2._audio import load_audio_vae
    from nodes.models._family_loader import ready
    from nodes.models._quantized import read_state_dict
    from nodes.models._quantized_headers import tensor_shapes
    from nodes.values import Vae

    family = by_name("ltx2")
    if not any(k.endswith(family.vae_file_keys[0]) for k in tensor_shapes(path)):
        return load_audio_vae(path, device, dtype, place, "vae")
    state = read_state_dict(path, "vae")
    if any(k.startswith(VAE_PREFIX) for k in state):
        state = {k: v for k, v in state.items() if k.startswith(VAE_PREFIX)}
    try:
        vae = video_vae(state, "vae")
    except (KeyError, ValueError, RuntimeError) as exc:
        raise NodeError(f"cannot load {path.name} as LTX-2's video VAE: {str(exc).splitlines()[0]}", "vae") from None
    return Vae(ready(vae.to(dtype=dtype).eval(), place), device, dtype, family=family.name)


def load_checkpoint_file(path: Path, device: str, dtype: Any, place: str) -> tuple[Any, Any, Any]:
    """(MODEL, CLIP, VAE) of an LTX-2 all-in-one file (see module doc). Its CLIP holds no encoder: using it
    says to load Gemma 3 with LTXAV Text Encoder Loader."""

    from nodes.families import by_name
    from nodes.models._family_loader import _shipped, make_model, ready
    from nodes.models._quantized import load_diffusers_model, read_state_dict
    from nodes.values import Clip, Vae

    family = by_name("ltx2")
    state = read_state_dict(path, "checkpoint")
    denoiser = {k[len(DENOISER_PREFIX):]: v for k, v in state.items() if k.startswith(DENOISER_PREFIX)}
    linked = linked_weights(denoiser)
    linked |= {_rename(k, CONNECTOR_NAMES): v for k, v in state.items() if k.startswith(PROJECTION_PREFIX)}
    vae_state = {k: v for k, v in state.items() if k.startswith(VAE_PREFIX)}
    if not denoiser or not linked or not vae_state:
        missing = [n for n, part in (("transformer", denoiser), ("text connectors", linked), ("video VAE", vae_state))
                   if not part]
        raise NodeError(f"{path.name} is an LTX-2 checkpoint without its {', '.join(missing)}", "checkpoint")
    try:
        weights = transformer_weights(denoiser)
        config = transformer_config({k: tuple(v.shape) for k, v in weights.items()}, _shipped(family, "transformer"))
        transformer = load_diffusers_model(family.denoiser, config, weights, dtype, "checkpoint")
        transformer.add_module("connectors", connectors_from(linked, dtype))
        vae = video_vae(vae_state, "checkpoint")
    except (KeyError, ValueError, RuntimeError) as exc:
        raise NodeError(f"cannot load {path.name} as an LTX-2 checkpoint: {str(exc).splitlines()[0]}",
                        "checkpoint") from None
    vae = Vae(ready(vae.to(dtype=dtype).eval(), place), device, dtype, family=family.name)
    clip = Clip(None, None, device, dtype, family=family.name)
    scheduler = _shipped(family, "scheduler", "scheduler_config.json")
    model = make_model(family, ready(transformer.eval(), place), scheduler, dict(vae.vae.config), device, dtype,
                       path.stem, vae)
    return model, clip, vae

