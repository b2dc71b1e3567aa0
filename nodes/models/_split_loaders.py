"""Loading one part of a model on its own (VAE, UNet, CLIP text encoder), all offline.

Each part comes as a diffusers component folder (config.json + weights) or a single file. A single
file has no config, so the shipped one of its architecture (`resources/configs/<arch>/<part>`) is
used, as for single-file checkpoints (`nodes.models._checkpoint`). Single files may use the original
("LDM") key names, with or without their prefix, or diffusers' own.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from nodeflow.core import NodeError
from nodes._latent_numbers import vae_picture_channels
from nodes._lazy import lazy
from nodes.models import _checkpoint
from nodes.models._checkpoint import _pipeline_fixes, architecture, read_state_dict
from nodes.models._precision import settle, vae_dtype
from nodes.models._sd_configs import sd_config
from nodes.models._tokenizers import clip_tokenizer
from nodes.values import Clip, Model, Vae

torch = lazy("torch")

#: Model family choice -> shipped config folder, for parts whose weights do not tell.
FAMILY_CONFIGS = {"sd": "sd15", "sd2": "sd21", "sdxl": "sdxl"}
_UNET_PREFIX = "model.diffusion_model."


def _config_folder(arch: str, part: str, field: str) -> Path:
    folder = _checkpoint.configs_dir() / arch
    if not (folder / part / "config.json").is_file():
        raise NodeError(f"no shipped {part} config for the {arch} architecture in {folder}", field)
    return folder


def _read(path: Path, field: str) -> dict[str, Any]:
    """`read_state_dict`, its errors naming this node's field."""
    try:
        return read_state_dict(path)
    except NodeError as exc:
        raise NodeError(str(exc), field) from None


def load_vae(path: Path, family: str, device: str, dtype: Any, place: str | None = None) -> Any:
    """A VAE from a diffusers folder or a single file (config of `family`), its weights at `place`
    (default: `device`, where it runs; the memory manager moves them there when needed). A folder of a
    family's soundtrack VAE (`Family.audio_vae`: MiniMax H3's) gives that family's audio VAE value; a file in
    a family's own layout (`Family.vae_file_keys`: LTX-2's video or audio VAE) is read by its adapter."""
    from diffusers import AutoencoderKL

    if path.is_dir() and (sound := _audio_vae_family(path)) is not None:
        import diffusers

        try:
            model = getattr(diffusers, sound.audio_vae).from_pretrained(path, torch_dtype=dtype, local_files_only=True)
        except (OSError, ValueError, KeyError, RuntimeError) as exc:
            raise NodeError(f"cannot load {path.name} as {sound.title}'s audio VAE: {exc}", "vae") from None
        return sound.module().audio_vae(settle(model, place or device, dtype), device, dtype)
    try:
        if path.is_dir():
            whole = (path / "model_index.json").is_file() and (path / "vae").is_dir()  # a pipeline folder
            cls = _folder_vae_class(path / "vae" if whole else path)
            vae = cls.from_pretrained(path, subfolder="vae" if whole else None, torch_dtype=dtype,
                                      local_files_only=True)
        elif (own := _own_layout_family(path)) is not None:  # read by its adapter: its own value
            return own.module().load_vae_file(path, device, dtype, place or device)
        elif (video := _video_vae_family(path, family)) is not None:
            vae = _video_vae(path, video, dtype)
        elif (patched := _patched_vae_family(path)) is not None:
            vae = _patched_vae(path, patched, dtype)
        else:
            keys = _header_keys(path)  # {} for a pickle, which is read whole
            if keys and not any(k.endswith("decoder.conv_in.weight") for k in keys):
                raise NodeError(f"{path.name} is not a VAE of a layout NodeFlow reads (AutoencoderKL's, Wan's, "
                                "LTX-2's...): it has no decoder.conv_in", "vae")
            folder = _config_folder(_vae_config(path, family), "vae", "vae")
            vae = AutoencoderKL.from_single_file(_read(path, "vae"), config=str(folder), subfolder="vae",
                                                 torch_dtype=dtype, local_files_only=True)
    except (OSError, ValueError, KeyError, RuntimeError) as exc:
        first = (str(exc).splitlines() or [type(exc).__name__])[0]
        raise NodeError(f"cannot load {path.name} as a VAE: {first}", "vae") from None
    dtype = vae_dtype(family, vae, dtype)
    return Vae(settle(vae, place or device, dtype), device, dtype, family=_video_family_of(vae))


