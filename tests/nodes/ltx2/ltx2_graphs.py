"""Graphs and reference runs for the LTX-2 tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from graphs import add, new_graph

from nodeflow.core import Graph

_pipes: dict[tuple[str, str], Any] = {}


def ltx2_txt2video(folder: Path, audio_file: Path, *, prompt: str = "a red circle", negative: str = "",
                   size: int = 64, length: int = 9, frame_rate: float = 25.0, batch: int = 1, seed: int = 0,
                   steps: int = 2, cfg: float = 1.0) -> tuple[Graph, dict[str, str]]:
    """Load Checkpoint + Load LTXV Audio VAE -> prompts -> LTXV Conditioning -> empty video and audio
    latents joined -> Sampler -> separated -> VAE Decode (frames) and LTXV Audio VAE Decode (sound)."""
    g = new_graph()
    ids: dict[str, str] = {}
    ids["ckpt"] = add(g, "models.load_checkpoint", checkpoint=str(folder))
    ids["audio_vae"] = add(g, "ltx2.load_audio_vae", ckpt_name=str(audio_file))
    clip = (ids["ckpt"], "clip")
    ids["pos"] = add(g, "conditioning.text_encode", {"clip": clip}, text=prompt)
    ids["neg"] = add(g, "conditioning.text_encode", {"clip": clip}, text=negative)
    ids["cond"] = add(g, "ltx2.conditioning", {"positive": (ids["pos"], "conditioning"),
                                               "negative": (ids["neg"], "conditioning")}, frame_rate=frame_rate)
    ids["video"] = add(g, "ltx2.empty_latent_video", width=size, height=size, length=length, batch_size=batch)
    ids["audio"] = add(g, "ltx2.empty_latent_audio", {"audio_vae": (ids["audio_vae"], "audio_vae")},
                       frames_number=length, frame_rate=frame_rate, batch_size=batch)
    ids["av"] = add(g, "ltx2.concat_av_latent", {"video_latent": (ids["video"], "latent"),
                                                 "audio_latent": (ids["audio"], "latent")})
    ids["sampler"] = add(g, "sampling.sampler", {
        "model": (ids["ckpt"], "model"), "positive": (ids["cond"], "positive"),
        "negative": (ids["cond"], "negative"), "latent_image": (ids["av"], "latent")},
        seed=seed, steps=steps, cfg=cfg, sampler_name="euler", scheduler="normal")
    ids["split"] = add(g, "ltx2.separate_av_latent", {"av_latent": (ids["sampler"], "latent")})
    ids["decode"] = add(g, "vae.decode", {"latent": (ids["split"], "video_latent"), "vae": (ids["ckpt"], "vae")})
    ids["sound"] = add(g, "ltx2.audio_vae_decode", {"samples": (ids["split"], "audio_latent"),
                                                   "audio_vae": (ids["audio_vae"], "audio_vae")})
    ids["out"] = add(g, "image.preview", {"images": (ids["decode"], "image")})
    return g, ids


def ltx2_dual_cfg(folder: Path, audio_file: Path, *, video_cfg: float, audio_cfg: float, sigmas: str = "",
                  dual: bool = True, **options: Any) -> tuple[Graph, dict[str, str]]:
    """The text-to-video graph sampled from parts: Random Noise, LTXV Dual CFG Guider (or, `dual` False, CFG
    Guider at video_cfg), Sampler Select (euler), and the pipeline's levels (Scheduler, diffusers convention)
    or, given `sigmas`, Manual Sigmas (the comfyui convention)."""
    g, ids = ltx2_txt2video(folder, audio_file, **options)
    g.remove_node(ids.pop("sampler"))
    prompts = {"model": (ids["ckpt"], "model"), "positive": (ids["cond"], "positive"),
               "negative": (ids["cond"], "negative")}
    ids["guider"] = (add(g, "ltx2.dual_cfg_guider", prompts, video_cfg=video_cfg, audio_cfg=audio_cfg) if dual else
                     add(g, "sampling.cfg_guider", prompts, cfg=video_cfg))
    ids["sigmas"] = (add(g, "sampling.manual_sigmas", sigmas=sigmas) if sigmas else
                     add(g, "sampling.scheduler", scheduler="normal", steps=options.get("steps", 2)))
    ids["sample"] = add(g, "sampling.sample", {
        "noise": (add(g, "noise.random", seed=options.get("seed", 0)), "noise"), "guider": (ids["guider"], "guider"),
        "sampler": (add(g, "sampling.sampler_select", sampler_name="euler"), "sampler"),
        "sigmas": (ids["sigmas"], "sigmas"), "latent_image": (ids["av"], "latent")})
    g.connect(ids["sample"], "latent", ids["split"], "av_latent")
    return g, ids


def reference_pipe(folder: Path) -> Any:
    key = ("LTX2Pipeline", str(folder))
    if key not in _pipes:
        from diffusers import LTX2Pipeline
        from pipelines import settled  # the weights laid out as NodeFlow's loaders lay them out

        pipe = settled(LTX2Pipeline.from_pretrained(folder, local_files_only=True))
        pipe.set_progress_bar_config(disable=True)
        _pipes[key] = pipe
    return _pipes[key]


def pipeline_run(folder: Path, *, prompt: str = "a red circle", negative: str = "", size: int = 64,
                 length: int = 9, frame_rate: float = 25.0, batch: int = 1, seed: int = 0, steps: int = 2,
                 cfg: float = 1.0, audio_cfg: float | None = None) -> tuple[Any, Any]:
    """LTX2Pipeline's (frames [B * F, H, W, 3] in [0, 1], waveform [B, channels, samples]) with one guidance
    scale for both streams (or `audio_cfg` for the sound), as ComfyUI's guiders use, and nothing else guiding."""
    import torch

    pipe = reference_pipe(folder)
    out = pipe(prompt, negative_prompt=negative, height=size, width=size, num_frames=length, frame_rate=frame_rate,
               num_inference_steps=steps, guidance_scale=cfg, audio_guidance_scale=cfg if audio_cfg is None else
               audio_cfg, stg_scale=0.0, audio_stg_scale=0.0, modality_scale=1.0, audio_modality_scale=1.0,
               guidance_rescale=0.0, audio_guidance_rescale=0.0, num_videos_per_prompt=batch, output_type="pt",
               max_sequence_length=pipe.tokenizer.model_max_length,
               generator=torch.Generator("cpu").manual_seed(seed))
    frames = out.frames  # [B, F, 3, H, W]
    return frames.permute(0, 1, 3, 4, 2).reshape(-1, size, size, 3), out.audio


