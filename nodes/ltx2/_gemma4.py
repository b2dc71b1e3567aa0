"""LTX-2.5's text encoder file, as ComfyUI's Load CLIP (type ltxv) reads it.

LTX-2.5 reads prompts with a Gemma 4 12B (transformers' Gemma4Unified, whose language model gives the same
hidden states as the whole model for text) and ships it as one file with LTX's text projection beside it
(gemma4-12b-with-proj-ltx-2.5-comfy-...): the language model under `model.` (Gemma's own names), the two
per-stream projections under `text_embedding_projection.`, quantized or not (`nodes.models._quantized`). The
model is built from the shipped Gemma 4 12B config with its sizes read off the tensors (widths, heads of the
sliding and the full-attention layers, which full-attention layers there are: they share keys and values, so
they have no value projection); the projection rides on it (`projection`) and runs when a prompt is encoded
(`nodes.ltx2._projection`). The tokenizer is the one the file carries (`tokenizer_json`, ComfyUI's) or a
tokenizer folder beside it. A Gemma 4 file without the projection (the prompt enhancer's) loads alike.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

from nodeflow.core import NodeError

#: The transformers classes of the language model and its tokenizer.
MODEL_CLASS, TOKENIZER_CLASS = "Gemma4UnifiedTextModel", "GemmaTokenizerFast"
#: The shipped config's folder (resources/configs/ltx2/<PART>) and the key of the tokenizer a file carries.
PART, EMBEDDED = "text_encoder_gemma4", "tokenizer_json"
_PROJECTION = "text_embedding_projection."


def _layer(key: str) -> int:
    return int(key.split("layers.", 1)[1].split(".", 1)[0])


def text_config(shapes: dict[str, tuple[int, ...]], base: dict[str, Any]) -> dict[str, Any]:
    """The shipped Gemma 4 text config with the sizes of these weights ({name after `model.`: shape})."""
    config = dict(base)
    try:
        config["vocab_size"], config["hidden_size"] = shapes["embed_tokens.weight"]
        layers = sorted({_layer(k) for k in shapes if k.startswith("layers.")})
        full = [i for i in layers if f"layers.{i}.self_attn.v_proj.weight" not in shapes]
        sliding = [i for i in layers if i not in full]
        if not sliding or not full:
            raise KeyError("both sliding and full-attention layers")
        config["num_hidden_layers"] = len(layers)
        config["layer_types"] = ["full_attention" if i in full else "sliding_attention" for i in layers]
        config["intermediate_size"] = shapes[f"layers.{sliding[0]}.mlp.gate_proj.weight"][0]
        for first, head, heads, kv in ((sliding[0], "head_dim", "num_attention_heads", "num_key_value_heads"),
                                       (full[0], "global_head_dim", None, "num_global_key_value_heads")):
            width = shapes[f"layers.{first}.self_attn.q_norm.weight"][0]
            config[head] = width
            if heads:
                config[heads] = shapes[f"layers.{first}.self_attn.q_proj.weight"][0] // width
            config[kv] = shapes[f"layers.{first}.self_attn.k_proj.weight"][0] // width
    except (KeyError, ValueError, IndexError) as exc:
        raise NodeError(f"these weights are not a Gemma 4 language model (missing {exc})", "clip_name") from None
    config["vocab_size_per_layer_input"] = config["vocab_size"]
    return config


def _tokenizer(path: Path, embedded: Any, user_folder: Path) -> Any:
    """The tokenizer the file carries (tokenizer.json bytes), else one beside it or in the user's folder."""
    import transformers

    from nodes.models._language_encoders import language_tokenizer

    if embedded is None:
        return language_tokenizer(path, TOKENIZER_CLASS, user_folder, "clip_name")
    with tempfile.TemporaryDirectory() as folder:
        (Path(folder) / "tokenizer.json").write_bytes(embedded.numpy().tobytes())
        try:
            return getattr(transformers, TOKENIZER_CLASS).from_pretrained(folder, local_files_only=True)
        except (OSError, ValueError) as exc:
            raise NodeError(f"cannot read the tokenizer {path.name} carries ('{EMBEDDED}'): "
                            f"{str(exc).splitlines()[0]}", "clip_name") from None


def load_clip(paths: list[Path], device: str, dtype: Any, place: str) -> Any:
    """A CLIP value of LTX-2.5's Gemma 4 (and its text projection, where the file has one)."""
    import transformers

    from nodes.families import by_name
    from nodes.ltx2._projection import projection_module
    from nodes.models import _quantized
    from nodes.models._family_loader import CONFIGS, ready, user_tokenizers
    from nodes.models._language_encoders import empty_model, transformers_names
    from nodes.values import Clip

    if len(paths) != 1 or paths[0].is_dir():
        raise NodeError("LTX-2.5's text encoder is one file (gemma4-12b-with-proj-ltx-2.5...)", "clip_name")
    path = paths[0]
    family = by_name("ltx2")
    state = _quantized.read_state_dict(path, "clip_name")
    embedded = state.pop(EMBEDDED, None)
    projection = {k: v for k, v in state.items() if k.startswith(_PROJECTION)}
    language = {k: v for k, v in state.items() if not k.startswith(_PROJECTION)}
    shapes = {k.removeprefix("model.language_model.").removeprefix("model."): tuple(v.shape)
              for k, v in language.items()}
    base = json.loads((CONFIGS / family.config / PART / "config.json").read_text("utf-8"))
    cls = getattr(transformers, MODEL_CLASS)
    config = cls.config_class(**{k: v for k, v in text_config(shapes, base).items()
                                 if k not in ("architectures", "model_type")})
    model = empty_model(cls, config, dtype)
    model = _quantized.load_into(model, transformers_names(model, language, "clip_name"), dtype, "clip_name",
                                 extra="ignore").eval()
    if projection:
        model.add_module("projection", projection_module(projection, config.hidden_size, dtype))
    (spec,) = family.encoders
    tokenizer = _tokenizer(path, embedded, user_tokenizers(family, spec))
    return Clip(tokenizer, ready(model, place), device, dtype, family=family.name)