def _video_family_of(vae: Any) -> str:
    """The declared video family whose VAE class this is (Wan's AutoencoderKLWan), else "": its VAE
    Encode takes an IMAGE batch as one video's frames (`nodes.values.Vae.temporal`). Of two families
    sharing a class (Wan 2.1's and Wan 2.2's VAE), the one of the VAE's latent channels."""
    from nodes._latent_numbers import vae_channels
    from nodes.families import FAMILIES

    named = [f for f in FAMILIES if f.is_video and f.vae == type(vae).__name__]
    channels = vae_channels(vae.config)
    return next((f.name for f in named if f.latent.channels == channels), named[0].name if named else "")


def _header_keys(path: Path) -> Any:
    from nodes.models._quantized_headers import tensor_shapes

    return tensor_shapes(path)


def _own_layout_family(path: Path) -> Any:
    """The declared family whose own lone VAE layout this file has (`Family.vae_file_keys`), else None."""
    from nodes.families import FAMILIES

    keys = _header_keys(path)
    return next((f for f in FAMILIES if f.vae_file_keys and any(k.endswith(f.vae_file_keys) for k in keys)), None)


def _audio_vae_family(folder: Path) -> Any:
    """The declared family whose soundtrack VAE class a folder's config names, else None."""
    from nodes.families import FAMILIES

    try:
        named = json.loads((folder / "config.json").read_text("utf-8")).get("_class_name", "")
    except (OSError, ValueError, AttributeError):
        return None
    return next((f for f in FAMILIES if f.audio_vae and f.audio_vae == named), None)


def _folder_vae_class(folder: Path) -> Any:
    """The diffusers class a VAE folder's config names, when it is AutoencoderKL or one a declared
    family uses (Flux.2's AutoencoderKLFlux2, Qwen-Image's video VAE); else AutoencoderKL."""
    import diffusers

    from nodes.families import FAMILIES

    try:
        named = json.loads((folder / "config.json").read_text("utf-8")).get("_class_name", "")
    except (OSError, ValueError, AttributeError):
        named = ""
    return getattr(diffusers, named if named in {f.vae for f in FAMILIES} else "AutoencoderKL")


def _patched_vae_family(path: Path) -> Any:
    """The declared family whose VAE batch-normalises 2x2-patched latents (Flux.2's: a `bn.` batch
    norm beside the encoder and decoder, as ComfyUI's flux2-vae files keep it), if this file is one."""
    from nodes.families import FAMILIES
    from nodes.models._quantized_headers import tensor_shapes

    if "bn.running_mean" not in tensor_shapes(path):
        return None
    return next((f for f in FAMILIES if f.vae == "AutoencoderKLFlux2"), None)


def _patched_vae(path: Path, family: Any, dtype: Any) -> Any:
    """Flux.2's VAE from one file: the encoder and decoder in the original names (converted by
    diffusers' AutoencoderKL converter) or diffusers' own, the batch norm as it is; block widths (the
    encoder's and a smaller decoder's) and the latent width read off the weights."""
    from diffusers.loaders.single_file_utils import convert_ldm_vae_checkpoint

    from nodes.models._quantized import load_diffusers_model
    from nodes.models._quantized import read_state_dict as read_weights

    config = json.loads((_checkpoint.configs_dir() / family.config / "vae" / "config.json").read_text("utf-8"))
    config = {k: v for k, v in config.items() if not k.startswith("_")}
    state = read_weights(path, "vae")
    norm = {k: v for k, v in state.items() if k.startswith("bn.")}
    if "encoder.down.0.block.0.conv1.weight" in state:  # the original names
        moved = (("decoder.post_quant_conv.", "post_quant_conv."), ("encoder.quant_conv.", "quant_conv."))
        state = {next((k.replace(a, b) for a, b in moved if k.startswith(a)), k): v
                 for k, v in state.items() if not k.startswith("bn.")}
        levels = len({k.split(".")[2] for k in state if k.startswith("encoder.down.")})
        config["block_out_channels"] = [int(state[f"encoder.down.{i}.block.0.conv2.weight"].shape[0])
                                        for i in range(levels)]
        decoder = [int(state[f"decoder.up.{i}.block.0.conv2.weight"].shape[0]) for i in range(levels)]
        config["decoder_block_out_channels"] = decoder if decoder != config["block_out_channels"] else None
        config["layers_per_block"] = len({k.split(".")[4] for k in state if k.startswith("encoder.down.0.block.")})
        config["latent_channels"] = int(state["decoder.conv_in.weight"].shape[1])
        for key in ("down_block_types", "up_block_types"):
            config[key] = config[key][:1] * levels
        state = convert_ldm_vae_checkpoint(state, config) | norm
    return load_diffusers_model(family.vae, config, state, dtype, "vae")


