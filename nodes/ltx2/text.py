"""LTX-2's text encoder, in ComfyUI's vocabulary: LTXAVTextEncoderLoader.

LTX-2 reads a prompt as Gemma 3's hidden states of every layer (`nodes.ltx2._adapter.encode`); its
text projection and connectors, which turn them into the video's and the soundtrack's prompts, are
part of the LTX-2 checkpoint and are loaded with its model (the transformer carries them, as
ComfyUI's diffusion model carries its connectors). The loader takes the Gemma 3 file ComfyUI users
keep in text_encoders/ (its tokenizer from the SentencePiece model the file carries, or a tokenizer
folder beside it) and checks that the checkpoint named beside it is an LTX-2 one.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from nodeflow.core import Input, Node, NodeError, Output, RunContext
from nodeflow.core.spec import Weights
from nodeflow.core.types import CLIP, STRING

#: The transformers classes of a lone Gemma 3 file (its language model) and of a multimodal folder.
TEXT_CLASS, FOLDER_CLASS, TOKENIZER_CLASS = "Gemma3TextModel", "Gemma3ForConditionalGeneration", "GemmaTokenizerFast"
#: The shipped config of a lone Gemma 3 file that carries its vision tower (Gemma 3 12B's, multimodal): built
#: whole, so Generate LTX2 Prompt's Gemma can see a first frame.
MULTIMODAL_PART = "text_encoder_multimodal"
#: Keys only an LTX-2 checkpoint holds: its text projection and connectors (original names) or, in a
#: diffusers folder, the connectors part.
_PROJECTION_MARKERS = ("text_embedding_projection.", "video_embeddings_connector.")


def require_ltx2_checkpoint(path: Path, field: str) -> None:
    """One line unless `path` is an LTX-2 checkpoint (a file with its text projection, or a pipeline folder
    with its connectors)."""
    from nodes.models._weights import safetensors_header

    if path.is_dir():
        if (path / "connectors").is_dir():
            return
    elif any(marker in key for key in safetensors_header(path) for marker in _PROJECTION_MARKERS):
        return
    raise NodeError(f"{path.name} is not an LTX-2 checkpoint (it has no text projection / connectors)", field)


def load_gemma(path: Path, device: str, dtype: Any, place: str) -> Any:
    """A CLIP value of Gemma 3 (a lone file's language model, or with its vision tower where the file or folder
    has one) and its tokenizer."""
    from nodes.families import by_name
    from nodes.models._family_loader import CONFIGS, ready, user_tokenizers
    from nodes.models._language_encoders import language_model_type, language_tokenizer, load_language_model
    from nodes.models._weights import safetensors_header
    from nodes.values import Clip

    family = by_name("ltx2")
    (spec,) = family.encoders
    kind = language_model_type(path)
    if kind not in ("gemma3", "gemma3_text"):
        raise NodeError(f"{path.name} is not a Gemma 3 text encoder (LTX-2 reads prompts with Gemma 3; this file "
                        f"looks like {kind or 'no language model'})", "text_encoder")
    folder_class = path.is_dir() and json.loads((path / "config.json").read_text("utf-8")).get("model_type") == "gemma3"
    seeing = folder_class or (not path.is_dir() and path.suffix.lower() == ".safetensors" and any(
        "mm_input_projection" in key for key in safetensors_header(path)))  # a file with its vision tower
    config = CONFIGS / family.config / (MULTIMODAL_PART if seeing and not path.is_dir() else spec.part)
    encoder = load_language_model(FOLDER_CLASS if seeing else TEXT_CLASS, path, config, dtype, "text_encoder")
    tokenizer = language_tokenizer(path, TOKENIZER_CLASS, user_tokenizers(family, spec), "text_encoder")
    return Clip(tokenizer, ready(encoder, place), device, dtype, family=family.name)


class LoadTextEncoder(Node):
    type_id = "ltx2.load_text_encoder"
    title = "LTXV Audio Text Encoder Loader"
    category = "models"
    description = ("Loads Gemma 3, LTX-2's text encoder, from its file in the text encoders folder (ComfyUI's "
                   "gemma_3_12B_it files; the tokenizer from the SentencePiece model the file carries or a "
                   "tokenizer folder beside it). The LTX-2 checkpoint named beside it must be the one the prompts "
                   "are for: its text projection and connectors load with its model.")
    inputs = (
        Input("text_encoder", STRING, default="", file="file-or-folder", model="clip",
              help="Gemma 3 (12B for LTX-2): a .safetensors or a model folder."),
        Input("ckpt_name", STRING, default="", file="file-or-folder", model="checkpoints",
              help="The LTX-2 checkpoint whose model the prompts are for."),
        Input("device", STRING, default="default", choices=("default", "cpu"),
              help="cpu: keep Gemma on the CPU (it is large); default: where the memory plan puts it."),
    )
    outputs = (Output("clip", CLIP),)

    @classmethod
    def weights(cls, params: Mapping[str, Any], resolve: Callable[[str], Path]) -> list[Weights]:
        from nodes.models._weights import weight_count

        name = params.get("text_encoder")
        count = weight_count(resolve(name)) if isinstance(name, str) and name.strip() else 0
        return [Weights("text_encoder", "clip", count)] if count else []

    def run(self, ctx: RunContext, text_encoder: str, ckpt_name: str, device: str = "default") -> tuple[Any]:
        from nodes.models._model_path import model_path
        from nodes.models._precision import compute_dtype
        from nodes.models._store import load_once

        if device not in ("default", "cpu"):
            raise NodeError(f"unknown device '{device}' (default or cpu)", "device")
        path = model_path(ctx, text_encoder, "text_encoder", "text encoder")
        require_ltx2_checkpoint(model_path(ctx, ckpt_name, "ckpt_name", "checkpoint"), "ckpt_name")
        dtype = compute_dtype(ctx.device)
        key = ("ltx2-gemma", str(path.resolve()), str(dtype), ctx.device, device)
        where = "cpu" if device == "cpu" else ctx.device
        return (load_once(ctx, type(self), {"text_encoder": path}, key,
                          lambda place: load_gemma(path, where, dtype, "cpu" if device == "cpu" else place)),)
