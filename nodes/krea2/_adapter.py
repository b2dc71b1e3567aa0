"""Krea 2's maths, written to match diffusers' Krea2Pipeline.

- `encode`: the prompt in Qwen-Image's system template (`_language_prompts.QWEN_IMAGE`), tokenized
  as the pipeline does: the template's head and the prompt padded to the window, then the template's
  tail after the padding, with positions that count only real tokens (padding takes none). The
  states of Qwen3-VL's layers `TAPS` are stacked per token and the 34 head tokens dropped; the padding
  stays, marked 0 in the mask. A LATENT's conditioning holds [1, L, taps x width] (the stack
  flattened, as ComfyUI carries it); the denoiser call unflattens it.
- `Denoise`: the transformer on 2x2-cell tokens (Qwen-Image's packing), the timestep / 1000, the
  text tokens at the rotary origin and the picture's at their (0, row, column). Reference latents
  (a style reference: `encode_edit_plus`, Reference Latent) follow the picture's tokens, the k-th at
  (k, row, column) (ComfyUI's "index" layout); by "index_timestep_zero" (the family's default, how
  Krea 2's reference LoRAs are trained) the blocks modulate them as at t = 0, clean, while the text
  and the picture keep the step's t. Only the picture's tokens are read back.
- `encode_edit_plus`: Text Encode (Qwen-Image Edit Plus) with Krea 2's Qwen3-VL, as ComfyUI's node
  runs it with a krea2 text encoder (no diffusers pipeline has this mode): the Edit Plus template
  ("Picture N: " and a picture slot per picture before the prompt), Qwen3-VL seeing the pictures at
  about 384x384, the states `TAPS` stacked per token after the template's head (system turn and the
  user's turn opening, counted by the tokenizer), nothing padded; the references at about 1024x1024
  (Qwen-Image Edit Plus's sizing and VAE normalisation, `nodes.qwen_image._edit`).
- `mix`: the pipeline's guidance `cond + g * (cond - uncond)`, the usual CFG with cfg = g + 1:
  NodeFlow's cfg is ComfyUI's, so the pipeline's guidance_scale g is cfg - 1, on when cfg > 1.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from nodeflow.core import NodeError, RunContext
from nodes._latent_numbers import require_whole_cells
from nodes._lazy import lazy
from nodes.families import require_rope_width
from nodes.qwen_image._adapter import pack, unpack

torch = lazy("torch")

#: Indices into Qwen3-VL's hidden states (0 is the embedding output) the pipeline stacks per token.
TAPS = (2, 5, 8, 11, 14, 17, 20, 23, 26, 29, 32, 35)
#: Tokens of the template's head (system prompt and the user's turn opening) the pipeline drops.
HEAD_TOKENS = 34
#: Tokens of the template's tail (closing the user's turn, opening the assistant's).
TAIL_TOKENS = 5
#: The Turbo's fixed shift: Krea2Pipeline with is_distilled uses mu = 1.15 at every resolution.
DISTILLED_MU = 1.15


def prompt_states(tokenizer: Any, encoder: Any, text: str, window: int, device: Any, cut: int | None = None,
                  ctx: RunContext | None = None) -> tuple[Any, Any]:
    """([1, L, len(TAPS), width] stacked states, [1, L] mask of 0/1) of one prompt, as
    Krea2Pipeline.get_text_hidden_states makes them: L is the window, or the prompt's length where it
    is longer and `cut` is None (read whole, as ComfyUI reads it; `cut` is `TextEncoder.cut`'s)."""
    from nodes.conditioning._language_prompts import QWEN_IMAGE, require_positions, warn_cut

    head, tail = QWEN_IMAGE.template.split("{}")
    body = tokenizer([head + text], return_tensors="pt")
    count = body.input_ids.shape[1] - HEAD_TOKENS + TAIL_TOKENS
    if cut is not None and count > cut:
        rest = body.input_ids[0, HEAD_TOKENS - TAIL_TOKENS + cut:]
        warn_cut(ctx, "Krea2Pipeline", count, cut, tokenizer.decode(rest))
    length = (window if cut is None else cut) + HEAD_TOKENS - TAIL_TOKENS
    body = tokenizer([head + text], truncation=cut is not None, padding="max_length", max_length=length,
                     return_tensors="pt")
    closing = tokenizer([tail], return_tensors="pt")
    ids = torch.cat([body.input_ids, closing.input_ids], dim=1).to(device)
    mask = torch.cat([body.attention_mask, closing.attention_mask], dim=1).to(device).bool()
    require_positions(encoder, int(mask.sum()))
    positions = (mask.long().cumsum(dim=-1) - 1).clamp(min=0).unsqueeze(0).expand(3, -1, -1)
    layers = encoder.config.get_text_config().num_hidden_layers
    if layers < max(TAPS):
        raise NodeError(f"Krea 2 takes the states of Qwen3-VL's layers up to {max(TAPS)}; this text encoder has "
                        f"{layers} layers", "clip")
    with torch.no_grad():
        states = encoder(input_ids=ids, attention_mask=mask, position_ids=positions,
                         output_hidden_states=True).hidden_states
    stacked = torch.stack([states[i] for i in TAPS], dim=2)
    return stacked[:, HEAD_TOKENS:], mask[:, HEAD_TOKENS:].long()


def encode(ctx: RunContext, clip: Any, text: str, texts: Any = None, long_prompt: str = "cut") -> Any:
    """One prompt's conditioning: the stacked Qwen3-VL states, flattened per token, and their mask."""
    from nodes.values import CondEntry

    spec = clip.spec.encoders[0]
    tokenizer, encoder = clip.part(spec.part)
    states, mask = prompt_states(tokenizer, encoder, text, spec.window(tokenizer), clip.device,
                                 spec.cut(tokenizer, long_prompt), ctx)
    return CondEntry(embeds=states.flatten(2).to(dtype=encoder.dtype), text=text, attention_mask=mask)


def edit_recipe(tokenizer: Any) -> Any:
    """How Krea 2's Qwen3-VL reads an Edit Plus prompt (`_language_prompts.LanguagePrompt`): the Edit Plus
    template and picture slots, the taps stacked, the template's head (as this tokenizer counts it) cut."""
    import dataclasses

    from nodes.conditioning._language_prompts import QWEN_IMAGE_EDIT_PLUS

    head = QWEN_IMAGE_EDIT_PLUS.template.split("{}")[0]
    return dataclasses.replace(QWEN_IMAGE_EDIT_PLUS, follows="ComfyUI's TextEncodeQwenImageEditPlus (krea2)",
                               layers=TAPS, drop=len(tokenizer(head).input_ids), picture_positions=True)


def encode_edit_plus(ctx: RunContext, clip: Any, vae: Any, prompt: str, pictures: list[Any]) -> Any:
    """Text Encode (Qwen-Image Edit Plus)'s conditioning with Krea 2's text encoder (see module doc)."""
    from nodes.qwen_image._edit import encode_edit

    tokenizer, _ = clip.part(clip.spec.encoders[0].part)
    return encode_edit(clip, vae, prompt, pictures, plus=True, recipe=edit_recipe(tokenizer))


class Denoise:
    """The transformer's velocity for [B, C, h, w] latents under one prompt (see module doc)."""

    def __init__(self, model: Any, entry: Any, batch: int, size: tuple[int, int]) -> None:
        from diffusers import Krea2Pipeline

        h, w = size
        require_whole_cells(h, w, model.vae_scale_factor, "Krea 2")
        config = model.unet.config
        embeds = entry.embeds.to(model.device)
        if embeds.shape[-1] != config.num_text_layers * config.text_hidden_dim:
            raise NodeError(f"this conditioning has {embeds.shape[-1]} features per token; Krea 2 takes "
                            f"{config.num_text_layers} stacked states of a {config.text_hidden_dim}-wide Qwen3-VL "
                            "(load the text encoder with family krea2)", "positive")
        self.model, self.size = model, size
        self.embeds = embeds.unflatten(-1, (config.num_text_layers, config.text_hidden_dim)).repeat(batch, 1, 1, 1)
        mask = entry.attention_mask
        self.mask = None if mask is None else mask.to(model.device).bool().repeat(batch, 1)
        positions = [Krea2Pipeline.prepare_position_ids(embeds.shape[1], h // 2, w // 2, model.device)]
        references = []
        for index, latent in enumerate(entry.references, start=1):  # the k-th at (k, row, column)
            rh, rw = latent.shape[-2:]
            if rh % 2 or rw % 2:
                raise NodeError(f"reference picture {index} is {rw}x{rh} latent cells; Krea 2 reads 2x2 cells as "
                                "one token (size the picture to a multiple of 16 pixels)", "positive")
            grid = Krea2Pipeline.prepare_position_ids(0, rh // 2, rw // 2, model.device)
            positions.append(grid + torch.tensor([index, 0, 0], device=model.device, dtype=grid.dtype))
            references.append(pack(latent.to(device=model.device, dtype=model.dtype)).repeat(batch, 1, 1))
        self.positions = torch.cat(positions)
        self.references = torch.cat(references, dim=1) if references else None
        method = entry.reference_method or model.spec.reference_methods[0]
        self.still = self.references is not None and method == "index_timestep_zero"

    def __call__(self, latents: Any, t: Any) -> Any:
        h, w = self.size
        timestep = (t / 1000).expand(latents.shape[0]).to(latents.dtype)
        tokens = pack(latents)
        count = tokens.shape[1]
        if self.references is not None:
            tokens = torch.cat([tokens, self.references], dim=1)
        hooks = self._still_references(timestep, self.embeds.shape[1] + count) if self.still else []
        try:
            out = self.model.unet(hidden_states=tokens, encoder_hidden_states=self.embeds, timestep=timestep,
                                  position_ids=self.positions, encoder_attention_mask=self.mask,
                                  return_dict=False)[0]
        finally:
            for hook in hooks:
                hook.remove()
        return unpack(out[:, :count], h, w)

    def _still_references(self, timestep: Any, split: int) -> list[Any]:
        """Hooks on the transformer's blocks giving the tokens from `split` on (the references) the
        modulation of t = 0 and the others the step's (each block's argument 1, the shared modulation
        vector [B, 1, 6 x width], made per token; the blocks add their own tables to it)."""
        unet = self.model.unet
        still = unet.time_embed(torch.zeros_like(timestep), dtype=self.references.dtype)
        still = unet.time_mod_proj(torch.nn.functional.gelu(still, approximate="tanh"))
        count = self.references.shape[1]

        def per_token(module: Any, args: tuple[Any, ...]) -> tuple[Any, ...]:
            moving = args[1]
            joined = torch.cat([moving.expand(-1, split, -1), still.to(moving.dtype).expand(-1, count, -1)], dim=1)
            return (args[0], joined, *args[2:])

        return [block.register_forward_pre_hook(per_token) for block in unet.transformer_blocks]


def mix(cond: Any, uncond: Any, cfg: float) -> Any:
    """Krea2Pipeline's guidance with guidance_scale cfg - 1 (see module doc)."""
    return cond + (cfg - 1.0) * (cond - uncond)


#: diffusers' key names of the tensors the sizes are read from, and the original (ComfyUI) ones.
_NAMES = {"img_in": "first", "transformer_blocks": "blocks", "attn.to_q": "attn.wq", "attn.to_k": "attn.wk",
          "attn.norm_q.weight": "attn.qknorm.qnorm.scale", "ff.gate": "mlp.gate", "text_fusion": "txtfusion",
          "time_embed.linear_1": "tmlp.0"}


def _shape(shapes: Mapping[str, tuple[int, ...]], key: str) -> tuple[int, ...]:
    if key in shapes:
        return shapes[key]
    original = key
    for new, old in _NAMES.items():
        original = original.replace(new, old)
    return shapes[original]


def _count(shapes: Mapping[str, tuple[int, ...]], prefixes: tuple[str, ...]) -> int:
    return len({k[len(p):].split(".", 1)[0] for k in shapes for p in prefixes if k.startswith(p)})


def denoiser_config(shapes: Mapping[str, tuple[int, ...]], base: dict[str, Any]) -> dict[str, Any]:
    """Krea2Transformer2DModel's config for weights of these (bare) shapes, in the original key names
    (ComfyUI's files) or diffusers': widths, blocks and heads read off the tensors, rope axes from
    `base`, the shipped Krea 2 config."""
    config = dict(base)
    inner, config["in_channels"] = _shape(shapes, "img_in.weight")
    config["timestep_embed_dim"] = _shape(shapes, "time_embed.linear_1.weight")[1]
    config["num_layers"] = _count(shapes, ("transformer_blocks.", "blocks."))
    head_dim = _shape(shapes, "transformer_blocks.0.attn.norm_q.weight")[0]
    config["attention_head_dim"], config["num_attention_heads"] = head_dim, inner // head_dim
    config["num_key_value_heads"] = _shape(shapes, "transformer_blocks.0.attn.to_k.weight")[0] // head_dim
    config["intermediate_size"] = _shape(shapes, "transformer_blocks.0.ff.gate.weight")[0]
    config["num_text_layers"] = _shape(shapes, "text_fusion.projector.weight")[1]
    fusion = "text_fusion.layerwise_blocks.0."
    text_head = _shape(shapes, fusion + "attn.norm_q.weight")[0]
    text_q, config["text_hidden_dim"] = _shape(shapes, fusion + "attn.to_q.weight")
    config["text_num_attention_heads"] = text_q // text_head
    config["text_num_key_value_heads"] = _shape(shapes, fusion + "attn.to_k.weight")[0] // text_head
    config["text_intermediate_size"] = _shape(shapes, fusion + "ff.gate.weight")[0]
    for count, stage in (("num_layerwise_text_blocks", "layerwise_blocks."),
                         ("num_refiner_text_blocks", "refiner_blocks.")):
        config[count] = _count(shapes, ("text_fusion." + stage, "txtfusion." + stage))
    require_rope_width(head_dim, config["axes_dims_rope"], "Krea 2")
    return config


def scheduler_config(denoiser: Any, base: dict[str, Any]) -> dict[str, Any]:
    """The pipeline's scheduler for a lone transformer: the shipped one (the base model's
    resolution-dependent shift; a file does not say whether it is the Turbo)."""
    return dict(base)


def folder_scheduler(folder: Path, config: dict[str, Any]) -> dict[str, Any]:
    """A pipeline folder's scheduler as its pipeline runs it: with `is_distilled` in model_index.json
    (the Turbo) the shift is mu = 1.15 at every size, written as the same bounds on both ends of
    the resolution rule (`calculate_shift` then gives 1.15 for any token count)."""
    import json

    index = json.loads((folder / "model_index.json").read_text("utf-8"))
    if not index.get("is_distilled", False):
        return config
    return config | {"base_shift": DISTILLED_MU, "max_shift": DISTILLED_MU}
