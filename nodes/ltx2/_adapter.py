"""LTX-2's maths, written to match diffusers' LTX2Pipeline.

- `encode`: the stripped prompt through Gemma 3, left-padded to the window; every layer's hidden
  states (the embeddings' included) stacked on the feature axis, with the token mask
  (`_get_gemma_prompt_embeds`).
- `Denoise`: the text connectors (which the transformer carries: `connectors`, as ComfyUI's diffusion
  model carries them) turn the states into the video's and the soundtrack's prompts; the transformer
  takes the video [B, C, frames, h, w] and its soundtrack [B, C', length, bins] as tokens (the
  pipeline's packing), their rotary positions from the frame rate (LTXV Conditioning's, else 25; appended
  guide frames at their guides' frames: `nodes.ltx2.guides`), the
  scheduler's timestep as both timestep and sigma, and gives both streams' velocities. A latent with
  a soundtrack reaches it joined (`nodes.latent._streams`); with classifier-free guidance the negative
  and positive prompts run in one call, as the pipeline batches them.
- `folder_parts`: a pipeline folder's connectors, attached to its transformer; `load_checkpoint_file`:
  ComfyUI's all-in-one LTX-2 files, `load_vae_file`: a lone video or audio VAE file (`nodes.ltx2._files`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from nodeflow.core import NodeError, RunContext
from nodes._lazy import lazy
from nodes.ltx2._guides import Guides, guide_coords
from nodes.ltx2._projection import connect, project

torch = lazy("torch")

TITLE = "LTX-2"
#: The frame rate a prompt without LTXV Conditioning places its frames at (ComfyUI's default).
DEFAULT_FRAME_RATE = 25.0


def encode(ctx: RunContext, clip: Any, text: str, texts: Any = None, long_prompt: str = "cut") -> Any:
    """One prompt's stacked Gemma states and token mask, as LTX2Pipeline._get_gemma_prompt_embeds makes them,
    cut at the window with a warning under either `long_prompt`: diffusers' text connector takes the window
    padded to a multiple of its learnable registers, so a prompt read whole would not fit it."""
    from nodes.conditioning._language_prompts import require_positions
    from nodes.flux._adapter import tokens
    from nodes.values import CondEntry

    (gemma,) = clip.spec.encoders
    tokenizer, encoder = clip.part(gemma.part)
    if encoder is None:
        raise NodeError(f"an {TITLE} checkpoint holds no text encoder: load Gemma 3 with LTXAV Text Encoder Loader "
                        "and connect its CLIP", "clip")
    tokenizer.padding_side = "left"  # Gemma reads chat-style prompts left-padded, as the pipeline sets it
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    window = gemma.window(tokenizer)
    inputs = tokens(ctx, tokenizer, text.strip(), window, window)
    mask = inputs.attention_mask.to(clip.device)
    require_positions(encoder, int(mask.sum()))
    with torch.no_grad():
        out = encoder(input_ids=inputs.input_ids.to(clip.device), attention_mask=mask, output_hidden_states=True)
    states = torch.stack(out.hidden_states, dim=-1).flatten(2, 3).to(dtype=encoder.dtype)
    projection = getattr(encoder, "projection", None)  # LTX-2.5's file: the text projection runs here
    if projection is not None:
        with torch.no_grad():
            states = project(projection, states, mask)
    return CondEntry(embeds=states, attention_mask=mask, text=text)


def _pipeline() -> Any:
    from diffusers.pipelines.ltx2.pipeline_ltx2 import LTX2Pipeline

    return LTX2Pipeline


class _Prompts:
    """The connectors' video prompt, soundtrack prompt and mask for prompts run together, and the frame rate."""

    def __init__(self, model: Any, entries: list[Any], batch: int) -> None:
        connectors = getattr(model.unet, "connectors", None)
        if connectors is None:
            raise NodeError(f"this {TITLE} transformer was loaded without its text connectors", "model")
        embeds = torch.cat([e.embeds for e in entries]).to(device=model.device, dtype=model.dtype)
        mask = torch.cat([e.attention_mask for e in entries]).to(model.device)
        kept_apart = connectors.config.per_modality_projections and connectors.video_text_proj_in is None
        projected = connectors.config.per_modality_projections and embeds.shape[-1] == (
            connectors.config.video_hidden_dim + connectors.config.audio_hidden_dim)
        if kept_apart != projected:
            raise NodeError(f"this {TITLE} transformer's text projection is in its text encoder's file (LTX-2.5's "
                            "gemma4-...-with-proj): encode the prompts with that file (Load CLIP, type ltxv)"
                            if kept_apart else f"these prompts were projected by their text encoder's file (LTX-2.5's)"
                            f" but this {TITLE} transformer has its own text projection", "positive")
        with torch.no_grad():
            video, audio, joined = (connect(connectors, embeds, mask) if kept_apart else
                                    connectors(embeds, mask, padding_side="left"))
        # each prompt repeated for the batch, prompt after prompt (the pipeline's negatives, then positives)
        self.video, self.audio, self.mask = (x.repeat_interleave(batch, dim=0) for x in (video, audio, joined))
        rate = entries[-1].frame_rate
        self.frame_rate = float(rate) if rate is not None else DEFAULT_FRAME_RATE
        extra = entries[-1].extra
        self.guides = extra if isinstance(extra, Guides) else Guides()


