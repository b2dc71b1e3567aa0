"""Prompts with weights, textual-inversion embeddings and clip skip, on top of the plain encoder.

A prompt without any of these goes through `encode_text` unchanged (diffusers' `encode_prompt`).
Otherwise:
- clip skip: the hidden states of layer `clip.last_layer` (-1 last, -2 the one before...) are
  used; SD 1.x/2.x put them through the final layer norm, SDXL does not, both as diffusers'
  `clip_skip` does (SD: clip_skip = -last_layer - 1; SDXL, whose default is -2: -last_layer - 2);
- embeddings: each `embedding:name` is looked up in the model library's embeddings folders and
  loaded with diffusers' textual-inversion loader into a copy of the tokenizer and of the token
  embedding table (the loaded model is never changed); the word becomes the loader's token(s);
- weights (`nodes.conditioning._prompt_syntax`): each piece's tokens are encoded together, then every token
  with weight w becomes empty + w * (token - empty), where `empty` is the encoding of an empty
  prompt at the same position (ComfyUI's rule).
"""

from __future__ import annotations

import copy
import dataclasses
import weakref
from typing import Any

from nodeflow.core import NodeError, RunContext
from nodes._lazy import lazy
from nodes.conditioning._prompt_syntax import EMBEDDING, embedding_names, is_weighted, parse_weights, plain_text
from nodes.values import Clip, CondEntry

torch = lazy("torch")

_EMBEDDING_SUFFIXES = ("", ".safetensors", ".pt", ".bin")
#: Tokenizer/encoder copies extended with embeddings, per loaded text encoder (freed with it).
_extended: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def encode_prompt(ctx: RunContext, clip: Clip, text: str, long_prompt: str = "cut",
                  text_2: str | None = None) -> CondEntry:
    """A prompt as CONDITIONING, reading weights, embeddings and clip skip (see module doc).

    `text_2` is SDXL's prompt for its second (OpenCLIP bigG) encoder, `text` going to the first
    (CLIP-L), as diffusers' prompt / prompt_2; None uses `text` for both.
    """
    from nodes.conditioning._text_encode import encode_text

    if clip.spec is not None:
        return _encode_family(ctx, clip, text, long_prompt)
    texts = [text, text if text_2 is None else text_2]
    pieces = [parse_weights(t) for t in texts]
    names = embedding_names(" ".join(plain_text(p) for p in pieces))
    if clip.last_layer is None and not names and text_2 in (None, text) and plain_text(pieces[0]) == text:
        return encode_text(ctx, clip, text, long_prompt)
    if names:
        clip, tokens = with_embeddings(ctx, clip, names)
        pieces = [[(EMBEDDING.sub(lambda m: tokens[m.group(1)], t), w) for t, w in p] for p in pieces]
    with torch.no_grad():
        if clip.text_encoder_2 is not None:
            if long_prompt == "chunk":
                raise NodeError("chunked long prompts are supported for SD 1.x/2.x text encoders only",
                                "long_prompt")
            parts, pooled = [], None
            pairs = ((clip.tokenizer, clip.text_encoder), (clip.tokenizer_2, clip.text_encoder_2))
            for (tokenizer, encoder), own in zip(pairs, pieces, strict=True):
                states, pooled = _encode(ctx, clip, tokenizer, encoder, own, "cut", xl=True)
                parts.append(states)
            embeds = torch.concat(parts, dim=-1).to(dtype=clip.text_encoder_2.dtype, device=clip.device)
            return CondEntry(embeds=embeds, pooled=pooled.to(dtype=clip.text_encoder_2.dtype), text=text)
        states, _ = _encode(ctx, clip, clip.tokenizer, clip.text_encoder, pieces[0], long_prompt, xl=False)
        embeds = states.to(dtype=clip.text_encoder.dtype, device=clip.device)
        return CondEntry(embeds=embeds.reshape(1, -1, embeds.shape[-1]), text=text)


