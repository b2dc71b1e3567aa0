"""Wan 2.1 / 2.2's maths, written to match diffusers' WanPipeline and WanImageToVideoPipeline.

- `encode`: the cleaned prompt (the pipelines' `prompt_clean`) through UMT5, padded to the window;
  the last hidden states of the prompt's tokens, the padding's zeroed (`_get_t5_prompt_embeds`).
- `Denoise`: the transformer on [B, C, frames, h, w] latents (it patches 1x2x2 cells itself), at the
  scheduler's timestep (0..1000, not divided); an image-to-video prompt carries the pipeline's
  `condition` (the first-frame mask's 4 channels, then the start picture's latents) as `concat`,
  joined to the latents on the channel axis before each call, as the i2v pipeline does. Wan 2.2 5B
  (`Family.mask_keeps_clean`) is told each token's timestep, as the pipelines' expand_timesteps: t, or 0
  on the latent frames a noise mask keeps (its start picture's), from the mask it is given (`takes_mask`).
  Wan 2.1's image-to-video transformers (an image embedder) also read the start picture as CLIP vision
  tokens: the penultimate states of the prompt's `extra` (a ClipVisionOutput, Wan Image To Video's
  clip_vision_output), the pipeline's `encoder_hidden_states_image`, the same for every prompt. A
  transformer without an image embedder (Wan 2.2's) ignores them, as ComfyUI's does; Wan 2.1's
  first-last-frame transformer reads the start and end pictures' tokens one after the other. A model patched by
  Scale ROPE (`Model.rope_options`) sees its tokens at scaled and shifted positions (`nodes.wan._rope`).
- `denoiser_config`: the transformer's sizes off a file's tensors, in Wan's original names (ComfyUI's
  files, converted by diffusers' single-file converter when loaded) or diffusers' own.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from nodeflow.core import NodeError, RunContext
from nodes._latent_numbers import require_whole_cells
from nodes._lazy import lazy
from nodes.wan import _rope

torch = lazy("torch")

TITLE = "Wan"
#: Scale ROPE's scaled and shifted positions apply to Wan's transformers (`nodes.wan._rope`).
SCALES_ROPE = True


def encode(ctx: RunContext, clip: Any, text: str, texts: Mapping[str, str] | None = None,
           long_prompt: str = "cut") -> Any:
    """One prompt's UMT5 states as WanPipeline.encode_prompt makes them: padded with zeros to the
    window, cut there (with a warning) or read whole, as `TextEncoder.cut` says."""
    from diffusers.pipelines.wan.pipeline_wan import prompt_clean

    from nodes.flux._adapter import tokens
    from nodes.values import CondEntry

    (umt5,) = clip.spec.encoders
    tokenizer, encoder = clip.part(umt5.part)
    window = umt5.window(tokenizer)
    prompt = prompt_clean((texts or {}).get(umt5.comfy_name, text))
    inputs = tokens(ctx, tokenizer, prompt, window, umt5.cut(tokenizer, long_prompt))
    mask = inputs.attention_mask
    with torch.no_grad():
        states = encoder(inputs.input_ids.to(clip.device), mask.to(clip.device)).last_hidden_state
    length = int(mask.gt(0).sum())
    states = states.to(dtype=encoder.dtype, device=clip.device)
    embeds = torch.cat([states[0, :length], states.new_zeros(max(window - length, 0), states.shape[-1])])[None]
    return CondEntry(embeds=embeds, text=text)


def _repeat(tensor: Any, batch: int) -> Any:
    return tensor.repeat(batch // tensor.shape[0], *([1] * (tensor.ndim - 1))) if tensor.shape[0] < batch else tensor


class Denoise:
    """The transformer's velocity for [B, C, frames, h, w] latents under one prompt."""

    #: Told the run's noise mask (`FlowCall.keep_mask`) when the family keeps its kept part clean.
    takes_mask = True

    def __init__(self, model: Any, entry: Any, batch: int, size: tuple[int, int]) -> None:
        h, w = size
        require_whole_cells(h, w, model.vae_scale_factor, TITLE)
        self.model = model
        self.mask = None
        self.embeds = _repeat(entry.embeds.to(model.device), batch)
        self.concat = None
        if entry.concat is not None:
            if entry.concat.shape[-2:] != tuple(size):
                raise NodeError(f"the start picture's latents are {entry.concat.shape[-1]}x{entry.concat.shape[-2]} "
                                f"cells but the video's are {w}x{h}: make both with the same width and height",
                                "latent_image")
            self.concat = _repeat(entry.concat.to(model.device), batch)
        self.image = _image_tokens(model, entry, batch)
        needs = int(model.unet.config.in_channels) - int(model.latent_channels)
        has = 0 if self.concat is None else int(self.concat.shape[1])
        if needs != has:
            what = "an image-to-video model: give it a start picture (Wan Image To Video)" if needs else \
                "a text-to-video model: it takes no start picture"
            raise NodeError(f"this {TITLE} transformer is {what}", "positive")

    def _per_token(self, latents: Any, t: Any) -> Any:
        """[B, tokens] timesteps: t on every token, 0 where the mask keeps the latent (its first cell of each
        patch, in the transformer's token order), as WanPipeline's expand_timesteps."""
        _, ph, pw = self.model.unet.config.patch_size
        mask = torch.ones_like(latents[:, :1]) if self.mask is None else self.mask[:, :1].to(latents.device)
        mask = mask.expand(-1, -1, *latents.shape[2:])  # a mask without frames holds on every frame
        cells = mask[:, 0, :, ::ph, ::pw].float()
        per_token = (cells * t.to(cells.device)).flatten(1)
        return per_token.expand(latents.shape[0], -1) if per_token.shape[0] == 1 else per_token

    def __call__(self, latents: Any, t: Any) -> Any:
        x = latents if self.concat is None else torch.cat([latents, self.concat.to(latents.dtype)], dim=1)
        timestep = self._per_token(latents, t) if self.model.spec.mask_keeps_clean else t.expand(latents.shape[0])
        with _rope.scaled(self.model.unet.rope, self.model.rope_options):
            return self.model.unet(hidden_states=x.to(self.model.dtype), timestep=timestep,
                                   encoder_hidden_states=self.embeds, encoder_hidden_states_image=self.image,
                                   attention_kwargs=None, return_dict=False)[0]


