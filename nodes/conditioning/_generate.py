"""Text generation with a workflow's own language-model text encoder (ComfyUI's TextGenerate).

The encoders that condition Z-Image, Qwen-Image and their kin are language models. To write text
they need an LM head: a class that has one (Qwen2.5-VL's) generates as it is; a bare transformer
whose config ties the head to its input embeddings (Qwen3-4B, Z-Image's encoder; Qwen3-VL, Krea 2's)
gets its causal-LM (or image-text-to-text) class built around the loaded weights, with no copy
(`causal_lm`). An encoder with neither (a CLIP or T5, or an untied model whose file has no head)
cannot write text, and says so.

The run is transformers' `generate`: greedy with sampling off; with it on, temperature, top-k,
top-p, min-p and the repetition penalty as transformers applies them, and a presence penalty
(subtracted once from the logits of every token already generated, as OpenAI-style APIs do), seeded
in a forked RNG so the same seed writes the same text and nothing else's randomness moves. It is
bounded by `max_tokens` new tokens and `seconds` of wall time (what was written by then is kept,
with a warning), and stops at the next token when the run is cancelled.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from nodeflow.core import Input, NodeError, RunContext
from nodeflow.core.types import FLOAT, INT, SEED_MAX, STRING
from nodes._lazy import lazy

torch = lazy("torch")


@dataclass(frozen=True)
class Sampling:
    """Sampling on: the choices of ComfyUI's sampling_mode "on"."""

    temperature: float
    top_k: int
    top_p: float
    min_p: float
    repetition_penalty: float
    presence_penalty: float
    seed: int

    @classmethod
    def chosen(cls, sampling_mode: str, temperature: float, top_k: int, top_p: float, min_p: float,
               repetition_penalty: float, presence_penalty: float, seed: int) -> Sampling | None:
        """The sampling a node's widgets ask for; None (greedy) with sampling_mode "off"."""
        if sampling_mode != "on":
            return None
        return cls(temperature, top_k, top_p, min_p, repetition_penalty, presence_penalty, seed)


#: The generation widgets ComfyUI's text-writing nodes share (TextGenerate, TextGenerateLTX2Prompt), in
#: their saved order from max_length to presence_penalty: one table, so their defaults and bounds agree.
SAMPLING_INPUTS: tuple[Input, ...] = (
    Input("max_length", INT, default=512, min=1, max=32768, help="new tokens at most"),
    Input("sampling_mode", STRING, default="on", choices=("on", "off"), help="off: greedy, the options unused"),
    Input("temperature", FLOAT, default=0.7, min=0.01, max=2.0, step=0.01),
    Input("top_k", INT, default=64, min=0, max=1000, help="0: no limit"),
    Input("top_p", FLOAT, default=0.95, min=0.0, max=1.0, step=0.01),
    Input("min_p", FLOAT, default=0.05, min=0.0, max=1.0, step=0.01),
    Input("repetition_penalty", FLOAT, default=1.05, min=0.0, max=5.0, step=0.01),
    Input("seed", INT, default=0, min=0, max=SEED_MAX, seed=True),
    Input("presence_penalty", FLOAT, default=0.0, min=0.0, max=5.0, step=0.01,
          help="taken once from every token already written"),
)
#: The wall-time bound both nodes end with.
MAX_SECONDS = Input("max_seconds", FLOAT, default=300.0, min=1.0, max=3600.0, help="wall time at most")


def causal_lm(encoder: Any) -> Any:
    """A model that writes text with `encoder`'s weights, or None (see the module docstring)."""
    if callable(getattr(encoder, "generate", None)) and getattr(encoder, "lm_head", None) is not None:
        return encoder
    config = getattr(encoder, "config", None)
    if config is None or not getattr(config, "tie_word_embeddings", False):
        return None
    from accelerate import init_empty_weights
    from transformers import AutoModelForCausalLM, AutoModelForImageTextToText

    # a language model's causal-LM class, or a vision-language model's (Qwen3-VL's) generating one
    for auto in (AutoModelForCausalLM, AutoModelForImageTextToText):
        try:
            with init_empty_weights():
                model = auto.from_config(config)
            break
        except ValueError:  # no such class for this model type
            continue
    else:
        return None
    model.model = encoder
    model.lm_head.weight = encoder.get_input_embeddings().weight
    return model.eval()


