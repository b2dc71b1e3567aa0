"""A tiny Gemma 3 as LTX-2's text encoder, built from the shipped Gemma 3 12B config with its sizes shrunk (so
its attention pattern, rope and norms are the real one's), its tokenizer built with `tokenizers` (Gemma's own
vocabulary is not shipped: its licence), and the files ComfyUI users hold: Gemma in ComfyUI's key names (its
vision tower beside the language model) and an LTX-2 checkpoint's text projection."""

from __future__ import annotations

from pathlib import Path

from nodes.models._family_loader import CONFIGS

WIDTH, LAYERS, LENGTH = 32, 2, 32
#: Gemma's end of turn, where a chat answer stops.
END = "<end_of_turn>"
#: The vision tower: one SigLIP layer of the real head width (72) over the real 16 x 16 patches of 14 pixels, so
#: the shipped config's heads and 256 picture tokens fit it.
VISION = dict(hidden_size=144, intermediate_size=32, num_hidden_layers=1, num_attention_heads=2, image_size=224,
              patch_size=14)
SIDE = 224


def gemma_tokenizer():
    """A Gemma-style tokenizer: letters, digits and Gemma's space mark as tokens, <bos> first, left padding,
    Gemma's turn tokens."""
    import string

    from tokenizers import AddedToken, Tokenizer, models, pre_tokenizers, processors
    from transformers import GemmaTokenizerFast

    words = ["<pad>", "<eos>", "<bos>", "<unk>"] + list(string.ascii_letters + string.digits + " ,.!?'-:\n\u2581")
    vocab = {w: i for i, w in enumerate(words)}
    model = Tokenizer(models.WordPiece(vocab, unk_token="<unk>", max_input_chars_per_word=1000))
    model.pre_tokenizer = pre_tokenizers.Split("", "isolated")
    model.post_processor = processors.TemplateProcessing(single="<bos> $A", pair="<bos> $A $B",
                                                         special_tokens=[("<bos>", 2)])
    model.add_special_tokens([AddedToken(t, special=True) for t in ("<start_of_turn>", END)])
    return GemmaTokenizerFast(tokenizer_object=model, bos_token="<bos>", eos_token="<eos>", unk_token="<unk>",
                              pad_token="<pad>", model_max_length=LENGTH, padding_side="left")


def gemma(seed: int = 0):
    """Gemma3ForConditionalGeneration: the shipped Gemma 3 12B text config, 2 layers 32 wide, a 1-layer vision
    tower, random weights."""
    import torch
    from transformers import Gemma3Config, Gemma3ForConditionalGeneration, Gemma3TextConfig

    text = Gemma3TextConfig.from_pretrained(CONFIGS / "ltx2" / "text_encoder")
    text.vocab_size, text.hidden_size, text.intermediate_size = len(gemma_tokenizer()), WIDTH, 64
    text.num_hidden_layers, text.num_attention_heads, text.num_key_value_heads, text.head_dim = LAYERS, 2, 1, 16
    text.layer_types = text.layer_types[:LAYERS]
    config = Gemma3Config(text_config=text.to_dict(), vision_config=VISION, mm_tokens_per_image=256)
    torch.manual_seed(seed)
    return Gemma3ForConditionalGeneration(config).eval()


def comfyui_state(model) -> dict:
    """The model's weights in ComfyUI's names (its Gemma 3 text encoder files): model.layers..., vision_model...,
    multi_modal_projector...; no head (Gemma ties it to the embeddings)."""
    names = (("model.language_model.", "model."), ("model.vision_tower.", "vision_model."),
             ("model.multi_modal_projector.", "multi_modal_projector."))
    state = {}
    for key, value in model.state_dict().items():
        if key.startswith("lm_head."):
            continue
        key = next((new + key[len(old):] for old, new in names if key.startswith(old)), key)
        state[key] = value.contiguous().clone()
    return state


def write_files(root: Path, seed: int = 0) -> dict:
    """The tiny Gemma as a folder (with its tokenizer), as ComfyUI text encoder files with and without the vision
    tower (tokenizer/ beside them), and an LTX-2-style checkpoint (its text projection only)."""
    import torch
    from safetensors.torch import save_file

    model, tokenizer = gemma(seed), gemma_tokenizer()
    folder = root / "gemma"
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    tokenizer = type(tokenizer).from_pretrained(folder)  # as a pipeline reads it back (Gemma's normaliser on)
    encoders = root / "text_encoders"
    encoders.mkdir()
    file = encoders / "gemma_3_12B_it_tiny.safetensors"
    save_file(comfyui_state(model), str(file))
    tokenizer.save_pretrained(encoders / "tokenizer")
    text_file = encoders / "gemma_3_12B_text_only_tiny.safetensors"
    save_file({k: v for k, v in comfyui_state(model).items() if k.startswith("model.")}, str(text_file))
    checkpoint = root / "ltx-2-tiny.safetensors"
    save_file({"text_embedding_projection.aggregate_embed.weight": torch.zeros(WIDTH, WIDTH * (LAYERS + 1))},
              str(checkpoint))
    return {"model": model, "tokenizer": tokenizer, "folder": folder, "file": file, "text_file": text_file,
            "checkpoint": checkpoint}
