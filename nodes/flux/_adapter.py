"""Flux.1's maths (dev, schnell, Kontext, Fill), written to match diffusers' Flux pipelines.

- `encode`: FluxPipeline.encode_prompt: CLIP-L's pooled vector (its tokenizer's window) and T5's
  last hidden states (512 tokens, padded), both cast to their encoder's dtype.
- `Denoise`: one transformer call on [B, 16, h, w] latents: packed into 2x2-cell tokens with their
  position ids (`FluxPipeline._pack_latents`, `_prepare_latent_image_ids`), the timestep / 1000,
  the distilled guidance as a float32 tensor when the model embeds it, reference latents (Kontext:
  tokens appended with first id 1, as FluxKontextPipeline; several placed by `reference_positions`)
  and the Fill model's extra channels
  (masked-image latents and the packed mask) concatenated to the tokens; the output is cut back to
  the picture's tokens and unpacked.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from nodeflow.core import RunContext
from nodes._latent_numbers import require_whole_cells
from nodes._lazy import lazy
from nodes.families import require_rope_width

torch = lazy("torch")


def tokens(ctx: RunContext, tokenizer: Any, text: str, length: int, cut: int | None,
           name: str = "the text encoder") -> Any:
    """The pipeline's tokenization: padded to `length`; cut at `cut` (the pipeline's window) with a
    warning naming the words cut off, or read whole where `cut` is None (`TextEncoder.cut` decides)."""
    inputs = tokenizer(text, padding="max_length", max_length=length if cut is None else cut,
                       truncation=cut is not None, return_tensors="pt")
    full = tokenizer(text, return_tensors="pt").input_ids[0]
    if cut is not None and len(full) > cut:
        kept = inputs.input_ids[0, :cut]
        same = int((kept == full[:cut]).cumprod(0).sum())  # the end token the cut puts last differs
        removed = tokenizer.decode(full[same:], skip_special_tokens=True)
        ctx.warn(f"prompt is longer than {name}'s {cut} tokens; this part was cut off (as diffusers does; "
                 f"long_prompt 'chunk' reads it whole, as ComfyUI does): {removed!r}")
    return inputs


def encode(ctx: RunContext, clip: Any, text: str, texts: Mapping[str, str] | None = None,
           long_prompt: str = "cut") -> Any:
    """CONDITIONING entry of one prompt: T5 states as `embeds`, CLIP's pooled vector as `pooled`.

    `texts` gives an encoder its own text by its ComfyUI name ("clip_l", "t5xxl"), as diffusers'
    prompt / prompt_2 and ComfyUI's CLIPTextEncodeFlux do. CLIP's pooled vector is its first window's
    either way (ComfyUI pools the first of its windows); T5 reads as `TextEncoder.cut` says.
    """
    from nodes.values import CondEntry

    clip_spec, t5_spec = clip.spec.encoders
    texts = texts or {}
    if clip.t5_options is not None:
        ctx.warn("T5 Tokenizer Options change which padding tokens a masked T5 prompt keeps (Chroma); Flux's T5 "
                 "sees its 512 padded tokens as FluxPipeline gives them, so they change nothing here")
    with torch.no_grad():
        clip_tokenizer, clip_model = clip.part(clip_spec.part)
        clip_text = texts.get(clip_spec.comfy_name, text)
        window = clip_tokenizer.model_max_length
        ids = tokens(ctx, clip_tokenizer, clip_text, window, window).input_ids
        pooled = clip_model(ids.to(clip.device), output_hidden_states=False).pooler_output
        pooled = pooled.to(dtype=clip_model.dtype, device=clip.device)
        t5_tokenizer, t5_model = clip.part(t5_spec.part)
        ids = tokens(ctx, t5_tokenizer, texts.get(t5_spec.comfy_name, text), t5_spec.window(t5_tokenizer),
                     t5_spec.cut(t5_tokenizer, long_prompt)).input_ids
        embeds = t5_model(ids.to(clip.device), output_hidden_states=False)[0]
        embeds = embeds.to(dtype=t5_model.dtype, device=clip.device)
    return CondEntry(embeds=embeds, pooled=pooled, text=text)


def pack(latents: Any) -> Any:
    from diffusers import FluxPipeline

    b, c, h, w = latents.shape
    return FluxPipeline._pack_latents(latents, b, c, h, w)


def unpack(tokens_: Any, h: int, w: int) -> Any:
    """[B, h/2 * w/2, 4C] tokens back to [B, C, h, w] latents (FluxPipeline._unpack_latents)."""
    from diffusers import FluxPipeline

    return FluxPipeline._unpack_latents(tokens_, h, w, 1)


def image_ids(h: int, w: int, device: Any, dtype: Any, index: int = 0, rows: int = 0, columns: int = 0) -> Any:
    """Position ids of an h x w latent's tokens: (index, row + rows, column + columns)."""
    from diffusers import FluxPipeline

    ids = FluxPipeline._prepare_latent_image_ids(1, h // 2, w // 2, device, dtype)
    if index:
        ids[..., 0] = index
    if rows:
        ids[..., 1] += rows
    if columns:
        ids[..., 2] += columns
    return ids


def reference_positions(method: str, size: tuple[int, int],
                        shapes: list[tuple[int, int]]) -> list[tuple[int, int, int]]:
    """(index, row offset, column offset) in tokens for each reference latent of (h, w) cells, by
    ComfyUI's reference_latents_method for a picture of `size` cells:
    - "offset" (Kontext's; one reference is FluxKontextPipeline's index 1 at 0, 0): index 1, each
      further one beside the references before it, below them if they are wider than tall so far,
      else to their right;
    - "index": index 1, 2, 3, ... all at 0, 0;
    - "uxo" (UXO / UNO): index 0, each one diagonally past the picture and the references before it.
    Offsets in latent cells become whole tokens rounding half up, as the cells are packed 2 x 2."""
    rows = columns = 0
    placed = []
    for number, (h, w) in enumerate(shapes, start=1):
        if method == "index":
            index, top, left = number, 0, 0
        elif method == "uxo":
            index, top, left = 0, size[0] + rows, size[1] + columns
            rows, columns = rows + h, columns + w
        else:
            index, top, left = 1, 0, 0
            if h + rows > w + columns:
                left = columns
            else:
                top = rows
            rows, columns = max(rows, h + top), max(columns, w + left)
        placed.append((index, (top + 1) // 2, (left + 1) // 2))
    return placed


class Denoise:
    """The transformer's velocity for [B, C, h, w] latents under one prompt (see module doc)."""

    def __init__(self, model: Any, entry: Any, batch: int, size: tuple[int, int]) -> None:
        h, w = size
        require_whole_cells(h, w, model.vae_scale_factor, "Flux")
        transformer = model.unet
        self.model, self.batch, self.size = model, batch, size
        device, dtype = model.device, model.dtype
        embeds = entry.embeds.to(device)
        self.embeds = embeds.repeat(1, batch, 1).view(embeds.shape[0] * batch, embeds.shape[1], -1)
        self.pooled = entry.pooled.to(device).repeat(1, batch).view(batch, -1) if entry.pooled is not None else None
        self.text_ids = torch.zeros(embeds.shape[1], 3).to(device=device, dtype=embeds.dtype)
        self.img_ids = image_ids(h, w, device, dtype)
        self.guidance = None
        if getattr(transformer.config, "guidance_embeds", False):
            value = entry.guidance if entry.guidance is not None else model.spec.guidance_default
            self.guidance = torch.full([1], float(value), device=device, dtype=torch.float32).expand(batch)
        self.references = None
        if entry.references:
            refs, ids = [], []
            shapes = [tuple(latent.shape[-2:]) for latent in entry.references]
            method = entry.reference_method or (model.spec.reference_methods or ("offset",))[0]
            for latent, (index, top, left) in zip(entry.references, reference_positions(method, size, shapes),
                                                  strict=True):
                rh, rw = latent.shape[-2:]
                require_whole_cells(rh, rw, model.vae_scale_factor, "Flux")
                refs.append(pack(latent.to(device=device, dtype=dtype)).repeat(batch // latent.shape[0] or 1, 1, 1))
                ids.append(image_ids(rh, rw, device, dtype, index, top, left))
            self.references = torch.cat(refs, dim=1)
            self.img_ids = torch.cat([self.img_ids] + ids, dim=0)
        self.extra = None
        if entry.concat is not None:
            extra = entry.concat.to(device=device, dtype=dtype)
            self.extra = pack(extra.repeat(batch // extra.shape[0] or 1, 1, 1, 1))

    def __call__(self, latents: Any, t: Any) -> Any:
        h, w = self.size
        hidden = pack(latents)
        count = hidden.shape[1]
        if self.extra is not None:
            hidden = torch.cat([hidden, self.extra.to(hidden.dtype)], dim=2)
        if self.references is not None:
            hidden = torch.cat([hidden, self.references], dim=1)
        timestep = t.expand(latents.shape[0]).to(latents.dtype)
        kwargs = {"pooled_projections": self.pooled} if self.pooled is not None else {}
        out = self.model.unet(hidden_states=hidden, timestep=timestep / 1000, guidance=self.guidance,
                              encoder_hidden_states=self.embeds, txt_ids=self.text_ids, img_ids=self.img_ids,
                              joint_attention_kwargs={}, return_dict=False, **kwargs)[0]
        return unpack(out[:, :count], h, w)


def concat_channels(model: Any, masked: Any, mask: Any) -> Any:
    """Flux Fill's extra input, [B, 16 + f*f, h, w]: the masked picture's latents and the pixel mask
    folded into f x f channels per latent cell (FluxFillPipeline.prepare_mask_latents)."""
    f = model.vae_scale_factor
    b, _, h, w = masked.shape
    mask = mask.to(device=masked.device)[:, 0, :, :]
    if mask.shape[0] < b:
        mask = mask.repeat(b // mask.shape[0], 1, 1)
    mask = mask.view(mask.shape[0], h, f, w, f).permute(0, 2, 4, 1, 3).reshape(mask.shape[0], f * f, h, w)
    return torch.cat([masked, mask.to(dtype=masked.dtype)], dim=1)


def _count(shapes: Mapping[str, Any], prefix: str) -> int:
    return len({k[len(prefix):].split(".", 1)[0] for k in shapes if k.startswith(prefix)})


def read_blocks(shapes: Mapping[str, tuple[int, ...]], config: dict[str, Any]) -> bool:
    """Write into `config` the sizes every Flux-shaped transformer (Flux.1, Flux.2, Chroma) shows in
    its tensors: input channels, double and single block counts, text width, attention head width
    and count. Returns whether the key names are BFL's (ComfyUI's) rather than diffusers'."""
    bfl = "img_in.weight" in shapes
    hidden, config["in_channels"] = shapes["img_in.weight" if bfl else "x_embedder.weight"]
    head = "double_blocks.0.img_attn.norm.query_norm.scale" if bfl else "transformer_blocks.0.attn.norm_q.weight"
    config["attention_head_dim"] = head_dim = shapes[head][0]
    config["num_attention_heads"] = hidden // head_dim
    config["num_layers"] = _count(shapes, "double_blocks." if bfl else "transformer_blocks.")
    config["num_single_layers"] = _count(shapes, "single_blocks." if bfl else "single_transformer_blocks.")
    config["joint_attention_dim"] = shapes["txt_in.weight" if bfl else "context_embedder.weight"][1]
    return bfl


def denoiser_config(shapes: Mapping[str, tuple[int, ...]], base: dict[str, Any]) -> dict[str, Any]:
    """FluxTransformer2DModel's config for weights of these (bare) shapes, in BFL's or diffusers' key
    names: block counts, widths and the guidance input read off the tensors, the rest from `base`
    (the shipped Flux.1 config: rope axes, patch size)."""
    config = dict(base)
    if read_blocks(shapes, config):  # BFL / ComfyUI names
        config["pooled_projection_dim"] = shapes["vector_in.in_layer.weight"][1]
        config["guidance_embeds"] = "guidance_in.in_layer.weight" in shapes
    else:
        config["pooled_projection_dim"] = shapes["time_text_embed.text_embedder.linear_1.weight"][1]
        config["guidance_embeds"] = any(k.startswith("time_text_embed.guidance_embedder.") for k in shapes)
    head_dim = config["attention_head_dim"]
    require_rope_width(head_dim, config["axes_dims_rope"], "Flux")
    return config


def scheduler_config(denoiser: Any, base: dict[str, Any]) -> dict[str, Any]:
    """The pipeline's scheduler for a lone transformer: dev's dynamic shift, or schnell's constant
    shift of 1 for a model without a guidance input (the two published Flux.1 configs)."""
    if getattr(denoiser.config, "guidance_embeds", True):
        return dict(base)
    return {**base, "shift": 1.0, "use_dynamic_shifting": False}
