"""Language-model text encoders (Qwen2.5-VL, Qwen3, Qwen3-VL, Mistral 3, Gemma 2), loaded through
transformers from the files ComfyUI users keep in `text_encoders/`, or from a diffusers folder.

A folder (a diffusers pipeline's `text_encoder/`, or a transformers model folder) loads with
`from_pretrained`. A single file holds weights only: the model is built from the config shipped
for its family (`resources/configs/<family>/<part>/config.json`) on the meta device, then filled
from the file, whatever its key names:

- the original checkpoint names ComfyUI's files keep (`model.layers.N...`, `visual...`, `lm_head`)
  are renamed by transformers' own checkpoint conversion mapping, as `from_pretrained` would (ComfyUI's
  own names for Gemma 3, `model.layers.N...` and `vision_model...`, first put back to the original's);
- a GGUF file of llama.cpp's names (`blk.N.attn_q.weight`, what CLIPLoaderGGUF loads) is mapped
  back by the `gguf` package's tensor name map of its architecture;
- fp8, fp8 scaled, int8 and GGUF weights stay stored (`nodes.models._quantized`).

Tensors the model class does not have (an LM head beside a model without one, a vision tower a
text-only class lacks) are left out; every tensor the model needs must be in the file.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from nodeflow.core import NodeError
from nodes._lazy import lazy
from nodes.models import _quantized

torch = lazy("torch")

#: llama.cpp architectures whose tensors are stored as the checkpoint has them. Others are not
#: (llama and mistral permute q/k for their rotary layout, gemma adds 1 to its norms) and are
#: refused rather than loaded wrong.
GGUF_AS_STORED = ("qwen2", "qwen2vl", "qwen3", "qwen3vl")


def load_language_model(class_name: str, path: Path, config_dir: Path | None, dtype: Any, field: str) -> Any:
    """The transformers model `class_name` from a folder or a single file (see module doc);
    `config_dir` holds the `config.json` a single file is built from. Errors name `field`."""
    import transformers

    cls = getattr(transformers, class_name)
    if path.is_dir():
        try:
            return cls.from_pretrained(path, dtype=dtype, local_files_only=True).eval().requires_grad_(False)
        except (OSError, ValueError) as exc:
            raise NodeError(f"cannot load {path.name} as a {class_name}: {str(exc).splitlines()[0]}", field) from None
    if config_dir is None or not (config_dir / "config.json").is_file():
        raise NodeError(f"no config for a {class_name} to build {path.name} with (looked in {config_dir})", field)
    from nodes.models._quantized_headers import tensor_shapes

    arch = gguf_architecture(path, field) if path.suffix.lower() == ".gguf" else ""
    return language_model_from_state(class_name, _quantized.read_state_dict(path, field), tensor_shapes(path),
                                     config_dir, dtype, field, arch)


def language_model_from_state(class_name: str, state: dict[str, Any], shapes: dict[str, list[int]],
                              config_dir: Path, dtype: Any, field: str, gguf_arch: str = "") -> Any:
    """The transformers model `class_name` from weights already read (a file's, or an all-in-one
    checkpoint's part) of these tensor `shapes`: the shipped config in `config_dir` sized by them, the
    weights' names as `load_language_model` takes them (`gguf_arch`: llama.cpp's, of that architecture)."""
    import transformers

    cls = getattr(transformers, class_name)
    config = sized_config(cls.config_class.from_pretrained(config_dir), shapes)
    model = empty_model(cls, config, dtype)
    if gguf_arch:
        state = from_llama_cpp_names(state, gguf_arch, model, field)
    state = transformers_names(model, comfyui_names(model, state), field)
    return _quantized.load_into(model, state, dtype, field, extra="ignore").eval()


def empty_model(cls: Any, config: Any, dtype: Any) -> Any:
    """`cls` built from `config` on the meta device (weights come from the file), in `dtype`."""
    from accelerate import init_empty_weights

    with init_empty_weights():
        model = cls._from_config(config, dtype=dtype)
    return model


#: ComfyUI's own names for the parts of a vision-language model whose original checkpoint names differ
#: (Gemma 3: `model.layers.N...`, `vision_model...` for the checkpoint's `language_model.model...`,
#: `vision_tower.vision_model...`), by transformers model type: (ComfyUI prefix, original prefix).
_COMFYUI_PREFIXES = {"gemma3": (("model.", "language_model.model."), ("vision_model.", "vision_tower.vision_model."))}
#: Prefixes that are already transformers' own names (not ComfyUI's `model.`).
_OWN_PREFIXES = ("model.language_model.", "model.vision_tower.", "model.multi_modal_projector.")


def comfyui_names(model: Any, state: dict[str, Any]) -> dict[str, Any]:
    """`state` with ComfyUI's names of `model`'s type renamed to the original checkpoint's (see
    `_COMFYUI_PREFIXES`), which transformers' own conversion then takes; other names as they are."""
    prefixes = _COMFYUI_PREFIXES.get(str(getattr(model.config, "model_type", "")), ())
    renamed = {}
    for key, value in state.items():
        if not key.startswith(_OWN_PREFIXES):
            key = next((new + key[len(old):] for old, new in prefixes if key.startswith(old)), key)
        renamed[key] = value
    return renamed


