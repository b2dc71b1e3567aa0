"""MiniMax H3's maths, written to match diffusers' MiniMaxH3ModularPipeline (`modular_pipelines/minimax_h3`).

- `encode`: the prompt verbatim (no chat template, no special tokens) through Qwen3-VL; the hidden
  state after decoder layer `TEXT_LAYER` (50, not the last: that one is post-norm) conditions the
  transformer. A keyframe puts a `<Picture i>: ` label and its vision block before the prompt, and
  the vision block's rows carry the video tag. The tags travel with the states (`CondEntry.extra`, a `Prompt`).
- `Layout`: the transformer denoises one packed sequence `[text | keyframe rows | audio rows | video
  rows]` in one call. The rotary grid, the modality tags and the per-row timesteps are made by
  diffusers' own layout functions (`build_packed_sequence`, `build_row_timesteps`), so they are the
  pipeline's to the bit.
- Time runs the H3 way: t = 1 - sigma (t = 1 is clean) and the model predicts a data-ward velocity
  (x0 = x_t + sigma v). Keyframe rows are held at t = 0.999 (the released model's noise augmentation).
- `sample` is the pipeline's loop (the diffusers convention): video steps down a shift-12 schedule and
  audio a shift-3 one, both in the one call per step; the checkpoint is guidance-distilled, so there
  is no negative prompt and no CFG.

A LATENT of this family holds "samples" (video, [B, 24, frames, h, w], normalised as the pipeline
keeps it) and "audio_samples" ([B, 32, 2, frames]: 32 channels, left and right, 40 frames a second,
ComfyUI's layout); the transformer reads audio as rows, the left channel's frames then the right's.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from nodeflow.core import NodeError, RunContext
from nodes._lazy import lazy
from nodes.minimax_h3._numbers import (  # noqa: F401  (the family's numbers, read through this module too)
    AUDIO_CHANNELS,
    AUDIO_LATENTS_PER_SECOND,
    AUDIO_TAG,
    FPS,
    FRAMES_PER_CHUNK,
    KEYFRAME_SEED,
    KEYFRAME_T,
    LATENTS_PER_CHUNK,
    SHIFTS,
    TEXT_LAYER,
    TEXT_TAG,
    VIDEO_TAG,
)

torch = lazy("torch")



@dataclass(frozen=True)
class Guide:
    """A picture held at one frame of the video (a keyframe): its conditioning latents [1, 24, 1, h, w]
    (`keyframe_latents`) and the pixel frame it stands at (0 the first; negative counts from the end)."""

    frame: int
    latents: Any


@dataclass(frozen=True)
class Prompt:
    """What a MiniMax H3 prompt carries beside its states (`CondEntry.extra`): the [tokens] modality tags
    of the states (1 text, 0 a keyframe's vision block), which select the transformer's AdaLN rows, and
    the keyframes the video is held to, in packed order."""

    tags: Any
    guides: tuple[Guide, ...] = ()
    #: Reference pictures (`_references.Reference`), in packed order: the pipeline's ref2va layout.
    references: tuple[Any, ...] = ()


def tags_of(entry: Any) -> Any:
    """The modality tags of a MiniMax H3 prompt; one line for a conditioning of another family."""
    if not isinstance(entry.extra, Prompt):
        raise NodeError("this conditioning was not made by a MiniMax H3 text encoder (load it with type minimax)",
                        "positive")
    return entry.extra.tags


def frame_counts(length: int) -> tuple[int, int, int]:
    """(pixel frames, video latent frames, audio latent frames) of a request for `length` frames: the
    count snapped up to the VAE's 17 n + 5 grid, as the pipeline and ComfyUI's nodes snap it."""
    from diffusers.modular_pipelines.minimax_h3.modular_pipeline import (
        align_num_frames,
        audio_latent_num_frames,
        video_latent_num_frames,
    )

    frames = align_num_frames(max(int(length), LATENTS_PER_CHUNK), FRAMES_PER_CHUNK, LATENTS_PER_CHUNK)
    return (frames, video_latent_num_frames(frames, FRAMES_PER_CHUNK, LATENTS_PER_CHUNK),
            audio_latent_num_frames(frames, FPS, AUDIO_LATENTS_PER_SECOND))


def prompt_states(tokenizer: Any, encoder: Any, text: str, device: Any, keyframes: tuple[Any, ...] = (),
                  processor: Any = None) -> tuple[Any, Any]:
    """([1, tokens, width] states of Qwen3-VL's layer `TEXT_LAYER`, [tokens] modality tags) of the
    pipeline's presentation: a `<Picture i>: ` label and vision block per keyframe (PIL pictures, seen
    through `processor`), then the prompt verbatim."""
    layers = encoder.config.get_text_config().num_hidden_layers
    if layers <= TEXT_LAYER:
        raise NodeError(f"MiniMax H3 takes the state after Qwen3-VL's layer {TEXT_LAYER}; this text encoder has "
                        f"{layers} layers", "clip")
    ids: list[int] = []
    tags: list[int] = []
    vision: dict[str, Any] = {}
    if keyframes:
        pictures = processor.image_processor(images=list(keyframes), return_tensors="pt")
        vision = {"pixel_values": pictures["pixel_values"].to(device, encoder.dtype),
                  "image_grid_thw": pictures["image_grid_thw"].to(device)}
        merge = processor.image_processor.merge_size ** 2
        start, pad, end = (tokenizer.convert_tokens_to_ids(t) for t in
                           ("<|vision_start|>", "<|image_pad|>", "<|vision_end|>"))
        for index, grid in enumerate(pictures["image_grid_thw"]):
            label = tokenizer(f"<Picture {index + 1}>: ", add_special_tokens=False)["input_ids"]
            block = [start] + [pad] * (int(grid.prod()) // merge) + [end]
            ids += label + block
            tags += [TEXT_TAG] * len(label) + [VIDEO_TAG] * len(block)
    prompt = tokenizer(text, add_special_tokens=False)["input_ids"]
    if not ids and not prompt:
        raise NodeError("MiniMax H3 needs a prompt (or a keyframe) to condition on", "prompt")
    ids += prompt
    tags += [TEXT_TAG] * len(prompt)
    input_ids = torch.tensor([ids], dtype=torch.long, device=device)
    # Qwen-internal token types (0 text, 1 picture) drive its rotary layout over a vision block
    kinds = (input_ids == encoder.config.image_token_id).long()
    with torch.no_grad():
        states = encoder(input_ids=input_ids, attention_mask=torch.ones_like(input_ids), mm_token_type_ids=kinds,
                         use_cache=False, output_hidden_states=True, **vision).hidden_states[TEXT_LAYER]
    return states, torch.tensor(tags, dtype=torch.long)


def encode(ctx: RunContext, clip: Any, text: str, texts: Any = None, long_prompt: str = "cut") -> Any:
    """One prompt's conditioning (no keyframes): the layer-50 states and their tags. The pipeline cuts no
    prompt (its window is 0), so either `long_prompt` reads it whole."""
    from nodes.values import CondEntry

    tokenizer, encoder = clip.part(clip.spec.encoders[0].part)
    states, tags = prompt_states(tokenizer, encoder, text, clip.device)
    return CondEntry(embeds=states.to(dtype=encoder.dtype), text=text, extra=Prompt(tags))


# ------------------------------------------------------------------------------ rows


def video_rows(latents: Any, patch: tuple[int, int, int]) -> Any:
    """[1, C, T, h, w] video latents -> [T h w / patch cells, C x patch] rows (the pipeline's packing)."""
    from diffusers.modular_pipelines.minimax_h3.before_denoise import patchify_video_latents

    return patchify_video_latents(latents, tuple(patch))


def video_latents(rows: Any, shape: tuple[int, ...], patch: tuple[int, int, int]) -> Any:
    """The inverse of `video_rows` for latents of `shape` [1, C, T, h, w]."""
    _, channels, frames, height, width = shape
    pt, ph, pw = patch
    grid = rows.reshape(1, frames // pt, height // ph, width // pw, channels, pt, ph, pw)
    return grid.permute(0, 4, 1, 5, 2, 6, 3, 7).reshape(shape)


def audio_rows(audio: Any) -> Any:
    """[1, 32, 2, frames] audio latents -> [2 frames, 32] rows, channel-major."""
    return audio[0].permute(1, 2, 0).reshape(-1, audio.shape[1])


def audio_latents(rows: Any, frames: int) -> Any:
    """The inverse of `audio_rows`."""
    return rows.reshape(AUDIO_CHANNELS, frames, rows.shape[-1]).permute(2, 0, 1).unsqueeze(0)


def pixel_frames(latent_frames: int) -> int:
    """Pixel frames a run of latent frames stands for (each VAE chunk's 5 latents hold 1, 4, 4, 4, 4)."""
    from diffusers.modular_pipelines.minimax_h3.before_denoise import _ROPE_FRAMES_PER_LATENT as per

    return sum(per[k % len(per)] for k in range(int(latent_frames)))


class Layout:
    """The packed sequence of one run (see module doc): text rows, one frame of rows per keyframe of
    the prompt (`Prompt.guides`), `audio_frames` stereo audio rows, the video latents' rows. A keyframe
    at the first or last frame sits where the pipeline puts it; one between, at its frame's rotary time
    (the same rule: text rows + 5/3 per pixel frame)."""

    def __init__(self, model: Any, entry: Any, video_shape: tuple[int, ...], audio_frames: int) -> None:
        from diffusers.modular_pipelines.minimax_h3.before_denoise import _ROPE_FRAME_RESCALE as per_frame
        from diffusers.modular_pipelines.minimax_h3.before_denoise import MiniMaxH3PrepareLayoutStep

        config = model.unet.config
        self.model, self.patch = model, tuple(config.patch_size)
        _, _, frames, height, width = video_shape
        if height % self.patch[1] or width % self.patch[2]:
            raise NodeError(f"MiniMax H3 packs 2x2 latent cells; {height}x{width} latents do not divide", "latent")
        tags = tags_of(entry)
        if entry.embeds.shape[-1] != config.text_dim:
            raise NodeError(f"this conditioning has {entry.embeds.shape[-1]} features per token; the MiniMax H3 "
                            f"transformer takes {config.text_dim}", "positive")
        self.guides = entry.extra.guides
        count = pixel_frames(frames)
        places = [g.frame if g.frame >= 0 else count + g.frame for g in self.guides]
        for guide, place in zip(self.guides, places, strict=True):
            if not 0 <= place < count:
                raise NodeError(f"a keyframe at frame {guide.frame} is outside the video's {count} frames", "positive")
            if tuple(guide.latents.shape[-2:]) != (height, width):
                raise NodeError(f"a keyframe's latents are {guide.latents.shape[-1]}x{guide.latents.shape[-2]} "
                                f"cells but the video's are {width}x{height}: make both at the same size", "positive")
        anchors = tuple("last" if place and place == count - 1 else "first" for place in places)
        self.conditions = [g.latents for g in self.guides] + [r.latents for r in entry.extra.references]
        if entry.extra.references:
            from nodes.minimax_h3._references import layout

            if self.guides:
                raise NodeError("keyframes (Add Guide) beside reference pictures are not a layout NodeFlow builds "
                                "yet: use one or the other", "positive")
            (position_ids, tags, self.video_indices, self.audio_indices, text_indices, self.condition_rows,
             _) = layout(tags, entry.extra.references, frames, height, width, audio_frames, self.patch)
        else:
            (position_ids, tags, self.video_indices, self.audio_indices, text_indices, self.condition_rows,
             _) = MiniMaxH3PrepareLayoutStep.build_packed_sequence(
                tags, frames, height, width, audio_frames, self.patch, AUDIO_CHANNELS, AUDIO_TAG, VIDEO_TAG,
                anchors)
        self.text_count = int(text_indices.numel())
        per_guide = (height // self.patch[1]) * (width // self.patch[2])
        for index, place in enumerate(places):
            if 0 < place < count - 1:
                start = self.text_count + index * per_guide
                position_ids[start:start + per_guide, 0] = self.text_count + per_frame * place
        device = model.device
        self.fields = {"position_ids": position_ids.to(device), "token_tags": tags.to(device),
                       "video_indices": self.video_indices.to(device), "audio_indices": self.audio_indices.to(device),
                       "text_indices": text_indices.to(device)}
        self.embeds = entry.embeds.to(device)

    def held(self, generator: Any, scheduler: Any) -> list[Any]:
        """The keyframes' and references' rows as the pipeline holds them: each latent noised to t 0.999
        with noise drawn from `generator`, in packed order."""
        rows = []
        for latents in self.conditions:
            noise = torch.randn(tuple(latents.shape), generator=generator, dtype=torch.float32)
            rows.append(video_rows(scheduler.scale_noise(latents.float().cpu(), KEYFRAME_T, noise), self.patch))
        return rows

    def __call__(self, video: Any, audio: Any, t_video: float, t_audio: float) -> tuple[Any, Any]:
        """Velocities (video rows, audio rows) of every row, conditioning rows included, with the
        generated video rows at t_video, the audio rows at t_audio and keyframe rows held at 0.999."""
        from diffusers.modular_pipelines.minimax_h3.before_denoise import MiniMaxH3SetTimestepsStep

        unique, indices = MiniMaxH3SetTimestepsStep.build_row_timesteps(
            self.video_indices, self.audio_indices, self.condition_rows, 0, self.text_count, float(t_video),
            float(t_audio), max(float(t_video), KEYFRAME_T), 1.0)
        device = self.model.device
        with torch.no_grad():
            out = self.model.unet(hidden_states=video[None], audio_hidden_states=audio[None],
                                  encoder_hidden_states=self.embeds, timestep=unique.to(device),
                                  timestep_indices=indices.to(device), return_dict=False, **self.fields)
        return out[0][0], out[1][0]


def keyframe_latents(vae: Any, picture: Any) -> Any:
    """One keyframe's conditioning latents [1, 24, 1, h, w] from a picture [1, H, W, 3] in [0, 1]: the
    pipeline's recipe (its uint8 pixels, ImageNet-normalised; the posterior sampled with seed 42)."""
    from diffusers.modular_pipelines.minimax_h3.encoders import encode_vae_condition

    pixels = (picture[0].clamp(0, 1) * 255).round().to(torch.uint8).permute(2, 0, 1)[None, :, None]
    with torch.no_grad():
        return encode_vae_condition(vae.vae, pixels.to(vae.device), (0.485, 0.456, 0.406), (0.229, 0.224, 0.225),
                                    KEYFRAME_SEED)


def sample(model: Any, entry: Any, latent: Mapping[str, Any], seed: int, steps: int,
           shifts: tuple[float, float] = SHIFTS, progress: Any = None) -> dict[str, Any]:
    """The pipeline's denoising loop (the diffusers convention) from fresh noise: `steps` is its
    num_inference_steps (sigma grid points, the final 0 included: steps - 1 model calls); the prompt's
    keyframes are held. Noise is drawn as the pipeline draws it from one CPU generator: each keyframe's
    first, then the video's, then the audio's rows."""
    from diffusers import MiniMaxH3Scheduler

    video, audio = latent["samples"], latent.get("audio_samples")
    if audio is None or video.ndim != 5:
        raise NodeError("MiniMax H3 samples a video + audio latent (MiniMax H3 Image to Video makes one)", "latent")
    if video.shape[0] != 1:
        raise NodeError("MiniMax H3 packs one video per sequence: batch size 1", "latent")
    layout = Layout(model, entry, tuple(video.shape), int(audio.shape[-1]))
    generator = torch.Generator("cpu").manual_seed(int(seed))
    video_scheduler, audio_scheduler = MiniMaxH3Scheduler(shift=shifts[0]), MiniMaxH3Scheduler(shift=shifts[1])
    held = layout.held(generator, video_scheduler)
    noise = torch.randn(tuple(video.shape), generator=generator, dtype=torch.float32)
    rows = video_rows(noise, layout.patch)
    sound = torch.randn((AUDIO_CHANNELS * audio.shape[-1], audio.shape[1]), generator=generator, dtype=torch.float32)
    device = model.device
    rows, sound = torch.cat([*held, rows]).to(device), sound.to(device)
    video_scheduler.set_timesteps(steps, device=device)
    audio_scheduler.set_timesteps(steps, device=device)
    kept = layout.condition_rows
    total = len(video_scheduler.timesteps)
    for i, (t, t_audio) in enumerate(zip(video_scheduler.timesteps, audio_scheduler.timesteps, strict=True)):
        v, a = layout(rows, sound, float(t), float(t_audio))
        rows[kept:] = video_scheduler.step(v[kept:].float(), t, rows[kept:], return_dict=False)[0]
        sound = audio_scheduler.step(a.float(), t_audio, sound, return_dict=False)[0]
        if progress is not None:
            progress(i + 1, total)
    result = dict(latent)
    result["samples"] = video_latents(rows[kept:], tuple(video.shape), layout.patch).to(video.dtype).cpu()
    result["audio_samples"] = audio_latents(sound, int(audio.shape[-1])).to(audio.dtype).cpu()
    return result


def shifts_of(model: Any) -> tuple[float, float]:
    """The (video, soundtrack) schedule shifts a run samples with: MiniMax H3 Sigma Shift's (or Model
    Sampling SD3's video shift) on the model, else the released 12 and 3."""
    chosen = model.scheduler_config.get("comfy_sampling") or {}
    return float(chosen.get("shift", model.spec.comfy_shift)), float(chosen.get("audio_shift", SHIFTS[1]))


def sample_joint(ctx: RunContext, guider: Any, schedule: Any, noise: Any, latent: dict) -> dict:
    """A sampler node's run in the diffusers convention: the pipeline's loop (`sample`) for `schedule.steps`
    model calls (the pipeline's num_inference_steps counts the final sigma 0 too). The checkpoint is
    guidance-distilled: one prompt, cfg 1, no negative; a full denoise from the seed's noise."""
    if not guider.positive.entries:
        raise NodeError("the positive conditioning is empty", "positive")
    if len(guider.positive.entries) != 1:
        raise NodeError("MiniMax H3 takes one prompt (its keyframes and references ride with it)", "positive")
    if abs(float(guider.cfg) - 1.0) > 1e-9:
        raise NodeError("MiniMax H3 is guidance-distilled: sample it with cfg 1 (no negative prompt)", "cfg")
    if float(schedule.denoise) < 1.0 or schedule.start_step or schedule.end_step is not None or not noise.enabled:
        raise NodeError("MiniMax H3's pipeline denoises from full noise: denoise 1, all steps, noise on", "denoise")
    if int(schedule.steps) < 1:
        raise NodeError("steps must be at least 1", "steps")
    return sample(guider.model, guider.positive.entries[0], latent, int(noise.seed), int(schedule.steps) + 1,
                  shifts_of(guider.model), progress=lambda done, total: ctx.progress(done, total))


# ------------------------------------------------------------------------------ loading


def denoiser_config(shapes: Mapping[str, tuple[int, ...]], base: dict[str, Any]) -> dict[str, Any]:
    """MiniMaxH3Transformer3DModel's config for weights of these (bare) shapes, in the original key
    names (ComfyUI's files) or diffusers': widths and depths read off the tensors, the rotary width
    off ComfyUI's `rope.inv_freq` where the file keeps it, the rest from `base`, the shipped config."""
    config = dict(base)
    original = "token_refiner.blocks.0.attn.qkv_proj.weight" in shapes

    def shape(new: str, old: str) -> tuple[int, ...]:
        return shapes[old if original else new]

    config["hidden_size"] = shape("proj_in.weight", "video_patch_proj.weight")[0]
    patch = config["patch_size"]
    config["in_channels"] = shape("proj_in.weight", "video_patch_proj.weight")[1] // (patch[0] * patch[1] * patch[2])
    config["audio_in_channels"] = shape("audio_proj_in.weight", "audio_patch_proj.weight")[1]
    config["text_dim"] = shape("context_embedder.weight", "condition_proj.weight")[1]
    head_dim = shape("transformer_blocks.0.attn.norm_q.weight", "blocks.0.attn.q_norm.weight")[0]
    inner = shape("transformer_blocks.0.attn.to_out.0.weight", "blocks.0.attn.out_proj.weight")[1]
    config["attention_head_dim"], config["num_attention_heads"] = head_dim, inner // head_dim
    config["ffn_dim"] = shape("transformer_blocks.0.ff.net.2.weight", "blocks.0.mlp.fc2.weight")[1]
    config["num_layers"] = _count(shapes, "transformer_blocks." if not original else "blocks.")
    config["num_refiner_layers"] = _count(shapes, "token_refiner.blocks." if original else
                                          "token_refiner.refiner_blocks.")
    if "adaln_t_table" in shapes:  # a pruned file: the curve form's width (`_pruned`)
        config["time_embed_dim"] = shapes["adaln_t_table"][1]
    else:
        hidden, freq = shape("time_embedder.linear_1.weight", "time_embedder.proj_in.weight")
        config["time_embed_hidden_dim"], config["freq_dim"] = hidden, freq
        config["time_embed_dim"] = shape("time_embedder.linear_2.weight", "time_embedder.proj_out.weight")[0]
    if "rope.inv_freq" in shapes:  # ComfyUI's files keep the rotary frequencies diffusers recomputes
        config["rope_freq_dim"] = shapes["rope.inv_freq"][0]
    if 6 * config["rope_freq_dim"] > head_dim:
        raise NodeError(f"a MiniMax H3 transformer with {head_dim}-wide heads cannot rotate the "
                        f"{6 * config['rope_freq_dim']} channels of its rotary grid", "unet")
    return config


def denoiser_state(state: dict[str, Any], config: dict[str, Any]) -> dict[str, Any]:
    """A lone transformer's weights as diffusers' converter takes them: a pruned file's curve table set
    aside (`denoiser_ready` puts it in) and the time embedder it lacks as placeholders."""
    from nodes.minimax_h3._pruned import TABLE, placeholder_time_embedder

    if TABLE not in state:
        return state
    return {k: v for k, v in state.items() if k != TABLE} | placeholder_time_embedder(config)


def denoiser_ready(denoiser: Any, state: dict[str, Any]) -> Any:
    """The loaded transformer, in the curve form when its file is a pruned one (`_pruned`)."""
    from nodes.minimax_h3._pruned import TABLE, ready

    return ready(denoiser, state[TABLE]) if TABLE in state else denoiser


def _count(shapes: Mapping[str, Any], prefix: str) -> int:
    return len({k[len(prefix):].split(".", 1)[0] for k in shapes if k.startswith(prefix)})


def scheduler_config(denoiser: Any, base: dict[str, Any]) -> dict[str, Any]:
    """The video schedule ComfyUI samples a lone transformer with: a constant shift of 12."""
    return dict(base)
