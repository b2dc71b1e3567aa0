"""FLUX.3 [klein]'s maths, written to match diffusers' modular Flux3ModularPipeline (and its
step-distilled Flux3DistilledModularPipeline).

- `encode`: the prompt as the user's turn of the tokenizer's chat template (the assistant's turn
  opened), right-padded to the next multiple of 80 tokens (at most 8192), the padding masked inside
  Qwen3-VL but given position 1 (the pipeline pins it so); the hidden states of layers 4, 8, ..., 32
  side by side per token. Every position is kept, padding included: the transformer sees it all.
- `Denoise`: a LATENT of FLUX.3 is Flux.2's ([B, 128, h, w]: the VAE's 2x2 cells on the channel axis,
  batch-normalised, `nodes.values.stored_latents`), one token per cell. Tokens carry (t, y, x, l)
  positions: the text along l, the picture's rows and columns scaled by the pipeline's image rope
  scale (0.5), the reference pictures (Reference Latent, Reference Multi Latent: the pipeline's
  `image`) as their own token mode at l = -1, -2, ... The timestep is sigma (t / 1000). A
  step-distilled (flow-map) transformer also takes the timestep its step jumps to: the next one of
  the run's schedule, 0 after the last (`takes_schedule`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from nodeflow.core import NodeError, RunContext
from nodes._lazy import lazy
from nodes.families import require_rope_width

torch = lazy("torch")

#: Indices into Qwen3-VL's hidden states (0 is the embedding output) the pipeline stacks per token.
TAPS = (4, 8, 12, 16, 20, 24, 28, 32)
#: The text window is the prompt's length rounded up to a multiple of this (Flux3TextEncoderStep).
PAD_MULTIPLE = 80

def prompt_states(tokenizer: Any, encoder: Any, text: str, device: Any, cut: int | None,
                  ctx: RunContext | None = None) -> Any:
    """[1, window, len(TAPS) x width] stacked states of one prompt, as
    Flux3TextEncoderStep._get_qwen3_vl_prompt_embeds makes them: cut at `cut` (`TextEncoder.cut`'s; the
    pipeline's max_sequence_length) with a warning, or read whole where it is None."""
    from nodes.conditioning._language_prompts import require_positions, warn_cut

    layers = encoder.config.get_text_config().num_hidden_layers
    if layers < max(TAPS):
        raise NodeError(f"FLUX.3 takes the states of Qwen3-VL's layers up to {max(TAPS)}; this text encoder has "
                        f"{layers} layers", "clip")
    chat = tokenizer.apply_chat_template([{"role": "user", "content": text}], tokenize=False,
                                         add_generation_prompt=True)
    full = tokenizer(chat, return_tensors="pt")["input_ids"]
    real = full.shape[1]
    if cut is not None and real > cut:
        warn_cut(ctx, "Flux3ModularPipeline", real, cut, tokenizer.decode(full[0, cut:]))
        real = cut
    window = math.ceil(real / PAD_MULTIPLE) * PAD_MULTIPLE
    window = window if cut is None else min(window, cut)
    require_positions(encoder, real)
    tokens = tokenizer(chat, return_tensors="pt", padding="max_length", padding_side="right",
                       truncation=cut is not None, max_length=window)
    ids, mask = tokens["input_ids"].to(device), tokens["attention_mask"].to(device)
    positions = torch.arange(window, device=device)[None].masked_fill(mask == 0, 1)
    with torch.no_grad():
        states = encoder(input_ids=ids, attention_mask=mask, position_ids=positions, output_hidden_states=True,
                         use_cache=False).hidden_states
    stacked = torch.stack([states[k] for k in TAPS], dim=1).to(dtype=encoder.dtype, device=device)
    batch, taps, length, width = stacked.shape
    return stacked.permute(0, 2, 1, 3).reshape(batch, length, taps * width)


def encode(ctx: RunContext, clip: Any, text: str, texts: Any = None, long_prompt: str = "cut") -> Any:
    """One prompt's conditioning: the stacked Qwen3-VL states (see module doc)."""
    from nodes.values import CondEntry

    spec = clip.spec.encoders[0]
    tokenizer, encoder = clip.part(spec.part)
    states = prompt_states(tokenizer, encoder, text, clip.device, spec.cut(tokenizer, long_prompt), ctx)
    return CondEntry(embeds=states, text=text)


def pack(latents: Any) -> Any:
    """[B, C, h, w] -> [B, h * w, C]: one token per latent cell, rows first."""
    return latents.flatten(2).transpose(1, 2)


class Denoise:
    """The transformer's velocity for [B, 128, h, w] latents under one prompt (see module doc)."""

    #: A flow-map transformer needs the run's schedule: the sampling loops set `schedule`.
    takes_schedule = True

    def __init__(self, model: Any, entry: Any, batch: int, size: tuple[int, int]) -> None:
        from diffusers.modular_pipelines.flux3.before_denoise import (
            Flux3PrepareLatentsStep,
            Flux3TextRoPEInputsStep,
            _prepare_image_ids,
        )

        device, config = model.device, model.unet.config
        embeds = entry.embeds.to(device)
        if embeds.shape[-1] != config.joint_attention_dim:
            raise NodeError(f"this conditioning has {embeds.shape[-1]} features per token; this FLUX.3 model takes "
                            f"{config.joint_attention_dim} (load its text encoder with family flux3)", "positive")
        scale = Flux3PrepareLatentsStep().image_rope_scale
        self.model, self.size, self.schedule = model, size, None
        self.embeds = embeds.repeat(batch, 1, 1)
        self.txt_ids = Flux3TextRoPEInputsStep._prepare_text_ids(embeds).to(device)
        self.img_ids = _prepare_image_ids(size[0], size[1], scale).to(device)
        tokens, ids = [], []
        for i, latent in enumerate(entry.references):
            if latent.shape[1] != config.cond_in_channels:
                raise NodeError(f"a reference latent of {latent.shape[1]} channels does not fit FLUX.3 "
                                f"({config.cond_in_channels}); encode it with this model's VAE", "conditioning")
            tokens.append(pack(latent.to(device=device)).repeat(batch, 1, 1))
            ids.append(_prepare_image_ids(*latent.shape[-2:], scale, l_coord=-(1 + i)))
        self.references = torch.cat(tokens, dim=1).to(dtype=model.dtype) if tokens else None
        self.reference_ids = torch.cat(ids, dim=0).to(device) if ids else None

    def target(self, t: Any) -> Any:
        """The timestep the step at t jumps to: the next one of the schedule, 0 after the last."""
        if self.schedule is None:
            raise NodeError("a step-distilled FLUX.3 model needs the run's schedule; sample it with Sample, "
                            "KSampler or Sampler", "model")
        schedule = torch.as_tensor(self.schedule, dtype=torch.float32).to(t.device).flatten()
        index = int(torch.argmin((schedule - t.float().flatten()[0]).abs()))
        return schedule[index + 1] if index + 1 < len(schedule) else torch.zeros_like(t)

    def __call__(self, latents: Any, t: Any) -> Any:
        b, _, h, w = latents.shape
        tokens = pack(latents).to(self.model.unet.dtype)
        timestep = (t / 1000).expand(b).to(tokens.dtype)
        target = None
        if self.model.unet.config.flow_map:
            target = (self.target(t) / 1000).expand(b).to(tokens.dtype)
        out = self.model.unet(hidden_states=tokens, encoder_hidden_states=self.embeds, timestep=timestep,
                              img_ids=self.img_ids, txt_ids=self.txt_ids, image_cond_hidden_states=self.references,
                              image_cond_ids=self.reference_ids, target_timestep=target, return_dict=False)[0]
        return out.transpose(1, 2).reshape(b, -1, h, w)


def denoiser_config(shapes: Mapping[str, tuple[int, ...]], base: dict[str, Any]) -> dict[str, Any]:
    """Flux3Transformer2DModel's config for weights of these (bare) shapes, in BFL's (ComfyUI's) key
    names or diffusers': widths, block counts, the feed-forward ratio and the flow map read off the
    tensors, the rope axes and theta from `base` (the shipped FLUX.3 [klein] config)."""
    config = dict(base)
    original = "emb_in.image.weight" in shapes
    names = ("emb_in.", "txt_in.", "time_in.in_layer.", "content_mode_blocks.", "ref_time_in.", "mlp_in") if original \
        else ("x_embedders.", "context_embedder.", "timestep_embedder.linear_1.", "mode_blocks.",
              "target_timestep_embedder.", "ff.linear_in")
    embed, text, time, blocks, target, ff_in = names
    hidden, config["in_channels"] = shapes[embed + "image.weight"]
    config["cond_in_channels"] = shapes[embed + "image_cond.weight"][1]
    config["joint_attention_dim"] = shapes[text + "weight"][1]
    config["timestep_channels"] = shapes[time + "weight"][1]
    config["num_layers"] = len({k.split(".")[2] for k in shapes if k.startswith(blocks + "image.")})
    config["num_single_layers"] = len({k.split(".")[1] for k in shapes if k.startswith("single_blocks.")
                                       or k.startswith("single_transformer_blocks.")})
    config["flow_map"] = any(k.startswith(target) for k in shapes)
    head_dim = next(v[0] for k, v in shapes.items() if k.startswith("single_") and k.endswith(
        ("norm.query_norm.scale", "attn.norm_q.weight")))
    config["attention_head_dim"], config["num_attention_heads"] = head_dim, hidden // head_dim
    feed_forward = next(v[0] for k, v in shapes.items() if k.startswith("single_") and ff_in in k)
    config["mlp_ratio"] = feed_forward / 2 / hidden
    require_rope_width(head_dim, config["axes_dims_rope"], "FLUX.3")
    return config


def scheduler_config(denoiser: Any, base: dict[str, Any]) -> dict[str, Any]:
    """The pipeline's scheduler for a lone transformer: the shipped one (the recipe's constant shift)."""
    return dict(base)