def _velocities(model: Any, streams: Any, prompts: _Prompts, latents: Any, t: Any) -> Any:
    """Both streams' velocities for joined latents (the prompts' batch times the latents')."""
    if streams is None:
        raise NodeError(f"{TITLE} makes a video with its soundtrack: join the video latent and an audio latent "
                        "with LTXV Concat AV Latent", "latent_image")
    pipe, transformer = _pipeline(), model.unet
    calls = prompts.video.shape[0] // latents.shape[0]
    video, audio = streams.split(latents.repeat(calls, 1) if calls > 1 else latents)
    b, _, frames, h, w = video.shape
    length, bins = audio.shape[2], audio.shape[3]
    p, pt = transformer.config.patch_size, transformer.config.patch_size_t
    tokens = pipe._pack_latents(video, p, pt).to(model.dtype)
    audio_tokens = pipe._pack_audio_latents(audio).to(model.dtype)
    video_coords = transformer.rope.prepare_video_coords(b, frames, h, w, video.device, fps=prompts.frame_rate)
    video_coords = guide_coords(transformer, video_coords, prompts.guides, h, w, prompts.frame_rate)
    audio_coords = transformer.audio_rope.prepare_audio_coords(b, length, video.device)
    timestep = t.to(video.device).expand(b)
    video_timestep = timestep
    if streams.mask is not None:  # kept frames are clean: their tokens' timestep is t * mask (0 when kept)
        mask = streams.split(streams.mask)[0][:, :1]
        mask = mask.repeat(calls, 1, 1, 1, 1) if calls > 1 else mask
        video_timestep = timestep.unsqueeze(-1) * pipe._pack_latents(mask, p, pt).squeeze(-1).to(timestep.dtype)
    out_video, out_audio = transformer(
        hidden_states=tokens, audio_hidden_states=audio_tokens, encoder_hidden_states=prompts.video,
        audio_encoder_hidden_states=prompts.audio, timestep=video_timestep, audio_timestep=timestep, sigma=timestep,
        encoder_attention_mask=prompts.mask, audio_encoder_attention_mask=prompts.mask, num_frames=frames, height=h,
        width=w, fps=prompts.frame_rate, audio_num_frames=length, video_coords=video_coords,
        audio_coords=audio_coords, use_cross_timestep=True, return_dict=False)
    out_video = pipe._unpack_latents(out_video.float(), frames, h, w, p, pt)
    out_audio = pipe._unpack_audio_latents(out_audio.float(), length, bins)
    return streams.join([out_video, out_audio])


class Denoise:
    """The transformer's velocities for a joined video + soundtrack under one prompt."""

    takes_streams = True

    def __init__(self, model: Any, entry: Any, batch: int, size: tuple[int, int]) -> None:
        if entry.attention_mask is None or entry.embeds.ndim != 3:
            raise NodeError(f"this prompt was not encoded for {TITLE} (its Gemma 3 text encoder)", "positive")
        self.model, self.streams = model, None
        self.prompts = _Prompts(model, [entry], batch)

    def __call__(self, latents: Any, t: Any) -> Any:
        return _velocities(self.model, self.streams, self.prompts, latents, t)

    @staticmethod
    def batched(model: Any, negative: Any, positive: Any, batch: int, size: tuple[int, int]) -> Any:
        return _Pair(model, negative, positive, batch)


