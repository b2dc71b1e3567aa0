"""Loading the parts of a declared family (`nodes.families`): denoiser, text encoders, VAE.

Everything is read from the family's declaration (denoiser class, each text encoder's part, classes, tokenizer);
the values are the MODEL / CLIP / VAE SD checkpoints give, `family` set so that sampling asks the family.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from nodeflow.core import NodeError
from nodeflow.core.paths import RESOURCES
from nodes._lazy import lazy
from nodes.families import Family, by_name, detect
from nodes.values import Clip, Model, Vae, vae_channels, vae_scale

torch = lazy("torch")

#: The configs a single file lacks, per family (`Family.config` names the folder).
CONFIGS = RESOURCES / "configs"


def _header_shapes(folder: Path) -> dict[str, Any]:
    from nodes.models._weights import safetensors_header

    shapes: dict[str, Any] = {}
    for file in sorted(folder.glob("*.safetensors")):
        shapes |= {k: v.get("shape", []) for k, v in safetensors_header(file).items()}
    return shapes


def folder_family(path: Path) -> Family | None:
    """The family of a diffusers pipeline folder, from its denoiser's weights (None: an SD UNet)."""
    for part in ("transformer", "unet"):
        if (path / part).is_dir():
            return detect(_header_shapes(path / part))
    return None


def ready(module: Any, place: str) -> Any:
    from nodes.models._precision import settle

    return settle(module, place)


def load_denoiser(family: Family, path: Path, dtype: Any, place: str, subfolder: str | None = None) -> Any:
    import diffusers

    cls = getattr(diffusers, family.denoiser)
    return ready(cls.from_pretrained(path, subfolder=subfolder, torch_dtype=dtype, local_files_only=True), place)


def load_encoders(family: Family, folders: dict[str, Path], device: str, dtype: Any, place: str) -> Clip:
    """A CLIP value holding the family's text encoders; `folders` maps each part name to a diffusers
    folder holding `<part>/` and `<tokenizer part>/` (a pipeline folder) or the part itself."""
    import transformers

    parts: dict[str, Any] = {}
    for spec in family.encoders:
        folder = folders[spec.part]
        tokenizer_part = spec.part.replace("text_encoder", "tokenizer")
        sub = spec.part if (folder / spec.part).is_dir() else None
        # a vision-language pipeline's tokenizer lives in its processor (QwenImage21Pipeline's `processor/`)
        tok_sub = tokenizer_part if (folder / tokenizer_part).is_dir() else "processor" if (
            folder / "processor" / "tokenizer_config.json").is_file() else None
        if tok_sub is None and not (folder / "tokenizer_config.json").is_file():
            raise NodeError(f"no tokenizer for the {spec.comfy_name or spec.part} text encoder in {folder}",
                            "clip_name")
        encoder = getattr(transformers, spec.model).from_pretrained(folder, subfolder=sub, dtype=dtype,
                                                                    local_files_only=True)
        tokenizer = getattr(transformers, spec.tokenizer).from_pretrained(folder, subfolder=tok_sub,
                                                                          local_files_only=True)
        parts[spec.part] = ready(encoder, place)
        parts[tokenizer_part] = tokenizer
    first = family.encoders[0]
    rest = {k: v for k, v in parts.items() if k not in (first.part, first.part.replace("text_encoder", "tokenizer"))}
    return Clip(parts[first.part.replace("text_encoder", "tokenizer")], parts[first.part], device, dtype,
                family=family.name, **rest)


def load_vae(folder: Path, subfolder: str | None, device: str, dtype: Any, place: str,
             class_name: str = "AutoencoderKL", family: str = "") -> Vae:
    import diffusers

    vae = getattr(diffusers, class_name).from_pretrained(folder, subfolder=subfolder, torch_dtype=dtype,
                                                         local_files_only=True)
    if (spec := by_name(family)) is not None and spec.audio_vae == class_name:  # its own VAE makes sound (SA3's)
        return spec.module().audio_vae(ready(vae, place), device, dtype)
    return Vae(ready(vae, place), device, dtype, family=family)