def _image_tokens(model: Any, entry: Any, batch: int) -> Any:
    """The CLIP vision tokens a Wan 2.1 image-to-video transformer reads (see the module docstring), or
    None for a transformer without an image embedder."""
    from nodes.media import ClipVisionOutput

    if model.unet.config.image_dim is None:
        return None
    if not isinstance(entry.extra, ClipVisionOutput):
        raise NodeError(f"this {TITLE} 2.1 image-to-video transformer also reads the start picture through CLIP "
                        "vision: link CLIP Vision Encode's output to Wan Image To Video's clip_vision_output",
                        "positive")
    states = entry.extra.penultimate_hidden_states
    places = model.unet.config.pos_embed_seq_len
    if places is not None and states.shape[1] != int(places):
        raise NodeError(f"this {TITLE} 2.1 first-last-frame transformer reads {places} CLIP vision tokens (the start "
                        f"and end pictures'), not {states.shape[1]}: link both of Wan First-Last Frame To Video's "
                        "clip_vision_start_image and clip_vision_end_image", "positive")
    if states.shape[-1] != int(model.unet.config.image_dim):
        raise NodeError(f"the CLIP vision states are {states.shape[-1]} wide, this transformer reads "
                        f"{model.unet.config.image_dim} (Wan 2.1 reads clip_vision_h's)", "positive")
    tokens = _repeat(states.to(device=model.device, dtype=model.dtype), batch)
    # the first-last-frame embedder takes each picture's tokens as a batch item and joins them itself
    return tokens if places is None else tokens.reshape(-1, int(places) // 2, tokens.shape[-1])


def denoiser_config(shapes: Mapping[str, tuple[int, ...]], base: dict[str, Any]) -> dict[str, Any]:
    """WanTransformer3DModel's config for weights of these (bare) shapes: width, text width, feed-forward
    width, blocks, channels and Wan 2.1 i2v's image embedder (CLIP width, image key / value width) off the
    tensors; heads of the shipped width (128, every Wan's)."""
    config = dict(base)
    if "vace_patch_embedding.weight" in shapes or any(k.startswith(("motion_encoder.", "face_adapter.", "casual_"))
                                                     for k in shapes):
        raise NodeError("this Wan file is a VACE / Animate model, which NodeFlow has no config for", "unet")
    places = shapes.get("img_emb.emb_pos") or shapes.get("condition_embedder.image_embedder.pos_embed")
    config["pos_embed_seq_len"] = None if places is None else places[1]  # first-last frame: two pictures' tokens
    image = shapes.get("img_emb.proj.1.weight") or shapes.get("condition_embedder.image_embedder.ff.net.0.proj.weight")
    added = shapes.get("blocks.0.cross_attn.k_img.weight") or shapes.get("blocks.0.attn2.add_k_proj.weight")
    config["image_dim"] = None if image is None else image[1]
    config["added_kv_proj_dim"] = None if added is None else added[1]
    patch = shapes["patch_embedding.weight"]
    inner, config["in_channels"] = patch[0], patch[1]
    text = shapes.get("text_embedding.0.weight") or shapes["condition_embedder.text_embedder.linear_1.weight"]
    config["text_dim"] = text[1]
    time = shapes.get("time_embedding.0.weight") or shapes["condition_embedder.time_embedder.linear_1.weight"]
    config["freq_dim"] = time[1]
    ffn = shapes.get("blocks.0.ffn.0.weight") or shapes["blocks.0.ffn.net.0.proj.weight"]
    config["ffn_dim"] = ffn[0]
    config["num_layers"] = len({k.split(".")[1] for k in shapes if k.startswith("blocks.")})
    head = int(config["attention_head_dim"])
    if inner % head:
        raise NodeError(f"a Wan transformer {inner} wide is not one NodeFlow has a config for (its heads are "
                        f"{head} wide)", "unet")
    config["num_attention_heads"] = inner // head
    out = shapes.get("head.head.weight") or shapes["proj_out.weight"]
    config["out_channels"] = out[0] // (patch[2] * patch[3] * patch[4])
    if config["out_channels"] not in (16, 48):
        raise NodeError(f"a Wan transformer with {config['out_channels']} latent channels is not one NodeFlow has "
                        "a config for (Wan 2.1's VAE: 16, Wan 2.2's: 48)", "unet")
    return config


def denoiser_state(state: dict[str, Any], config: dict[str, Any]) -> dict[str, Any]:
    """A lone file's tensors for diffusers' converter: Wan 2.1 first-last-frame's picture places
    (`img_emb.emb_pos`, which the converter does not rename) in diffusers' name."""
    if "img_emb.emb_pos" not in state:
        return state
    state = dict(state)
    state["condition_embedder.image_embedder.pos_embed"] = state.pop("img_emb.emb_pos")
    return state


def scheduler_config(denoiser: Any, base: dict[str, Any]) -> dict[str, Any]:
    return dict(base)


def folder_scheduler(path: Path, scheduler: dict[str, Any]) -> dict[str, Any]:
    """A published Wan folder's UniPC flow scheduler (`flow_shift`) as the flow-matching Euler scheduler
    of the same shift, the one the diffusers convention samples with."""
    if "flow_shift" not in scheduler:
        return scheduler
    return {"num_train_timesteps": int(scheduler.get("num_train_timesteps", 1000)),
            "shift": float(scheduler["flow_shift"]), "use_dynamic_shifting": False}