class _Pair:
    """Negative and positive prompts in one call, as LTX2Pipeline batches them: (uncond, cond)."""

    takes_streams = True

    def __init__(self, model: Any, negative: Any, positive: Any, batch: int) -> None:
        for entry, field in ((negative, "negative"), (positive, "positive")):
            if entry.attention_mask is None:
                raise NodeError(f"this prompt was not encoded for {TITLE} (its Gemma 3 text encoder)", field)
        if negative.embeds.shape != positive.embeds.shape:
            raise NodeError(f"the negative prompt was encoded with another text encoder than the positive "
                            f"({tuple(negative.embeds.shape)} vs {tuple(positive.embeds.shape)})", "negative")
        self.model, self.streams = model, None
        self.prompts = _Prompts(model, [negative, positive], batch)

    def __call__(self, latents: Any, t: Any) -> tuple[Any, Any]:
        uncond, cond = _velocities(self.model, self.streams, self.prompts, latents, t).chunk(2)
        return uncond, cond


def folder_parts(path: Path, denoiser: Any, dtype: Any) -> None:
    """A pipeline folder's text connectors, attached to its transformer (which runs them per prompt)."""
    from diffusers.pipelines.ltx2.connectors import LTX2TextConnectors

    connectors = LTX2TextConnectors.from_pretrained(path, subfolder="connectors", torch_dtype=dtype,
                                                    local_files_only=True)
    denoiser.add_module("connectors", connectors.to(device=denoiser.device).eval())


def load_checkpoint_file(path: Path, device: str, dtype: Any, place: str) -> tuple[Any, Any, Any]:
    """An all-in-one LTX-2 file (`nodes.ltx2._files`)."""
    from nodes.ltx2._files import load_checkpoint_file as load

    return load(path, device, dtype, place)


def load_vae_file(path: Path, device: str, dtype: Any, place: str) -> Any:
    """A lone LTX-2 VAE file for Load VAE (`nodes.ltx2._files`)."""
    from nodes.ltx2._files import load_vae_file as load

    return load(path, device, dtype, place)


def scheduler_config(denoiser: Any, base: dict[str, Any]) -> dict[str, Any]:
    return dict(base)


def denoiser_config(shapes: dict[str, tuple[int, ...]], base: dict[str, Any]) -> dict[str, Any]:
    """A lone transformer file's config (ComfyUI's diffusion_models files, LTX-2's original names): its sizes and
    LTX-2.3 / 2.5 features read off the tensors (`nodes.ltx2._files.transformer_config`)."""
    from nodes.ltx2._files import transformer_config, transformer_weights

    meta = transformer_weights({k: torch.empty(s, device="meta") for k, s in shapes.items()})
    return transformer_config({k: tuple(v.shape) for k, v in meta.items()}, base)


def denoiser_state(state: dict[str, Any], config: dict[str, Any]) -> dict[str, Any]:
    """A lone transformer file's weights in diffusers' names, its text connectors left for `denoiser_ready`."""
    from nodes.ltx2._files import transformer_weights

    return transformer_weights(state)


def denoiser_ready(denoiser: Any, state: dict[str, Any]) -> Any:
    """The loaded transformer with the text connectors its file carries (LTX-2.5's come without their projection,
    which its text encoder's file holds: `nodes.ltx2._projection`)."""
    from nodes.ltx2._files import connectors_from, linked_weights

    linked = linked_weights(state)
    if not linked:
        raise NodeError(f"this {TITLE} transformer file has no text connectors (video_embeddings_connector.)", "unet")
    denoiser.add_module("connectors", connectors_from(linked, denoiser.dtype).to(device=denoiser.device))
    return denoiser


def load_text_encoder_files(paths: list[Path], device: str, dtype: Any, place: str) -> Any:
    """Load CLIP (type ltxv): LTX-2.5's Gemma 4 file (`nodes.ltx2._gemma4`)."""
    from nodes.ltx2._gemma4 import load_clip

    return load_clip(paths, device, dtype, place)