def transformers_names(model: Any, state: dict[str, Any], field: str) -> dict[str, Any]:
    """`state` with the original checkpoint names renamed as transformers' `from_pretrained` does
    (its checkpoint conversion mapping, the base-model prefix added or dropped)."""
    from transformers.conversion_mapping import get_model_conversion_mapping
    from transformers.core_model_loading import WeightConverter, WeightRenaming, rename_source_key

    transforms = get_model_conversion_mapping(model)
    renamings = [t for t in transforms if isinstance(t, WeightRenaming)]
    converters = [t for t in transforms if isinstance(t, WeightConverter)]
    own = model.state_dict()
    renamed = {}
    for key, value in state.items():
        new, converter = rename_source_key(key, renamings, converters, model.base_model_prefix, own)
        if converter is not None:
            raise NodeError(f"{key} needs a weight conversion ({converter}) that a text encoder file should not", field)
        renamed[new] = value
    return renamed


def gguf_architecture(path: Path, field: str) -> str:
    """The llama.cpp architecture a GGUF file declares (`general.architecture`), if NodeFlow can
    load its tensors as stored."""
    from gguf import GGUFReader

    try:
        reader = GGUFReader(path)
        arch_field = reader.get_field("general.architecture")
        arch = arch_field.contents() if arch_field is not None else ""
    except (OSError, ValueError, KeyError, IndexError) as exc:
        raise NodeError(f"cannot read {path.name} as GGUF: {exc}", field) from None
    if arch not in GGUF_AS_STORED:
        raise NodeError(f"{path.name} is a GGUF text encoder of architecture {arch or 'unknown'}; "
                        f"NodeFlow loads {', '.join(GGUF_AS_STORED)} GGUF text encoders", field)
    return arch


def from_llama_cpp_names(state: dict[str, Any], arch: str, model: Any, field: str) -> dict[str, Any]:
    """llama.cpp tensor names (`blk.0.attn_q.weight`) -> the model's own, through the `gguf`
    package's name map of `arch` (which knows every checkpoint naming of that architecture)."""
    import gguf

    arch_id = next(a for a, name in gguf.MODEL_ARCH_NAMES.items() if name == arch)
    layers = int(getattr(model.config, "num_hidden_layers", 0) or model.config.get_text_config().num_hidden_layers)
    names = gguf.get_tensor_name_map(arch_id, layers)
    wanted: dict[str, str] = {}
    for key in model.state_dict():
        parts = key.split(".")
        suffixes = ("." + parts[-1],)  # llama.cpp keeps it: blk.0.attn_q.weight
        for start in range(len(parts) - 1):
            candidate = ".".join(parts[start:])
            found = names.get_name(candidate, try_suffixes=suffixes)
            if found is None and start:
                found = names.get_name("model." + candidate, try_suffixes=suffixes)
            if found is not None:
                wanted.setdefault(found, key)
                break
    renamed = {wanted[k]: v for k, v in state.items() if k in wanted}
    if not renamed:
        raise NodeError(f"none of the GGUF file's tensors are {type(model).__name__} weights", field)
    return renamed


#: The config fields of a Qwen-VL text encoder that name its picture tokens, and those tokens.
_PICTURE_TOKENS = (("image_token_id", "<|image_pad|>"), ("video_token_id", "<|video_pad|>"),
                   ("vision_start_token_id", "<|vision_start|>"), ("vision_end_token_id", "<|vision_end|>"))