def prompt_text(tokenizer: Any, prompt: str, system_prompt: str, thinking: bool, template: bool) -> str:
    """The text the model continues: the prompt in the chat template, or after the system prompt."""
    if template and getattr(tokenizer, "chat_template", None):
        messages = ([{"role": "system", "content": system_prompt}] if system_prompt else [])
        messages.append({"role": "user", "content": prompt})
        text = tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True,
                                             enable_thinking=thinking)
    else:
        text = f"{system_prompt}\n{prompt}" if system_prompt else prompt
    return text


def generate(ctx: RunContext, clip: Any, prompt: str, system_prompt: str, *, max_tokens: int,
             sampling: Sampling | None, thinking: bool, template: bool, seconds: float,
             stop: tuple[str, ...] = (), ids: Any = None, extra: dict[str, Any] | None = None) -> str:
    """The text `clip`'s language model writes after the prompt (only the new tokens, special ones dropped);
    it ends at the tokenizer's end token or at any token of `stop` (a chat model's end of turn). A caller that
    lays out the tokens itself gives them as `ids` (the prompt then unused) with the model's other inputs
    in `extra` (a picture's pixel values where its tokens stand)."""
    from transformers import LogitsProcessor, LogitsProcessorList, StoppingCriteria, StoppingCriteriaList

    model = causal_lm(clip.text_encoder)
    if model is None:
        raise NodeError("this text encoder cannot write text: it has no language-model head (a CLIP or T5, or a "
                        "language model whose file has no head and does not tie it to its embeddings)", "clip")
    tokenizer = clip.tokenizer
    if ids is None:
        text = prompt_text(tokenizer, prompt, system_prompt, thinking, template)
        ids = tokenizer(text, return_tensors="pt", add_special_tokens=False).input_ids
    if ids.shape[1] == 0:
        raise NodeError("the prompt is empty and no template adds text: there is nothing to continue", "prompt")
    ids = ids.to(clip.text_encoder.device)
    start, written = time.monotonic(), ids.shape[1]

    class Bounds(StoppingCriteria):
        timed_out = False

        def __call__(self, input_ids: Any, scores: Any, **kwargs: Any) -> Any:
            Bounds.timed_out = time.monotonic() - start > seconds
            return torch.full((input_ids.shape[0],), Bounds.timed_out or ctx.cancelled, dtype=torch.bool,
                              device=input_ids.device)

    class Presence(LogitsProcessor):
        def __call__(self, input_ids: Any, scores: Any) -> Any:
            new = input_ids[:, written:]
            if new.shape[1]:
                seen = torch.zeros_like(scores, dtype=torch.bool).scatter_(1, new, True)
                scores = scores - seen.to(scores.dtype) * sampling.presence_penalty
            return scores

    vocabulary = tokenizer.get_vocab() if stop else {}
    ends = [vocabulary[token] for token in stop if token in vocabulary]
    options: dict[str, Any] = {"max_new_tokens": max_tokens, "do_sample": sampling is not None,
                               "stopping_criteria": StoppingCriteriaList([Bounds()]),
                               "eos_token_id": [tokenizer.eos_token_id, *ends],
                               "pad_token_id": tokenizer.pad_token_id or tokenizer.eos_token_id}
    if sampling is not None:
        options |= {"temperature": sampling.temperature, "top_k": sampling.top_k, "top_p": sampling.top_p,
                    "min_p": sampling.min_p or None, "repetition_penalty": sampling.repetition_penalty}
        if sampling.presence_penalty:
            options["logits_processor"] = LogitsProcessorList([Presence()])
    else:
        options |= {"temperature": None, "top_k": None, "top_p": None}
    with torch.no_grad(), torch.random.fork_rng(devices=[] if ids.device.type == "cpu" else [ids.device]):
        torch.manual_seed(sampling.seed if sampling is not None else 0)
        out = model.generate(ids, attention_mask=torch.ones_like(ids), **(extra or {}), **options)
    ctx.check_cancelled()
    if Bounds.timed_out:
        ctx.warn(f"stopped after {seconds:g} s (max_seconds) with {out.shape[1] - written} tokens written")
    return tokenizer.decode(out[0, written:], skip_special_tokens=True)