def ltx2_img2video(folder: Path, audio_file: Path, image: Path, *, strength: float = 1.0,
                   **options: Any) -> tuple[Graph, dict[str, str]]:
    """The text-to-video graph with Load Image -> LTXV Img To Video Inplace on the video latent."""
    g, ids = ltx2_txt2video(folder, audio_file, **options)
    ids["image"] = add(g, "image.load", image=str(image))
    ids["inplace"] = add(g, "ltx2.img_to_video_inplace", {"vae": (ids["ckpt"], "vae"), "image": (ids["image"], "image"),
                                                          "latent": (ids["video"], "latent")}, strength=strength)
    g.connect(ids["inplace"], "latent", ids["av"], "video_latent")
    return g, ids


def pipeline_i2v_run(folder: Path, image: Path, *, prompt: str = "a red circle", negative: str = "", size: int = 64,
                     length: int = 9, frame_rate: float = 25.0, seed: int = 0, steps: int = 2,
                     cfg: float = 1.0) -> tuple[Any, Any]:
    """LTX2ImageToVideoPipeline's frames and waveform for a start picture (no CRF re-compression)."""
    import torch
    from diffusers import LTX2ImageToVideoPipeline
    from PIL import Image

    text2video = reference_pipe(folder)
    pipe = LTX2ImageToVideoPipeline(**{k: v for k, v in text2video.components.items()
                                       if k in LTX2ImageToVideoPipeline._get_signature_keys(LTX2ImageToVideoPipeline)[0]
                                       or k in ("processor", "prompt_enhancer", "duration_head")})
    pipe.set_progress_bar_config(disable=True)
    out = pipe(image=Image.open(image).convert("RGB"), prompt=prompt, negative_prompt=negative, height=size,
               width=size, num_frames=length, frame_rate=frame_rate, num_inference_steps=steps, guidance_scale=cfg,
               audio_guidance_scale=cfg, stg_scale=0.0, audio_stg_scale=0.0, modality_scale=1.0,
               audio_modality_scale=1.0, guidance_rescale=0.0, audio_guidance_rescale=0.0, image_crf=0,
               output_type="pt", max_sequence_length=pipe.tokenizer.model_max_length,
               generator=torch.Generator("cpu").manual_seed(seed))
    return out.frames.permute(0, 1, 3, 4, 2).reshape(-1, size, size, 3), out.audio