def picture_tokens(encoder: Any, tokenizer: Any) -> Any:
    """A vision-language encoder told its tokenizer's picture token ids (it finds a prompt's pictures by
    them; a shipped config names the released tokenizer's, a tokenizer beside the file may differ)."""
    config = encoder.config
    for name, token in _PICTURE_TOKENS:
        found = tokenizer.convert_tokens_to_ids(token) if hasattr(config, name) else None
        if isinstance(found, int) and found != getattr(tokenizer, "unk_token_id", None):
            setattr(config, name, found)
    return encoder


def picture_processor(tokenizer: Any, image_processor: Any, processor_class: str = "Qwen2VLProcessor") -> Any:
    """Qwen2.5-VL's processor (what the Qwen-Image edit pipelines call; `processor_class`
    "Qwen3VLProcessor" for Qwen Image 2.1's Qwen3-VL) for pictures only.

    transformers checks each part of a processor against its class, and the video processor's
    class exists only with torchvision, which NodeFlow never installs beside a CPU torch (README):
    that one check is skipped when no video part is given; the rest is transformers' processor.
    """
    import transformers

    class PicturesOnly(getattr(transformers, processor_class)):
        def check_argument_for_proper_class(self, argument_name: str, argument: Any) -> Any:
            if argument_name == "video_processor" and argument is None:
                return None
            return super().check_argument_for_proper_class(argument_name, argument)

    return PicturesOnly(image_processor=image_processor, tokenizer=tokenizer,
                        chat_template=getattr(tokenizer, "chat_template", None))


#: llama.cpp architecture -> transformers model type, for the GGUF text encoders NodeFlow loads.
_GGUF_TYPES = {"qwen2": "qwen2", "qwen2vl": "qwen2_5_vl", "qwen3": "qwen3", "qwen3vl": "qwen3_vl"}
#: (key markers, transformers model type), most specific first: what a lone file's keys say it is (every
#: marker of the entry found in some key). Gemma 3 is Gemma 2's layout with Qwen3's query norms.
_KEY_TYPES = ((("visual.deepstack_merger_list.",), "qwen3_vl"), (("visual.merger.",), "qwen2_5_vl"),
              (("mm_input_projection",), "gemma3"), (("multi_modal_projector.",), "mistral3"),
              (("pre_self_attn_layernorm.",), "t5gemma"),
              (("pre_feedforward_layernorm.", "self_attn.q_norm."), "gemma3"),
              (("pre_feedforward_layernorm.",), "gemma2"), (("self_attn.q_norm.",), "qwen3"),
              (("self_attn.q_proj.bias",), "qwen2"), (("self_attn.q_proj.",), "llama"))


def language_model_type(path: Path) -> str:
    """The transformers model type of a language-model text encoder file or folder ("qwen3",
    "qwen2_5_vl", "gemma2", ...), from its config, GGUF architecture or key names; "" if it is not
    a language model."""
    import json

    if path.is_dir():
        try:
            return str(json.loads((path / "config.json").read_text("utf-8")).get("model_type", ""))
        except (OSError, ValueError, AttributeError):
            return ""
    if path.suffix.lower() == ".gguf":
        from gguf import GGUFReader

        try:
            found = GGUFReader(path).get_field("general.architecture")
        except (OSError, ValueError, KeyError, IndexError):
            return ""
        return _GGUF_TYPES.get(found.contents() if found is not None else "", "")
    from nodes.models._weights import safetensors_header

    keys = list(safetensors_header(path))
    return next((kind for markers, kind in _KEY_TYPES if all(any(m in k for k in keys) for m in markers)), "")


def model_type_of(class_name: str) -> str:
    """The transformers model type a text encoder class loads ("Qwen3Model" -> "qwen3")."""
    import transformers

    return str(getattr(transformers, class_name).config_class.model_type)