def scheduler_config(folder: Path) -> dict[str, Any]:
    config = json.loads((folder / "scheduler_config.json").read_text("utf-8"))
    return {k: v for k, v in config.items() if not k.startswith("_")}


def make_model(family: Family, denoiser: Any, scheduler: dict[str, Any], vae_config: dict[str, Any], device: str,
               dtype: Any, name: str, vae: Vae | None = None, clip: Clip | None = None) -> Model:
    return Model(unet=denoiser, scheduler_config=scheduler,
                 vae_scale_factor=vae_scale(vae_config),
                 latent_channels=vae_channels(vae_config) if vae_config else family.latent.channels,
                 device=device, dtype=dtype, name=name, family=family.name, vae=vae, clip=clip)


def load_pipeline_folder(family: Family, path: Path, device: str, dtype: Any,
                         place: str) -> tuple[Model, Clip, Vae]:
    """A whole diffusers pipeline folder of a declared family (FluxPipeline.save_pretrained's layout)."""
    try:
        denoiser = load_denoiser(family, path, dtype, place, "transformer")
        extra = getattr(family.module(), "folder_parts", None)  # parts the denoiser runs (LTX-2's connectors)
        if extra is not None:
            extra(path, denoiser, dtype)
        clip = load_encoders(family, {e.part: path for e in family.encoders}, device, dtype, place)
        vae = load_vae(path, "vae", device, dtype, place, family.vae, family.name)
        scheduler = scheduler_config(path / "scheduler")
        folder_rule = getattr(family.module(), "folder_scheduler", None)  # schedule options model_index.json holds
        scheduler = folder_rule(path, scheduler) if folder_rule is not None else scheduler
    except (OSError, ValueError) as exc:
        raise NodeError(f"cannot load the {family.title} model in {path}: {exc}", "checkpoint") from None
    model = make_model(family, denoiser, scheduler, dict(vae.vae.config), device, dtype, path.name, vae, clip)
    return model, clip, vae


def _shipped(family: Family, part: str, name: str = "config.json") -> dict[str, Any]:
    path = CONFIGS / family.config / part / name
    if not path.is_file():
        raise NodeError(f"no shipped {part} config for {family.title} in {path.parent}", "unet")
    return {k: v for k, v in json.loads(path.read_text("utf-8")).items() if not k.startswith("_")}


def denoiser_folder(path: Path) -> Path:
    """A whole pipeline folder named where a lone denoiser is expected: its transformer (or UNet)."""
    if path.is_dir() and (path / "model_index.json").is_file():
        return next((path / p for p in ("transformer", "unet") if (path / p).is_dir()), path)
    return path


def path_family(path: Path) -> Family | None:
    """The family of a lone denoiser (a diffusers component folder or a single file), or None."""
    from nodes.models._quantized_headers import tensor_shapes

    path = denoiser_folder(path)
    if path.is_dir():
        return detect(_header_shapes(path))
    if path.suffix.lower() not in (".safetensors", ".gguf"):
        return None
    arch = str(_metadata(path).get("modelspec.architecture", "")) if path.suffix.lower() == ".safetensors" else ""
    return detect(tensor_shapes(path), arch)


def _metadata(path: Path) -> dict[str, Any]:
    """A .safetensors file's `__metadata__` ({} if none)."""
    from safetensors import safe_open

    try:
        with safe_open(str(path), "pt") as handle:
            return dict(handle.metadata() or {})
    except Exception:  # not a readable safetensors file: the loader says so with its own words
        return {}


def converter_state(family: Family, state: dict[str, Any], config: dict[str, Any]) -> dict[str, Any]:
    """A lone denoiser's weights as diffusers' converter of its class takes them: as they are, or as the
    family's adapter prepares them where the converter assumes the published model's sizes (its
    `denoiser_state`: Lumina 2's fused qkv, split by the config's head counts)."""
    prepare = getattr(family.module(), "denoiser_state", None)
    return prepare(state, config) if prepare is not None else state