def _encode_family(ctx: RunContext, clip: Clip, text: str, long_prompt: str) -> CondEntry:
    """A declared family's prompt (`nodes.families`): encoded as its pipeline does. Weights and
    embeddings are SD CLIP features; the text goes in with their syntax taken out, and says so."""
    from nodes.conditioning._text_encode import encode_text

    plain = plain_text(parse_weights(text))
    if plain != text or embedding_names(plain):
        ctx.warn(f"prompt weights and embeddings are not applied to {clip.spec.title} text encoders; "
                 f"encoded as {plain!r}")
    return encode_text(ctx, clip, plain, long_prompt)


def _rows(ctx: RunContext, tokenizer: Any, pieces: list[tuple[str, float]], long_prompt: str) -> tuple[Any, Any, Any]:
    """Token ids [rows, window], attention mask and per-token weights, laid out as diffusers pads."""
    window = tokenizer.model_max_length
    ids: list[int] = []
    weights: list[float] = []
    for piece, weight in pieces:
        tokens = tokenizer(piece, add_special_tokens=False, truncation=False).input_ids
        ids += tokens
        weights += [weight] * len(tokens)
    body = window - 2
    if long_prompt != "chunk" and len(ids) > body:
        ctx.warn(f"prompt is longer than the text encoder's {window} tokens; this part was cut off "
                 f"(as diffusers does): {tokenizer.decode(ids[body:])!r}")
        ids, weights = ids[:body], weights[:body]
    rows, masks, row_weights = [], [], []
    for start in range(0, max(len(ids), 1), body):
        part = [tokenizer.bos_token_id, *ids[start:start + body], tokenizer.eos_token_id]
        pad = window - len(part)
        rows.append(part + [tokenizer.pad_token_id] * pad)
        masks.append([1] * len(part) + [0] * pad)
        row_weights.append([1.0, *weights[start:start + body], 1.0] + [1.0] * pad)
    return torch.tensor(rows), torch.tensor(masks), torch.tensor(row_weights)


def _states(clip: Clip, encoder: Any, ids: Any, mask: Any, xl: bool) -> tuple[Any, Any]:
    """The chosen layer's hidden states [rows, window, dim] and the encoder's first output."""
    attention = mask.to(clip.device) if getattr(encoder.config, "use_attention_mask", False) else None
    layer = clip.last_layer if clip.last_layer is not None else (-2 if xl else -1)
    count = encoder.config.num_hidden_layers
    if -layer > count + 1:
        raise NodeError(f"stop_at_clip_layer {layer} is past the text encoder's {count} layers", "clip")
    out = encoder(ids.to(clip.device), attention_mask=attention, output_hidden_states=True)
    if layer == -1 and not xl:
        return out[0], out[0]
    states = out.hidden_states[layer]
    if not xl:
        states = getattr(encoder, "text_model", encoder).final_layer_norm(states)  # transformers 4 / 5
    return states, out[0]


def _encode(ctx: RunContext, clip: Clip, tokenizer: Any, encoder: Any, pieces: list[tuple[str, float]],
            long_prompt: str, xl: bool) -> tuple[Any, Any]:
    ids, mask, weights = _rows(ctx, tokenizer, pieces, long_prompt)
    states, first = _states(clip, encoder, ids, mask, xl)
    if is_weighted(pieces):
        empty_ids, empty_mask, _ = _rows(ctx, tokenizer, [], "cut")
        empty, _ = _states(clip, encoder, empty_ids, empty_mask, xl)
        w = weights.to(device=states.device, dtype=states.dtype)[..., None]
        states = torch.where(w != 1.0, empty + (states - empty) * w, states)
    return states, first


# ------------------------------------------------------------------------------------ embeddings


def find_embedding(ctx: RunContext, name: str) -> Any:
    """The file of embedding `name` in the library's embeddings folders (or next to the workflow),
    found through the run like every model, so the workflow's manifest records its hash."""
    for suffix in _EMBEDDING_SUFFIXES:
        path = ctx.find_model("embeddings", name + suffix)
        if path is not None and path.is_file():
            ctx.used_model_file(path)
            return path
    raise NodeError(f"embedding '{name}' not found in the embeddings folders (`nodeflow models --kind "
                    "embeddings` lists them; put .safetensors/.pt files there)", "text")