def _video_vae_family(path: Path, family: str) -> Any:
    """The declared family whose video VAE (Wan-style, RMS norms with `gamma`, 3D convolutions) a
    lone VAE file is: the one named, else the first whose VAE works on frames (ComfyUI's VAELoader
    names no family). None for an AutoencoderKL file."""
    from nodes.families import FAMILIES, by_comfy_clip_type
    from nodes.models._quantized_headers import tensor_shapes

    keys = tensor_shapes(path)
    if not any(k.endswith(("decoder.head.0.gamma", "decoder.norm_out.gamma")) for k in keys):
        return None
    conv_in = keys.get("encoder.conv_in.weight", keys.get("encoder.conv1.weight", [0, 3]))
    latent_in = keys.get("decoder.conv_in.weight", keys.get("decoder.conv1.weight"))
    def video(f: Any) -> bool:  # its shipped VAE config has frames (as `nodes.values.Vae.frames` tells),
        # takes the file's picture channels (Qwen Image 2.1's and Qwen-Image Layered's RGBA, the others' RGB)
        # and its latent channels (Qwen Image 2.1's 64, Qwen-Image Layered's 16)
        config = _checkpoint.configs_dir() / f.config / "vae" / "config.json"
        shipped = json.loads(config.read_text("utf-8")) if config.is_file() else {}
        return ("temperal_downsample" in shipped and vae_picture_channels(shipped) == int(conv_in[1])
                and (latent_in is None or int(shipped.get("z_dim", latent_in[1])) == int(latent_in[1])))

    named = [f for f in by_comfy_clip_type(family) if video(f)]
    return next(iter(named), None) or next((f for f in FAMILIES if video(f)), None)


def _video_vae(path: Path, family: Any, dtype: Any) -> Any:
    """A video VAE (Wan 2.1's, Wan 2.2's, Qwen-Image's) from one file in Wan's original key names (ComfyUI's
    wan_2.1_vae, wan2.2_vae and qwen_image_vae.safetensors), converted by diffusers' Wan VAE converter (Wan
    2.2's nested blocks by `_vae_layouts`), or in diffusers' own."""
    from diffusers.loaders.single_file_utils import convert_wan_vae_to_diffusers

    from nodes.models._quantized import load_diffusers_model
    from nodes.models._quantized import read_state_dict as read_weights
    from nodes.models._vae_layouts import is_wan22_original, wan22_vae_to_diffusers

    config = json.loads((_checkpoint.configs_dir() / family.config / "vae" / "config.json").read_text("utf-8"))
    state = read_weights(path, "vae")
    if is_wan22_original(state):  # the Wan 2.2 VAE's nested blocks, which diffusers' converter does not read
        state = wan22_vae_to_diffusers(state)
    elif "encoder.conv1.weight" in state:  # Wan 2.1's original names
        state = convert_wan_vae_to_diffusers(state)
    config = {k: v for k, v in config.items() if not k.startswith("_")}
    if "encoder.conv_in.weight" in state and "decoder.conv_in.weight" in state:  # widths read off the weights
        config["base_dim"] = int(state["encoder.conv_in.weight"].shape[0])
        config["z_dim"] = int(state["decoder.conv_in.weight"].shape[1])
        if config.get("decoder_base_dim"):  # Qwen Image 2.1's wider decoder: its first width over the last multiple
            config["decoder_base_dim"] = int(state["decoder.conv_in.weight"].shape[0]) // config["dim_mult"][-1]
    return load_diffusers_model(family.vae, config, state, dtype, "vae")


def _vae_config(path: Path, family: str) -> str:
    """The shipped config folder for a single-file VAE: its family's; a 16-channel VAE named with an
    SD family (ComfyUI's VAELoader says no family) is Flux's, whose VAE the flow families share."""
    from nodes.families import by_comfy_clip_type
    from nodes.models._weights import safetensors_header

    declared = by_comfy_clip_type(family)
    if declared:
        return declared[0].config
    conv_in = safetensors_header(path).get("decoder.conv_in.weight", {}).get("shape", [0, 4])
    if len(conv_in) > 1 and conv_in[1] == 16:
        return by_comfy_clip_type("flux")[0].config
    return FAMILY_CONFIGS[family]