def language_tokenizer(path: Path, class_name: str, user_folder: Path, field: str) -> Any:
    """The tokenizer of a language-model text encoder: inside its folder, beside its file
    (`<name>.tokenizer/` or `tokenizer/`), the SentencePiece model the file itself carries (ComfyUI's
    Gemma files: `embedded_tokenizer`), or in `user_folder`. The vocabularies are the models' own
    (Qwen's, Gemma's, Mistral's) and are not shipped: without one, the message says where to put it."""
    import transformers

    candidates = [path, path / "tokenizer"] if path.is_dir() else []
    candidates += [path.parent / f"{path.stem}.tokenizer", path.parent / "tokenizer"]
    for folder in candidates:
        if (folder / "tokenizer.json").is_file() or (folder / "tokenizer_config.json").is_file():
            return getattr(transformers, class_name).from_pretrained(folder, local_files_only=True)
    embedded = embedded_tokenizer(path, class_name, field)
    if embedded is not None:
        return embedded
    if (user_folder / "tokenizer.json").is_file() or (user_folder / "tokenizer_config.json").is_file():
        return getattr(transformers, class_name).from_pretrained(user_folder, local_files_only=True)
    raise NodeError(f"no tokenizer for {path.name}: put its tokenizer files (tokenizer.json and tokenizer_config.json "
                    f"from the model's 'tokenizer' folder) into {user_folder} or {path.parent / 'tokenizer'}; the file "
                    f"carries none as '{EMBEDDED_TOKENIZER}' (ComfyUI's Gemma files do)", field)


#: The key under which ComfyUI's text encoder files keep their SentencePiece model, as bytes in a uint8
#: tensor (`text_encoders.spiece_model` in an all-in-one checkpoint).
EMBEDDED_TOKENIZER = "spiece_model"


def embedded_tokenizer(path: Path, class_name: str, field: str, file_name: str = "tokenizer.model",
                       options: dict[str, Any] | None = None) -> Any:
    """The tokenizer `class_name` made from the SentencePiece model a .safetensors file carries (see
    `EMBEDDED_TOKENIZER`), by transformers' own conversion of a `file_name` with `options`: by default a
    <bos> first and no <eos>, as ComfyUI's Gemma tokenizers and Gemma's own tokenizer config encode (a
    UMT5's `spiece.model` takes T5's: no extra ids, <eos> last). None: the file has none."""
    import tempfile

    import transformers
    from safetensors import SafetensorError, safe_open

    if path.is_dir() or path.suffix.lower() != ".safetensors":
        return None
    try:
        with safe_open(str(path), framework="pt") as handle:
            key = next((k for k in handle.keys() if k == EMBEDDED_TOKENIZER
                        or k.endswith("." + EMBEDDED_TOKENIZER)), None)
            data = None if key is None else handle.get_tensor(key).numpy().tobytes()
    except (OSError, ValueError, RuntimeError, SafetensorError):  # unreadable: the model loader says so
        return None
    if data is None:
        return None
    options = {"add_bos_token": True, "add_eos_token": False} if options is None else options
    with tempfile.TemporaryDirectory() as folder:
        (Path(folder) / file_name).write_bytes(data)
        try:
            return getattr(transformers, class_name).from_pretrained(folder, local_files_only=True, **options)
        except (OSError, ValueError, ImportError) as exc:
            raise NodeError(f"cannot read the tokenizer {path.name} carries ('{key}'): "
                            f"{str(exc).splitlines()[0]}", field) from None


#: Where a language model's sizes are read: (checkpoint key suffix, llama.cpp name suffix).
_SIZE_KEYS = {"embed": ("embed_tokens.weight", "token_embd.weight"),
              "q": ("layers.0.self_attn.q_proj.weight", "blk.0.attn_q.weight"),
              "k": ("layers.0.self_attn.k_proj.weight", "blk.0.attn_k.weight"),
              "gate": ("layers.0.mlp.gate_proj.weight", "blk.0.ffn_gate.weight"),
              "q_norm": ("layers.0.self_attn.q_norm.weight", "blk.0.attn_q_norm.weight")}