def load_unet(family: Family, path: Path, device: str, dtype: Any, weight_dtype: str = "default",
              place: str | None = None) -> Model:
    """A lone denoiser of `family` (ComfyUI's UNETLoader): a diffusers folder, or a single file in the
    original or diffusers key names whose config is the shipped one with the sizes read off the
    weights. `weight_dtype` keeps linear weights stored in fp8 (computed in `dtype`). The weights go
    to `place` (default: `device`)."""
    from nodes.families import bare_shapes
    from nodes.models._quantized import load_diffusers_model, read_state_dict, store_linears
    from nodes.models._quantized_headers import tensor_shapes

    adapter = family.module()
    path = denoiser_folder(path)
    try:
        if path.is_dir():
            denoiser = load_denoiser(family, path, dtype, "cpu")
        else:
            shapes = bare_shapes(tensor_shapes(path))
            config = adapter.denoiser_config(shapes, _shipped(family, "transformer"))
            state = read_state_dict(path, "unet")
            prefix = next((p for p in ("model.diffusion_model.", "diffusion_model.") if any(
                k.startswith(p) for k in state)), "")
            state = {k[len(prefix):]: v for k, v in state.items() if k.startswith(prefix)}
            denoiser = load_diffusers_model(family.denoiser, config, converter_state(family, state, config), dtype,
                                            "unet")
            denoiser = getattr(adapter, "denoiser_ready", lambda model, _: model)(denoiser, state)  # its own form
    except (OSError, ValueError, KeyError, RuntimeError) as exc:
        raise NodeError(f"cannot load {path.name} as a {family.title} model: {exc}", "unet") from None
    store_linears(denoiser, weight_dtype, dtype)
    ready(denoiser, place or device)
    scheduler = adapter.scheduler_config(denoiser, _shipped(family, "scheduler", "scheduler_config.json"))
    return make_model(family, denoiser, scheduler, _shipped(family, "vae"), device, dtype, path.stem)


# ------------------------------------------------------------------------------ text encoders


def _spec_kind(spec: Any) -> str:
    """The kind of file a declared text encoder is loaded from: "t5", "clip", or "lm:<model type>" for a
    language model (Qwen3, Qwen2.5-VL, Gemma 2, T5Gemma...)."""
    from nodes.models._language_encoders import model_type_of

    kind = model_type_of(spec.model)  # by its model type: T5Gemma is a language model, not a T5
    if kind in ("t5", "umt5"):
        return "t5"
    return "clip" if kind.startswith("clip") else "lm:" + kind


def _encoder_kind(path: Path) -> tuple[str, int]:
    """("t5", "clip" or "lm:<model type>", width) of a text encoder file or folder, read from its
    config or header."""
    from nodes.models._language_encoders import language_model_type
    from nodes.models._weights import safetensors_header

    if path.is_dir():
        language = language_model_type(path)
        if language and language not in ("t5", "umt5", "clip_text_model", "clip"):
            return "lm:" + language, 0
        config = json.loads((path / "config.json").read_text("utf-8")) if (path / "config.json").is_file() else {}
        kind = "t5" if config.get("model_type") in ("t5", "umt5") else "clip"
        return kind, int(config.get("d_model", config.get("hidden_size", 0)))
    # T5 and CLIP are told by their token tables first: CLIP's attention has q_proj biases too,
    # which the language models' key markers would take for Qwen2's.
    shapes = {k: v.get("shape", []) for k, v in safetensors_header(path).items()}
    t5 = next((s for k, s in shapes.items() if k.endswith("shared.weight")), None)
    if t5 is not None:
        return "t5", int(t5[1])
    clip = next((s for k, s in shapes.items() if k.endswith("token_embedding.weight")), None)
    if clip is not None:
        return "clip", int(clip[1])
    language = language_model_type(path)
    if language:
        return "lm:" + language, 0
    raise NodeError(f"{path.name} is neither a CLIP, a T5 nor a language-model text encoder", "clip_name")