def load_unet(path: Path, device: str, dtype: Any, weight_dtype: str = "default", place: str | None = None) -> Model:
    """A denoising UNet alone; sampling settings and latent size come from its architecture's configs.
    A denoiser of a declared family (Flux, SD3, ...) is recognised from its weights and loaded as one.
    Its weights go to `place` (default: `device`)."""
    from diffusers import UNet2DConditionModel

    from nodes.models import _family_loader

    family = _family_loader.path_family(path)
    if family is not None:
        return _family_loader.load_unet(family, path, device, dtype, weight_dtype, place)

    try:
        if path.is_dir():
            unet = UNet2DConditionModel.from_pretrained(path, torch_dtype=dtype, local_files_only=True)
            arch = sd_config(unet.state_dict())
        else:
            state = _read(path, "unet")
            if not any(k.startswith(_UNET_PREFIX) for k in state) and "conv_in.weight" not in state:
                state = {_UNET_PREFIX + k: v for k, v in state.items()}  # ComfyUI's bare diffusion_models
            if "conv_in.weight" in state:  # diffusers' own key names
                arch = sd_config(state)
                config = UNet2DConditionModel.load_config(_config_folder(arch, "unet", "unet"), subfolder="unet")
                unet = UNet2DConditionModel.from_config(config)
                unet.load_state_dict(state)
                unet.to(dtype=dtype)
            else:
                arch = architecture(state)
                unet = UNet2DConditionModel.from_single_file(state, config=str(_config_folder(arch, "unet", "unet")),
                                                             subfolder="unet", torch_dtype=dtype,
                                                             local_files_only=True)
    except NodeError as exc:
        raise NodeError(str(exc), "unet") from None
    except (OSError, ValueError, KeyError, RuntimeError) as exc:
        raise NodeError(f"cannot load {path.name} as a UNet: {exc}", "unet") from None
    settle(unet, place or device)
    folder = _checkpoint.configs_dir() / arch
    scheduler = json.loads((folder / "scheduler" / "scheduler_config.json").read_text("utf-8"))
    vae = json.loads((folder / "vae" / "config.json").read_text("utf-8"))
    return Model(
        unet=unet,
        scheduler_config={k: v for k, v in _pipeline_fixes(scheduler).items() if not k.startswith("_")},
        vae_scale_factor=2 ** (len(vae["block_out_channels"]) - 1),
        latent_channels=int(vae["latent_channels"]),
        device=device, dtype=dtype, name=path.stem,
        family="sdxl" if arch == "sdxl" else "sd",
    )


def _text_encoder(path: Path, cls: Any, arch: str, part: str, dtype: Any, field: str) -> Any:
    """A CLIP text encoder from a folder, or a single file of transformers-style keys."""
    if path.is_dir():
        return cls.from_pretrained(path, dtype=dtype, local_files_only=True)
    config = cls.config_class.from_pretrained(_config_folder(arch, part, field) / part)
    encoder = cls(config)
    state = _read(path, field)
    own = set(encoder.state_dict())
    mapped = {}
    for key, value in state.items():  # strip the wrappers other tools add: cond_stage_model, transformer...
        for prefix in ("cond_stage_model.transformer.", "conditioner.embedders.0.transformer.", "transformer.", ""):
            if key.startswith(prefix):
                rest = key[len(prefix):]
                for candidate in (rest, rest.removeprefix("text_model."), "text_model." + rest):
                    if candidate in own:
                        mapped[candidate] = value
                        break
                break
    missing = own - set(mapped) - {k for k in own if k.endswith("position_ids")}
    if missing:
        raise NodeError(f"{path.name} is not a {arch} {part} (missing e.g. {sorted(missing)[0]})", field)
    encoder.load_state_dict(mapped, strict=False)
    return encoder.to(dtype=dtype)


def load_clip(path: Path, path_2: Path | None, family: str, device: str, dtype: Any, place: str | None = None
              ) -> Clip:
    """CLIP text encoder(s) and tokenizer(s): one for SD 1.x/2.x, CLIP-L + OpenCLIP bigG for SDXL;
    their weights at `place` (default: `device`)."""
    from transformers import CLIPTextModel, CLIPTextModelWithProjection

    arch = FAMILY_CONFIGS[family]
    try:
        encoder = _text_encoder(path, CLIPTextModel, arch, "text_encoder", dtype, "clip_name")
        tokenizer = clip_tokenizer(path, arch, configs=_checkpoint.configs_dir())
        encoder_2 = tokenizer_2 = None
        if family == "sdxl":
            if path_2 is None:
                raise NodeError("SDXL needs its second text encoder (OpenCLIP bigG) as clip_name_2", "clip_name_2")
            encoder_2 = _text_encoder(path_2, CLIPTextModelWithProjection, arch, "text_encoder_2", dtype,
                                      "clip_name_2")
            tokenizer_2 = clip_tokenizer(path_2, arch, "tokenizer_2", _checkpoint.configs_dir())
    except (OSError, ValueError, RuntimeError) as exc:
        raise NodeError(f"cannot load {path.name} as a text encoder: {exc}", "clip_name") from None
    for module in (encoder, encoder_2):
        if module is not None:
            settle(module, place or device)
    return Clip(tokenizer, encoder, device, dtype, tokenizer_2, encoder_2)
