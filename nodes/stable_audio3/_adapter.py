"""Stable Audio 3's maths, written to match diffusers' StableAudio3Pipeline.

- `encode`: the prompt padded to 256 tokens (or the tokenizer's shorter window) through T5Gemma's encoder,
  its last hidden states and the attention mask (the DiT puts its learned padding embedding where the mask is
  0 and attends to every position).
- `Denoise`: the duration embedder (`StableAudio3DurationEmbedder`, carried by the DiT: `folder_parts`) turns
  the latent's length in seconds (steps x samples a step / rate) into the global conditioning vector, which
  also follows the prompt's tokens as one more context token with mask 1 (`prepare_cross_attention`); the DiT
  is called on [B, 256, steps] latents at the scheduler's timestep. `batched`: the pipeline's CFG call,
  negative then positive in one batch.
- `levels`: the pipeline's log-SNR-warped noise levels (`logsnr_sigma_schedule`, its defaults -6.2 and 2.0).
- `audio_vae`: the SAME autoencoder's value (`nodes.stable_audio3._vae`).
- `load_checkpoint_file`: ComfyUI's one-file checkpoint is refused in one line (the diffusers folder loads).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from nodeflow.core import NodeError, RunContext
from nodes._lazy import lazy
from nodes.latent._sizes import sample_rate
from nodes.stable_audio3._vae import audio_vae

torch = lazy("torch")

__all__ = ["Denoise", "audio_vae", "encode", "folder_parts", "levels", "load_checkpoint_file", "scheduler_config"]

#: StableAudio3Pipeline's defaults for its log-SNR schedule (`logsnr_min`, `logsnr_max`).
LOGSNR_MIN, LOGSNR_MAX = -6.2, 2.0


def encode(ctx: RunContext, clip: Any, text: str, texts: Any = None, long_prompt: str = "cut") -> Any:
    """One prompt's T5Gemma states and mask, as StableAudio3Pipeline.encode_prompt makes them, cut at
    the window (with a warning) or read whole, as `TextEncoder.cut` says."""
    from nodes.flux._adapter import tokens as pipeline_tokens
    from nodes.values import CondEntry

    spec = clip.spec.encoders[0]
    tokenizer, encoder = clip.part(spec.part)
    tokens = pipeline_tokens(ctx, tokenizer, text, spec.window(tokenizer), spec.cut(tokenizer, long_prompt))
    ids, mask = tokens.input_ids.to(clip.device), tokens.attention_mask.to(clip.device)
    with torch.no_grad():
        states = encoder(ids, attention_mask=mask)[0]
    return CondEntry(embeds=states, text=text, attention_mask=mask)


def folder_parts(path: Path, denoiser: Any, dtype: Any) -> None:
    """A pipeline folder's duration embedder, attached to its DiT (which the denoiser call runs it beside)."""
    from diffusers.pipelines.stable_audio_3.modeling_stable_audio_3 import StableAudio3DurationEmbedder

    embedder = StableAudio3DurationEmbedder.from_pretrained(path, subfolder="duration_embedder", torch_dtype=dtype,
                                                            local_files_only=True)
    denoiser.add_module("duration_embedder", embedder.to(device=denoiser.device).eval())


def load_checkpoint_file(path: Path, device: str, dtype: Any, place: str) -> tuple[Any, Any, Any]:
    """ComfyUI's one-file Stable Audio 3 (stable-audio-tools' names: model.model., pretransform.model.,
    conditioner.conditioners.) is refused in one line: NodeFlow loads the diffusers pipeline folder."""
    raise NodeError(f"{path.name} is Stable Audio 3 in stable-audio-tools' one-file layout, which NodeFlow does not "
                    "read; load its diffusers folder (StableAudio3Pipeline's layout) with Load Checkpoint",
                    "checkpoint")


def levels(steps: int) -> list[float]:
    """The pipeline's noise levels for `steps` steps (the scheduler appends the final 0)."""
    from diffusers.pipelines.stable_audio_3.pipeline_stable_audio_3 import logsnr_sigma_schedule

    return logsnr_sigma_schedule(steps, LOGSNR_MIN, LOGSNR_MAX)


def scheduler_config(denoiser: Any, base: dict[str, Any]) -> dict[str, Any]:
    return dict(base)


def _context(model: Any, entry: Any, batch: int, steps: int) -> tuple[Any, Any, Any]:
    """(context [batch, tokens + 1, dim], its mask, the global vector [batch, dim]) for one prompt."""
    embedder = getattr(model.unet, "duration_embedder", None)
    if embedder is None:
        raise NodeError("this Stable Audio 3 model has no duration embedder: load the whole model (a pipeline "
                        "folder or the checkpoint)", "model")
    seconds = steps * model.vae_scale_factor / sample_rate(model)
    duration = torch.tensor([float(seconds)] * batch, dtype=torch.float32, device=model.device)
    global_states = embedder(duration)
    embeds = entry.embeds.to(model.device).repeat(batch, 1, 1)
    mask = entry.attention_mask
    mask = torch.ones(embeds.shape[:2], dtype=torch.long, device=model.device) if mask is None else \
        mask.to(model.device).repeat_interleave(batch, dim=0)
    context = torch.cat([embeds, global_states.unsqueeze(1).to(embeds.dtype)], dim=1)
    return context, torch.cat([mask, mask.new_ones(mask.shape[0], 1)], dim=1), global_states


class Denoise:
    """The DiT's velocity for [B, 256, steps] latents under one prompt (see module doc)."""

    def __init__(self, model: Any, entry: Any, batch: int, size: tuple[int, int]) -> None:
        self.model, self.entry, self.batch = model, entry, batch
        self.prepared: dict[int, tuple[Any, Any, Any]] = {}

    def parts(self, steps: int) -> tuple[Any, Any, Any]:
        if steps not in self.prepared:
            self.prepared[steps] = _context(self.model, self.entry, self.batch, steps)
        return self.prepared[steps]

    def __call__(self, latents: Any, t: Any) -> Any:
        context, mask, global_states = self.parts(latents.shape[-1])
        return self.model.unet(latents, t.expand(latents.shape[0]), encoder_hidden_states=context,
                               global_hidden_states=global_states, encoder_attention_mask=mask,
                               return_dict=False)[0]

    @classmethod
    def batched(cls, model: Any, negative: Any, positive: Any, batch: int, size: tuple[int, int]) -> Any:
        """The pipeline's CFG call: negative and positive in one batch; returns (uncond, cond)."""
        uncond, cond = cls(model, negative, batch, size), cls(model, positive, batch, size)

        def call(latents: Any, t: Any) -> tuple[Any, Any]:
            un, co = uncond.parts(latents.shape[-1]), cond.parts(latents.shape[-1])
            both = torch.cat([latents, latents])
            out = model.unet(both, t.expand(both.shape[0]), encoder_hidden_states=torch.cat([un[0], co[0]]),
                             global_hidden_states=torch.cat([un[2], co[2]]),
                             encoder_attention_mask=torch.cat([un[1], co[1]]), return_dict=False)[0]
            return out.chunk(2)

        return call
