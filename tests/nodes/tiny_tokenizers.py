"""A T5-style tokenizer built here with `tokenizers`, shared by the tiny models of several families.

T5 and UMT5 both read text with a sentencepiece Unigram model over Metaspace pieces and end it with
`</s>`; this one knows letters and a few words, so tiny T5, UMT5 and their pipelines run without a hub.
"""

from __future__ import annotations

import string
from pathlib import Path


def unigram_t5_tokenizer(max_length: int, folder: Path | None = None):
    """A T5TokenizerFast over letters and a few words (Unigram + Metaspace, as T5's sentencepiece),
    saved to `folder` when given."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors
    from transformers import T5TokenizerFast

    vocab = [("<pad>", 0.0), ("</s>", 0.0), ("<unk>", 0.0)]
    vocab += [("\u2581" + c, -2.0) for c in string.ascii_lowercase]
    vocab += [(c, -3.0) for c in string.ascii_lowercase + string.digits + ",.!?'-"]
    vocab += [("\u2581red", -1.0), ("\u2581circle", -1.0), ("\u2581blue", -1.0), ("\u2581a", -1.5)]
    model = Tokenizer(models.Unigram(vocab, unk_id=2, byte_fallback=False))
    model.pre_tokenizer = pre_tokenizers.Metaspace(replacement="\u2581", prepend_scheme="always")
    model.decoder = decoders.Metaspace(replacement="\u2581", prepend_scheme="always")
    model.post_processor = processors.TemplateProcessing(single="$A </s>", pair="$A </s> $B </s>",
                                                         special_tokens=[("</s>", 1)])
    tokenizer = T5TokenizerFast(tokenizer_object=model, eos_token="</s>", unk_token="<unk>", pad_token="<pad>",
                                extra_ids=0, model_max_length=max_length)
    if folder is not None:
        tokenizer.save_pretrained(folder)
    return tokenizer