def sized_config(config: Any, shapes: dict[str, list[int]]) -> Any:
    """`config` (the shipped one of the family's encoder) with the language model's sizes read off
    the file's tensor shapes: vocabulary, width, layers, heads, feed-forward width. A file of
    another size of the same architecture (Qwen3 4B or 8B) then loads, and a shipped config that
    differs from the file cannot silently mis-shape it."""
    text = getattr(config, "encoder", None) or config.get_text_config()  # an encoder-decoder's encoder (T5Gemma)

    def shape(name: str) -> list[int] | None:
        return next((s for k, s in shapes.items() for suffix in _SIZE_KEYS[name] if k.endswith(suffix)), None)

    embed, q, k, gate, q_norm = (shape(n) for n in ("embed", "q", "k", "gate", "q_norm"))
    if embed is None or q is None or k is None:
        return config
    # the head width: a Qwen3's q_norm says it; otherwise the shipped config's (before its sizes change)
    head_dim = int(q_norm[0]) if q_norm else int(getattr(text, "head_dim", None) or text.hidden_size
                                                   // text.num_attention_heads)
    text.vocab_size, text.hidden_size = int(embed[0]), int(embed[1])
    if hasattr(text, "head_dim"):
        text.head_dim = head_dim
    text.num_attention_heads, text.num_key_value_heads = int(q[0]) // head_dim, int(k[0]) // head_dim
    if gate is not None:
        text.intermediate_size = int(gate[0])
    layers = {key.split("layers.", 1)[1].split(".", 1)[0] for key in shapes
              if "layers." in key and "visual" not in key and "vision" not in key}
    layers |= {key.split("blk.", 1)[1].split(".", 1)[0] for key in shapes if key.startswith("blk.")}
    text.num_hidden_layers = len(layers)
    if hasattr(text, "layer_types") and text.layer_types is not None:  # the pattern (Gemma's sliding/full) kept
        text.layer_types = [text.layer_types[i % len(text.layer_types)] for i in range(len(layers))]
    vision = getattr(config, "vision_config", None)
    patch = next((s for k, s in shapes.items() if k.endswith("visual.patch_embed.proj.weight")), None)
    if vision is not None and patch is not None:  # a vision tower's widths and depth (its heads are the config's)
        vision.hidden_size = int(patch[0])
        vision.depth = len({k.split("visual.blocks.", 1)[1].split(".", 1)[0] for k in shapes if "visual.blocks." in k})
        # Qwen2.5-VL's gated MLP and merger, or Qwen3-VL's plain ones and its learned position table
        gate = next((s for k, s in shapes.items() if k.endswith(("visual.blocks.0.mlp.gate_proj.weight",
                                                                 "visual.blocks.0.mlp.linear_fc1.weight"))), None)
        merger = next((s for k, s in shapes.items() if k.endswith(("visual.merger.mlp.2.weight",
                                                                   "visual.merger.linear_fc2.weight"))), None)
        table = next((s for k, s in shapes.items() if k.endswith("visual.pos_embed.weight")), None)
        if gate is not None:
            vision.intermediate_size = int(gate[0])
        if merger is not None:
            vision.out_hidden_size = int(merger[0])
        if table is not None:
            vision.num_position_embeddings = int(table[0])
    siglip = next((s for k, s in shapes.items() if k.endswith("embeddings.patch_embedding.weight")), None)
    if vision is not None and siglip is not None:  # SigLIP's tower (Gemma 3's): width, patch, depth, feed-forward
        head_dim = vision.hidden_size // vision.num_attention_heads
        vision.hidden_size, vision.patch_size = int(siglip[0]), int(siglip[-1])
        vision.num_attention_heads = max(1, vision.hidden_size // head_dim)
        vision.num_hidden_layers = len({k.split("encoder.layers.", 1)[1].split(".", 1)[0] for k in shapes
                                        if "vision" in k and "encoder.layers." in k})
        fc1 = next((s for k, s in shapes.items() if "vision" in k and k.endswith("layers.0.mlp.fc1.weight")), None)
        table = next((s for k, s in shapes.items() if k.endswith("embeddings.position_embedding.weight")), None)
        if fc1 is not None:
            vision.intermediate_size = int(fc1[0])
        if table is not None:
            vision.image_size = round(int(table[0]) ** 0.5) * vision.patch_size
    conv = next((s for k, s in shapes.items() if k.endswith("vision_tower.patch_conv.weight")), None)
    if vision is not None and conv is not None:  # Pixtral's tower (Mistral 3's): width, depth, feed-forward
        vision.hidden_size = int(conv[0])
        vision.num_attention_heads = max(1, vision.hidden_size // vision.head_dim)
        vision.num_hidden_layers = len({k.split("vision_tower.transformer.layers.", 1)[1].split(".", 1)[0]
                                        for k in shapes if "vision_tower.transformer.layers." in k})
        gate = next((s for k, s in shapes.items() if k.endswith("transformer.layers.0.feed_forward.gate_proj.weight")),
                    None)
        if gate is not None:
            vision.intermediate_size = int(gate[0])
    return config