def with_embeddings(ctx: RunContext, clip: Clip, names: list[str]) -> tuple[Clip, dict[str, str]]:
    """A Clip whose tokenizer(s) know the embeddings, and each name's replacement text."""
    paths = [find_embedding(ctx, name) for name in names]
    for path in paths:
        ctx.used_model_file(path)
    key = tuple((name, str(path), path.stat().st_mtime_ns) for name, path in zip(names, paths, strict=True))
    cache = _extended.setdefault(clip.text_encoder, {})
    if key not in cache:
        cache[key] = _load_embeddings(clip, names, paths)
    return cache[key]


def _load_embeddings(clip: Clip, names: list[str], paths: list[Any]) -> tuple[Clip, dict[str, str]]:
    from diffusers.loaders.textual_inversion import TextualInversionLoaderMixin, load_textual_inversion_state_dicts

    loader = TextualInversionLoaderMixin
    tokenizers = [copy.deepcopy(clip.tokenizer)]
    encoders = [clip.text_encoder]
    if clip.text_encoder_2 is not None:
        tokenizers.append(copy.deepcopy(clip.tokenizer_2))
        encoders.append(clip.text_encoder_2)
    new_rows: list[list[Any]] = [[] for _ in encoders]
    replacements: dict[str, str] = {}
    for name, path in zip(names, paths, strict=True):
        token = f"<{name}>"
        try:
            (state,) = load_textual_inversion_state_dicts([str(path)])
        except Exception as exc:
            raise NodeError(f"cannot read embedding {path.name}: {exc}", "text") from None
        for i, (tokenizer, encoder) in enumerate(zip(tokenizers, encoders, strict=True)):
            part = state
            if isinstance(state, dict) and ("clip_l" in state or "clip_g" in state):
                part = state.get("clip_g" if i else "clip_l")  # SDXL embeddings hold one per encoder
            if part is None:
                raise NodeError(f"embedding {path.name} has nothing for this model's text encoder", "text")
            try:
                tokens, vectors = loader._retrieve_tokens_and_embeddings([token], [part], tokenizer)
                tokens, vectors = loader._extend_tokens_and_embeddings(tokens, vectors, tokenizer)
            except ValueError as exc:
                raise NodeError(f"embedding {path.name}: {exc}", "text") from None
            dim = encoder.get_input_embeddings().weight.shape[-1]
            if any(v.shape[-1] != dim for v in vectors):
                raise NodeError(f"embedding {path.name} is for another model (vectors of {vectors[0].shape[-1]} "
                                f"features, this text encoder uses {dim})", "text")
            for t, vector in zip(tokens, vectors, strict=True):
                tokenizer.add_tokens(t)
                new_rows[i].append(vector)
            replacements[name] = " ".join(tokens)
    encoders = [_with_rows(e, rows) for e, rows in zip(encoders, new_rows, strict=True)]
    changes = {"tokenizer": tokenizers[0], "text_encoder": encoders[0]}
    if len(encoders) > 1:
        changes |= {"tokenizer_2": tokenizers[1], "text_encoder_2": encoders[1]}
    return dataclasses.replace(clip, **changes), replacements


def _with_rows(encoder: Any, rows: list[Any]) -> Any:
    """A CLIP text encoder sharing every weight with `encoder` but with `rows` appended to its token
    embedding table (diffusers' loader resizes the table in place; here the original stays as is)."""
    if not rows:
        return encoder

    def clone(module: Any) -> Any:
        new = copy.copy(module)
        new._modules = dict(module._modules)  # copy.copy shares the child table; give it its own
        return new

    # The table is embeddings.token_embedding, under text_model in transformers 4 (not in 5).
    path = next(name for name, _ in encoder.named_modules() if name.endswith("token_embedding")).split(".")
    new = parent = clone(encoder)
    for name in path[:-1]:
        child = clone(parent._modules[name])
        parent._modules[name] = child
        parent = child
    embeddings = parent
    old = embeddings.token_embedding
    extra = torch.stack([r.to(device=old.weight.device, dtype=old.weight.dtype) for r in rows])
    table = torch.nn.Embedding(old.num_embeddings + len(rows), old.embedding_dim, device=old.weight.device,
                               dtype=old.weight.dtype)
    table.weight.data = torch.cat([old.weight.data, extra])
    table.requires_grad_(False)
    embeddings._modules["token_embedding"] = table
    return new