def _count(shapes: dict[str, Any], marker: str) -> int:
    return len({k.split(marker, 1)[1].split(".", 1)[0] for k in shapes if marker in k})


def _encoder_config(kind: str, shapes: dict[str, Any], base: dict[str, Any]) -> dict[str, Any]:
    """The shipped config of an encoder with its sizes read off the weights (tensor shapes)."""
    config = dict(base)
    shape = {k.split("text_model.", 1)[-1]: v for k, v in shapes.items()}
    if kind == "t5":
        config["vocab_size"], config["d_model"] = shape.get("shared.weight") or shape["encoder.embed_tokens.weight"]
        config["num_layers"] = _count(shape, "encoder.block.")
        config["d_ff"] = shape["encoder.block.0.layer.1.DenseReluDense.wi_0.weight"][0]
        buckets, heads = shape["encoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight"]
        config["relative_attention_num_buckets"], config["num_heads"] = buckets, heads
        config["d_kv"] = shape["encoder.block.0.layer.0.SelfAttention.q.weight"][0] // heads
        return config
    config["vocab_size"], config["hidden_size"] = shape["embeddings.token_embedding.weight"]
    config["max_position_embeddings"] = shape["embeddings.position_embedding.weight"][0]
    config["num_hidden_layers"] = _count(shape, "encoder.layers.")
    config["intermediate_size"] = shape["encoder.layers.0.mlp.fc1.weight"][0]
    if "text_projection.weight" in shapes:
        config["projection_dim"] = shapes["text_projection.weight"][0]
    if config["hidden_size"] != base.get("hidden_size"):
        config["num_attention_heads"] = max(1, config["hidden_size"] // 64)
    return config


def _tokenizer(family: Family, spec: Any, path: Path, kind: str) -> Any:
    """The tokenizer of one of `family`'s encoders held at `path` (a folder with its own, or found
    beside it / shipped, as `nodes.models._tokenizers` says)."""
    import transformers

    from nodes.models._tokenizers import clip_tokenizer

    if kind == "t5":
        from nodes.models._tokenizers import t5_tokenizer

        return t5_tokenizer(path, family, spec.part)
    if path.is_dir() and (path / "tokenizer_config.json").is_file():
        return getattr(transformers, spec.tokenizer).from_pretrained(path, local_files_only=True)
    return clip_tokenizer(path, family.config, spec.part.replace("text_encoder", "tokenizer"), CONFIGS)


def encoder_from_state(family: Family, spec: Any, kind: str, state: dict[str, Any], tokenizer: Any, dtype: Any,
                       field: str) -> Any:
    """A text encoder built from the shipped config with its sizes read off `state` (transformers key
    names, with or without the `transformer.` / `text_model.` levels other tools add) and the special
    token ids of the tokenizer it is used with (CLIP pools at the end-of-text token)."""
    import transformers
    from accelerate import init_empty_weights

    from nodes.models._quantized import load_into

    cls = getattr(transformers, spec.model)
    shapes = {k.removeprefix("transformer."): tuple(v.shape) for k, v in state.items()}
    config = _encoder_config(kind, shapes, _shipped(family, spec.part))
    for name in ("bos_token_id", "eos_token_id", "pad_token_id"):
        if getattr(tokenizer, name, None) is not None and kind == "clip":
            config[name] = getattr(tokenizer, name)
    with init_empty_weights():
        encoder = cls(cls.config_class(**config))
    own = set(encoder.state_dict())
    mapped = {}
    for key, value in state.items():
        for candidate in (key, key.removeprefix("transformer."), "text_model." + key.removeprefix("text_model."),
                          "text_model." + key.removeprefix("transformer.").removeprefix("text_model.")):
            if candidate in own:
                mapped[candidate] = value
                break
    if "shared.weight" in own:  # T5's token table is tied: files keep it under either name
        table = mapped.get("shared.weight", mapped.get("encoder.embed_tokens.weight"))
        mapped["shared.weight"] = mapped["encoder.embed_tokens.weight"] = table
    return load_into(encoder, mapped, dtype, field)


def user_tokenizers(family: Family, spec: Any) -> Path:
    """Where a user puts the tokenizer of one of `family`'s language-model encoders that NodeFlow does
    not ship (models/tokenizers/<family config>/<tokenizer part>/)."""
    from nodeflow.core.paths import user_models_dir

    return user_models_dir() / "tokenizers" / family.config / spec.part.replace("text_encoder", "tokenizer")


def _one_encoder(family: Family, spec: Any, path: Path, kind: str, dtype: Any, place: str) -> tuple[Any, Any]:
    import transformers

    if kind.startswith("lm:"):
        from nodes.models._language_encoders import language_tokenizer, load_language_model, picture_tokens

        encoder = load_language_model(spec.model, path, CONFIGS / family.config / spec.part, dtype, "clip_name")
        tokenizer = language_tokenizer(path, spec.tokenizer, user_tokenizers(family, spec), "clip_name")
        return tokenizer, ready(picture_tokens(encoder, tokenizer), place)
    tokenizer = _tokenizer(family, spec, path, kind)
    if path.is_dir():
        encoder = getattr(transformers, spec.model).from_pretrained(path, dtype=dtype, local_files_only=True)
    else:
        from nodes.models._quantized import read_state_dict

        encoder = encoder_from_state(family, spec, kind, read_state_dict(path, "clip_name"), tokenizer, dtype,
                                     "clip_name")
    return tokenizer, ready(encoder, place)


def fits(family: Family, paths: list[Path]) -> bool:
    """Whether these text encoder files are the kinds `family` takes (ComfyUI names two families'
    encoders alike: CLIPLoader type lumina2 loads Lumina 2's Gemma and Z-Image's Qwen3)."""
    try:
        given = sorted(_encoder_kind(p)[0] for p in paths)
    except NodeError:
        return False
    return given == sorted(_spec_kind(e) for e in family.encoders)


def load_clip(family: Family, paths: list[Path], device: str, dtype: Any, place: str | None = None) -> Clip:
    """A family's text encoders from one to three files or folders, in any order (ComfyUI's CLIP
    loaders): each is matched to the family's encoders by kind (T5 or CLIP), CLIPs by width; their
    weights at `place` (default: `device`). A family whose files hold more than its encoders loads them itself
    (its adapter's `load_text_encoder_files`: LTX-2.5's Gemma 4 with LTX's text projection)."""
    own = getattr(family.module(), "load_text_encoder_files", None)
    if own is not None:
        return own(paths, device, dtype, place or device)
    found = [(p, *_encoder_kind(p)) for p in paths]
    parts: dict[str, Any] = {}
    for kind in dict.fromkeys(_spec_kind(e) for e in family.encoders):
        specs = [e for e in family.encoders if _spec_kind(e) == kind]
        given = sorted((f for f in found if f[1] == kind), key=lambda f: f[2])
        if len(given) != len(specs):
            names = ", ".join(e.comfy_name for e in family.encoders)
            raise NodeError(f"{family.title} needs {len(family.encoders)} text encoder(s) ({names}); got "
                            f"{len(given)} {kind.upper()} file(s) for its {len(specs)} {kind.upper()} encoder(s)",
                            "clip_name")
        for spec, (path, _, _) in zip(specs, given, strict=True):
            try:
                tokenizer, encoder = _one_encoder(family, spec, path, kind, dtype, place or device)
            except (OSError, ValueError, KeyError, RuntimeError) as exc:
                raise NodeError(f"cannot load {path.name} as {family.title}'s {spec.comfy_name}: {exc}",
                                "clip_name") from None
            parts[spec.part], parts[spec.part.replace("text_encoder", "tokenizer")] = encoder, tokenizer
    first = family.encoders[0].part
    first_tok = first.replace("text_encoder", "tokenizer")
    rest = {k: v for k, v in parts.items() if k not in (first, first_tok)}
    return Clip(parts[first_tok], parts[first], device, dtype, family=family.name, **rest)
