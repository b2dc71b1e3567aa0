"""Text encoding, diffusers schedulers and the denoising loop, written to match diffusers' pipelines.

The loop below is `StableDiffusionPipeline.__call__` (txt2img), `StableDiffusionImg2ImgPipeline`
(denoise < 1) and `StableDiffusionInpaintPipeline` (a noise mask, or a 9-channel UNet) taken apart:
the same tensors are made by the same operations in the same order, and every random number comes
from one CPU generator seeded by the NOISE input in the pipelines' order (posterior sample of the
image latents, then the initial noise, then the masked-image latents, then whatever the scheduler
draws per step). That is what makes our pixels equal to diffusers' for the same settings.
"""

from __future__ import annotations

import copy
import dataclasses
import inspect
import json
import time
from typing import Any

from nodeflow.core import NodeError, RunContext
from nodes._cond_call import CondCall
from nodes._diffusion import (
    Clip,
    CondEntry,
    Conditioning,
    Guider,
    Model,
    NoiseSource,
    SamplerChoice,
    Schedule,
)
from nodes._lazy import lazy
from nodes.latent import fit_empty_latent

torch = lazy("torch")
diffusers = lazy("diffusers")

#: ComfyUI's sampler names -> (diffusers scheduler class, forced config values).
SAMPLERS: dict[str, tuple[str, dict[str, Any]]] = {
    "euler": ("EulerDiscreteScheduler", {}),
    "euler_ancestral": ("EulerAncestralDiscreteScheduler", {}),
    "heun": ("HeunDiscreteScheduler", {}),
    "lms": ("LMSDiscreteScheduler", {}),
    "dpm_2": ("KDPM2DiscreteScheduler", {}),
    "dpm_2_ancestral": ("KDPM2AncestralDiscreteScheduler", {}),
    "dpmpp_2m": ("DPMSolverMultistepScheduler", {"algorithm_type": "dpmsolver++", "solver_order": 2}),
    "dpmpp_2m_sde": ("DPMSolverMultistepScheduler", {"algorithm_type": "sde-dpmsolver++", "solver_order": 2}),
    "dpmpp_sde": ("DPMSolverSDEScheduler", {}),
    "ddim": ("DDIMScheduler", {}),
    "ddpm": ("DDPMScheduler", {}),
    "uni_pc": ("UniPCMultistepScheduler", {}),
    "deis": ("DEISMultistepScheduler", {}),
}
SAMPLER_NAMES = tuple(SAMPLERS)
#: ComfyUI's scheduler names -> diffusers config values ("normal" keeps the checkpoint's spacing).
SCHEDULES: dict[str, dict[str, Any]] = {
    "normal": {},
    "karras": {"use_karras_sigmas": True},
    "exponential": {"use_exponential_sigmas": True},
    "beta": {"use_beta_sigmas": True},
    "sgm_uniform": {"timestep_spacing": "trailing"},
}
SCHEDULE_NAMES = tuple(SCHEDULES)
_SIGMA_FLAGS = ("use_karras_sigmas", "use_exponential_sigmas", "use_beta_sigmas")
ANCESTRAL = {"euler_ancestral"}
#: Seconds between latent previews (the first and last step always get one): a preview costs about
#: as much as a tiny model's step, and ten a second is all a viewer needs.
PREVIEW_EVERY = 0.1



# ---------------------------------------------------------------------------------------- text


def encode_text(ctx: RunContext, clip: Clip, text: str, long_prompt: str = "cut") -> CondEntry:
    """One prompt through the text encoder(s), as diffusers' `encode_prompt` does (clip_skip None).

    A prompt longer than the tokenizer's window is cut, exactly as diffusers cuts it, with a warning
    naming the cut-off words; or, with long_prompt="chunk" (SD 1.x/2.x), encoded window by window
    and the windows' states joined (a prompt that fits gives the same result either way).
    """
    with torch.no_grad():
        if clip.text_encoder_2 is not None:
            if long_prompt == "chunk":
                raise NodeError("chunked long prompts are supported for SD 1.x/2.x text encoders only",
                                "long_prompt")
            return _encode_sdxl(ctx, clip, text)
        if long_prompt == "chunk":
            ids, mask = _chunk_tokens(clip.tokenizer, text)
        else:
            ids, mask = _tokens(ctx, clip.tokenizer, text)
        attention = mask.to(clip.device) if getattr(clip.text_encoder.config, "use_attention_mask", False) else None
        embeds = clip.text_encoder(ids.to(clip.device), attention_mask=attention)[0]
        embeds = embeds.to(dtype=clip.text_encoder.dtype, device=clip.device)
        embeds = embeds.reshape(1, -1, embeds.shape[-1])  # chunks side by side
    return CondEntry(embeds=embeds, text=text)


def _chunk_tokens(tokenizer: Any, text: str) -> tuple[Any, Any]:
    """[chunks, window] token ids: each chunk is BOS + up to window-2 tokens + EOS + padding."""
    window = tokenizer.model_max_length
    ids = tokenizer(text, add_special_tokens=False, truncation=False).input_ids
    rows, masks = [], []
    for start in range(0, max(len(ids), 1), window - 2):
        body = [tokenizer.bos_token_id, *ids[start:start + window - 2], tokenizer.eos_token_id]
        masks.append([1] * len(body) + [0] * (window - len(body)))
        rows.append(body + [tokenizer.pad_token_id] * (window - len(body)))
    return torch.tensor(rows), torch.tensor(masks)


def _tokens(ctx: RunContext, tokenizer: Any, text: str) -> tuple[Any, Any]:
    inputs = tokenizer(text, padding="max_length", max_length=tokenizer.model_max_length,
                       truncation=True, return_tensors="pt")
    full = tokenizer(text, padding="longest", return_tensors="pt").input_ids
    if full.shape[-1] > inputs.input_ids.shape[-1]:
        removed = tokenizer.batch_decode(full[:, tokenizer.model_max_length - 1: -1])[0]
        ctx.warn(f"prompt is longer than the text encoder's {tokenizer.model_max_length} tokens; "
                 f"this part was cut off (as diffusers does): {removed!r}")
    return inputs.input_ids, inputs.attention_mask


def _encode_sdxl(ctx: RunContext, clip: Clip, text: str) -> CondEntry:
    """SDXL: penultimate hidden states of both encoders side by side, pooled output of the second."""
    parts = []
    pooled = None
    for tokenizer, encoder in ((clip.tokenizer, clip.text_encoder), (clip.tokenizer_2, clip.text_encoder_2)):
        ids, _ = _tokens(ctx, tokenizer, text)
        out = encoder(ids.to(clip.device), output_hidden_states=True)
        pooled = out[0]
        parts.append(out.hidden_states[-2])
    embeds = torch.concat(parts, dim=-1).to(dtype=clip.text_encoder_2.dtype, device=clip.device)
    return CondEntry(embeds=embeds, pooled=pooled.to(dtype=clip.text_encoder_2.dtype), text=text)


# ---------------------------------------------------------------------------------- schedulers


def scheduler_class(name: str) -> Any:
    if name not in SAMPLERS:
        raise NodeError(f"unknown sampler '{name}' (known: {', '.join(SAMPLER_NAMES)})", "sampler_name")
    return getattr(diffusers, SAMPLERS[name][0])


def make_scheduler(ctx: RunContext, model: Model, sampler: SamplerChoice, schedule: Schedule,
                   seed: int) -> Any:
    """The diffusers scheduler for a sampler + schedule, built from the checkpoint's own config.

    `from_config` carries the prediction type, betas, zero-terminal-SNR rescaling and timestep
    spacing over, so epsilon and v-prediction checkpoints both just work.
    """
    cls = scheduler_class(sampler.name)
    accepted = set(inspect.signature(cls.__init__).parameters)
    if schedule.scheduler not in SCHEDULES:
        raise NodeError(f"unknown scheduler '{schedule.scheduler}' (known: {', '.join(SCHEDULE_NAMES)})",
                        "scheduler")
    overrides = dict(SAMPLERS[sampler.name][1])
    wanted = SCHEDULES[schedule.scheduler]
    for key in wanted:
        if key not in accepted:
            raise NodeError(f"the {sampler.name} sampler ({cls.__name__}) does not support the "
                            f"'{schedule.scheduler}' scheduler; pick 'normal'", "scheduler")
    overrides |= {flag: False for flag in _SIGMA_FLAGS if flag in accepted}
    overrides |= wanted
    if "noise_sampler_seed" in accepted:
        overrides["noise_sampler_seed"] = int(seed)  # DPMSolverSDE draws its Brownian noise itself
    config = model.scheduler_config
    if config.get("rescale_betas_zero_snr") and "rescale_betas_zero_snr" not in accepted:
        ctx.warn(f"this model uses a zero-terminal-SNR schedule, which diffusers' {cls.__name__} "
                 f"({sampler.name}) does not support; expect poor results, or pick euler, "
                 "euler_ancestral, dpmpp_2m, ddim, ddpm or uni_pc")
    if sampler.name in ANCESTRAL:
        cls = _euler_ancestral_with_eta()
    scheduler = _from_config(cls, config, overrides)
    if sampler.name in ANCESTRAL:
        scheduler.eta = float(sampler.eta)
    return scheduler


_prototypes: dict[str, Any] = {}


def _from_config(cls: Any, config: dict[str, Any], overrides: dict[str, Any]) -> Any:
    """`cls.from_config(config, **overrides)`, built once and copied after (5x cheaper)."""
    key = json.dumps([cls.__name__, config, overrides], sort_keys=True, default=str)
    if key not in _prototypes:
        if len(_prototypes) > 64:
            _prototypes.clear()
        _prototypes[key] = cls.from_config(config, **overrides)
    return copy.deepcopy(_prototypes[key])


_eta_class: Any = None


def _euler_ancestral_with_eta() -> Any:
    """diffusers' Euler ancestral (eta 1) with k-diffusion's eta: how much fresh noise a step adds.

    eta = 1 runs diffusers' own step unchanged (so pixels match the pipeline); eta = 0 is plain Euler.
    """
    global _eta_class
    if _eta_class is not None:
        return _eta_class
    from diffusers import EulerAncestralDiscreteScheduler
    from diffusers.utils.torch_utils import randn_tensor

    class EulerAncestralEta(EulerAncestralDiscreteScheduler):
        eta = 1.0

        def step(self, model_output, timestep, sample, generator=None, return_dict=True):
            if self.eta == 1.0:
                return super().step(model_output, timestep, sample, generator=generator, return_dict=return_dict)
            if self.step_index is None:
                self._init_step_index(timestep)
            sigma = self.sigmas[self.step_index]
            sample = sample.to(torch.float32)
            if self.config.prediction_type == "epsilon":
                pred_original_sample = sample - sigma * model_output
            elif self.config.prediction_type == "v_prediction":
                pred_original_sample = model_output * (-sigma / (sigma**2 + 1) ** 0.5) + (sample / (sigma**2 + 1))
            else:
                raise ValueError(f"prediction_type {self.config.prediction_type} is not supported")
            sigma_to = self.sigmas[self.step_index + 1]
            sigma_up = torch.minimum(
                sigma_to, self.eta * (sigma_to**2 * (sigma**2 - sigma_to**2) / sigma**2) ** 0.5)
            sigma_down = (sigma_to**2 - sigma_up**2) ** 0.5
            prev_sample = sample + (sample - pred_original_sample) / sigma * (sigma_down - sigma)
            if self.eta > 0:
                noise = randn_tensor(model_output.shape, dtype=model_output.dtype,
                                     device=model_output.device, generator=generator)
                prev_sample = prev_sample + noise * sigma_up
            prev_sample = prev_sample.to(model_output.dtype)
            self._step_index += 1
            return (prev_sample, pred_original_sample)

    _eta_class = EulerAncestralEta
    return _eta_class


def start_index(steps: int, denoise: float) -> tuple[int, int]:
    """(t_start, steps actually run): diffusers' img2img `strength` arithmetic for `denoise`."""
    init_timestep = min(int(steps * denoise), steps)
    t_start = max(steps - init_timestep, 0)
    return t_start, steps - t_start


# -------------------------------------------------------------------------------------- the loop


def _draw(dist: dict, generator: Any) -> Any:
    """Sample a VAE posterior as `DiagonalGaussianDistribution.sample` does, then scale it."""
    from diffusers.utils.torch_utils import randn_tensor

    mean, std = dist["mean"], dist["std"]
    sample = randn_tensor(mean.shape, generator=generator, device=mean.device, dtype=mean.dtype)
    return dist["scaling_factor"] * (mean + std * sample)


def _check_latent(model: Model, latent: dict) -> None:
    samples = latent["samples"]
    if samples.shape[1] != model.latent_channels:
        raise NodeError(f"the latent has {samples.shape[1]} channels but this model's VAE uses "
                        f"{model.latent_channels}; make it with this checkpoint's VAE", "latent_image")
    made_for = latent.get("downscale")
    if made_for is not None and made_for != model.vae_scale_factor:
        raise NodeError(
            f"the latent was made for a VAE that shrinks images {made_for}x, but this model's shrinks "
            f"them {model.vae_scale_factor}x; connect the checkpoint's VAE to Empty Latent", "latent_image")


def _image_latents(latent: dict, samples: Any, generator: Any, batch: int, blend: bool) -> Any:
    """1. The picture's latents: img2img's start, or what a 4-channel inpaint blends back."""
    dist = latent.get("latent_dist")
    image_latents = _draw(dist, generator) if dist is not None else samples
    image_latents = image_latents.to(device=samples.device, dtype=samples.dtype)
    if batch % image_latents.shape[0]:
        raise NodeError(f"{image_latents.shape[0]} images for a batch of {batch}", "latent_image")
    # Both copy into a contiguous tensor, as the pipelines do (the memory layout changes the floats).
    if blend or latent.get("masked_dist") is not None:
        return image_latents.repeat(batch // image_latents.shape[0], 1, 1, 1)  # inpaint pipeline
    return torch.cat([image_latents] * (batch // image_latents.shape[0]), dim=0)  # img2img pipeline


def _start_latents(scheduler: Any, samples: Any, generator: Any, enabled: bool, full: bool,
                   image_latents: Any, timesteps: Any) -> tuple[Any, Any]:
    """2. The start noise, and the latents the loop starts from: noise alone, or the picture noised."""
    from diffusers.utils.torch_utils import randn_tensor

    if enabled:
        noise = randn_tensor(samples.shape, generator=generator, device=samples.device, dtype=samples.dtype)
    else:
        noise = torch.zeros_like(samples)
    if full:
        return noise, noise * scheduler.init_noise_sigma
    return noise, scheduler.add_noise(image_latents, noise, timesteps[:1].repeat(samples.shape[0]))


def _inpaint_inputs(latent: dict, samples: Any, generator: Any, batch: int) -> tuple[Any, Any]:
    """3. The inpaint pipeline's mask at latent size, and the masked picture's latents (if any)."""
    noise_mask, masked_dist = latent.get("noise_mask"), latent.get("masked_dist")
    if noise_mask is None and masked_dist is None:
        return None, None
    size = tuple(samples.shape[-2:])
    pixel_mask = noise_mask if noise_mask is not None else torch.zeros((batch, 1) + size)
    mask = torch.nn.functional.interpolate(pixel_mask, size=size).to(device=samples.device, dtype=samples.dtype)
    masked_latents = None
    if masked_dist is not None:
        masked_latents = _draw(masked_dist, generator).to(device=samples.device, dtype=samples.dtype)
        if masked_latents.shape[0] < batch:
            masked_latents = masked_latents.repeat(batch // masked_latents.shape[0], 1, 1, 1)
    if mask.shape[0] < batch:
        mask = mask.repeat(batch // mask.shape[0], 1, 1, 1)
    return mask, masked_latents


def _with_negative(ctx: RunContext, guider: Guider) -> Guider:
    """An unconnected negative means the empty prompt, as in diffusers: "" encoded with the
    checkpoint's CLIP, or zeros for SDXL (its pipeline's force_zeros_for_empty_prompt)."""
    if guider.negative is not None or guider.cfg <= 1.0 or not guider.positive.entries:
        return guider
    model, first = guider.model, guider.positive.entries[0]
    if model.family == "sdxl":
        entry = CondEntry(torch.zeros_like(first.embeds), torch.zeros_like(first.pooled))
    elif model.clip is not None:
        ctx.models.ensure(model.clip)  # not an input of the node: a memory budget may have freed it
        entry = encode_text(ctx, model.clip, "", "cut")
    else:
        raise NodeError("cfg above 1 needs a negative conditioning, and this model came without its "
                        "text encoder to make an empty one; connect one (an empty prompt is fine)", "negative")
    return dataclasses.replace(guider, negative=Conditioning([entry]))


def _step_range(schedule: Schedule) -> tuple[int, int, bool]:
    """(first step, end step, whether the run starts from pure noise) of a schedule.

    The Sampler's `denoise` runs the last int(steps * denoise) steps (diffusers' img2img strength);
    KSampler Advanced names its steps [start_step, end_step) directly.
    """
    steps = int(schedule.steps)
    if schedule.end_step is None:
        t_start, run_steps = start_index(steps, float(schedule.denoise))
        if run_steps < 1:
            raise NodeError(f"denoise {schedule.denoise:g} of {steps} steps leaves no step to run "
                            f"(int(steps * denoise) = 0); raise denoise or steps", "denoise")
        return t_start, steps, float(schedule.denoise) >= 1.0
    end = min(int(schedule.end_step), steps)
    if int(schedule.start_step) >= end:
        raise NodeError(f"start_at_step {schedule.start_step} leaves no step before step {end}", "start_at_step")
    return int(schedule.start_step), end, int(schedule.start_step) == 0


#: diffusers schedulers whose step to a sigma of 0 is a plain full denoise (one sigma per step).
_ZERO_END = frozenset({"euler", "euler_ancestral", "lms"})


def _end_at_zero(scheduler: Any, sampler: str, end: int) -> None:
    """Make the step that ends at step `end` go to sigma 0 (KSampler Advanced without leftover noise)."""
    if sampler not in _ZERO_END:
        raise NodeError(f"ending early with a full denoise needs euler, euler_ancestral or lms in the "
                        f"diffusers convention ({sampler} keeps state across steps); turn on "
                        f"return_with_leftover_noise or use the comfyui convention", "end_at_step")
    scheduler.sigmas = scheduler.sigmas.clone()
    scheduler.sigmas[end] = 0.0


def sample(ctx: RunContext, guider: Guider, sampler: SamplerChoice, schedule: Schedule,
           noise: NoiseSource, latent: dict) -> dict:
    """Denoise `latent`; returns a new LATENT (scaled latents, noise mask kept)."""
    model = guider.model
    latent = fit_empty_latent(ctx, model, latent)
    guider = _with_negative(ctx, guider)
    _check_latent(model, latent)
    device, dtype = model.device, model.dtype
    samples = latent["samples"].to(device=device, dtype=dtype)
    batch = samples.shape[0]
    steps = int(schedule.steps)
    if steps < 1:
        raise NodeError("steps must be at least 1", "steps")
    t_start, t_end, full = _step_range(schedule)
    noise_mask = latent.get("noise_mask")
    inpaint_unet = model.is_inpaint
    if model.in_channels not in (model.latent_channels, model.latent_channels * 2 + 1):
        raise NodeError(f"UNets with {model.in_channels} input channels are not supported", "model")
    if inpaint_unet and latent.get("masked_dist") is None:
        raise NodeError("this is a 9-channel inpainting model: feed it a latent from VAE Encode for "
                        "Inpaint (it needs the masked image)", "latent_image")
    cfg = float(guider.cfg)
    cfg_on = cfg > 1.0 and model.unet.config.time_cond_proj_dim is None
    call = CondCall(model, guider.positive, guider.negative, cfg_on, batch, tuple(samples.shape[-2:]),
                    int(model.scheduler_config.get("num_train_timesteps", 1000)))

    with torch.no_grad():
        scheduler = make_scheduler(ctx, model, sampler, schedule, noise.seed)
        scheduler.set_timesteps(steps, device=device)
        order = scheduler.order
        timesteps = scheduler.timesteps[t_start * order:t_end * order]
        if t_end < steps and not schedule.leftover_noise:
            _end_at_zero(scheduler, sampler.name, t_end)
        if (not full or noise_mask is not None or inpaint_unet) and hasattr(scheduler, "set_begin_index"):
            scheduler.set_begin_index(t_start * order)  # the img2img / inpaint pipelines do this
        generator = noise.generator()
        # Every random number comes from `generator`, in the pipelines' order: 1, 2, 3, then steps.
        blend = noise_mask is not None and not inpaint_unet
        if schedule.end_step is not None and not noise.enabled:  # KSampler Advanced continuing a run
            image_latents, initial_noise, latents = samples, torch.zeros_like(samples), samples
        else:
            image_latents = _image_latents(latent, samples, generator, batch, blend) if not full or blend else None
            initial_noise, latents = _start_latents(scheduler, samples, generator, noise.enabled, full,
                                                    image_latents, timesteps)
        mask, masked_latents = _inpaint_inputs(latent, samples, generator, batch)
        unet_extra = torch.cat([mask, masked_latents], dim=1) if inpaint_unet else None

        extra: dict[str, Any] = {}
        accepted = inspect.signature(scheduler.step).parameters
        if "eta" in accepted:
            extra["eta"] = 0.0  # DDIM / TCD: deterministic, the pipelines' default
        if "generator" in accepted:
            extra["generator"] = generator
        want_preview = ctx.previews and ctx.on_progress is not None
        if want_preview and preview_holder(model).preview_projection is None:
            ctx.models.ensure(model.vae)  # fitted once per VAE, from one encode
        last_preview = 0.0
        total = len(timesteps)
        for i, t in enumerate(timesteps):
            noise_pred = _predict(call, scheduler, latents, t, cfg, cfg_on, unet_extra, guider.guidance_rescale)
            out = scheduler.step(noise_pred, t, latents, **extra, return_dict=False)
            latents = out[0]
            if blend:
                init_proper = image_latents
                if i < len(timesteps) - 1:
                    init_proper = scheduler.add_noise(init_proper, initial_noise, torch.tensor([timesteps[i + 1]]))
                latents = (1 - mask) * init_proper + mask * latents
            preview = None
            if want_preview and (i == 0 or i == total - 1 or time.perf_counter() - last_preview >= PREVIEW_EVERY):
                preview = latent_preview(model, out[1] if len(out) > 1 and out[1] is not None else latents)
                last_preview = time.perf_counter()
            ctx.progress(i + 1, total, preview)
    result = {"samples": latents, "downscale": model.vae_scale_factor}
    if noise_mask is not None:
        result["noise_mask"] = noise_mask
    return result


def _predict(call: CondCall, scheduler: Any, latents: Any, t: Any, cfg: float, cfg_on: bool, unet_extra: Any,
             guidance_rescale: float) -> Any:
    """The guided model output for one step: the prompts' outputs (see `nodes._cond_call`), mixed
    by classifier-free guidance as the pipelines do."""
    cond, uncond = call.outputs(scheduler.scale_model_input(latents, t), t, unet_extra)
    if not cfg_on:
        return cond
    pred = uncond + cfg * (cond - uncond)
    if guidance_rescale > 0.0:
        from diffusers.pipelines.stable_diffusion.pipeline_stable_diffusion import rescale_noise_cfg

        pred = rescale_noise_cfg(pred, cond, guidance_rescale=guidance_rescale)
    return pred


def latent_preview(model: Model, latents: Any) -> Any:
    """A cheap RGB picture of latents: a linear projection, no VAE decode (PIL, latent resolution)."""
    from PIL import Image

    holder = preview_holder(model)
    if holder.preview_projection is None:
        holder.preview_projection = fit_preview_projection(model)
    weight, bias = holder.preview_projection
    x = latents[0].detach().float().cpu()
    rgb = torch.einsum("chw,cr->rhw", x, weight) + bias[:, None, None]
    rgb = (rgb * 255).clamp(0, 255).round().to(torch.uint8).permute(1, 2, 0).numpy()
    return Image.fromarray(rgb)


def preview_holder(model: Model) -> Any:
    """Where a model's preview projection is kept: on its VAE, which every copy of the model
    (LoRA, Model Sampling) shares, so it is fitted once per checkpoint."""
    return model.vae if model.vae is not None else model


def fit_preview_projection(model: Model) -> tuple[Any, Any]:
    """Least-squares latent -> RGB map for this checkpoint's VAE, fitted once from one encode.

    A picture of random colour patches is encoded; each latent cell is paired with the average
    colour of the pixels it covers. Works for any VAE (SD's, SDXL's, the built-in tiny model's).
    """
    channels = model.latent_channels
    vae = model.vae
    if vae is None:
        return torch.zeros(channels, 3), torch.full((3,), 0.5)
    factor = vae.scale_factor
    cells = 8
    generator = torch.Generator("cpu").manual_seed(0)
    patches = torch.rand((1, 3, cells, cells), generator=generator)
    pixels = torch.nn.functional.interpolate(patches, scale_factor=factor * 4, mode="nearest")
    with torch.no_grad():
        posterior = vae.vae.encode((2 * pixels - 1).to(device=vae.device, dtype=vae.dtype)).latent_dist
    latents = (posterior.mean.float().cpu() * vae.scaling_factor)[0]  # [C, 4 * cells, 4 * cells]
    targets = torch.nn.functional.interpolate(patches, size=latents.shape[-2:], mode="nearest")[0]
    a = torch.cat([latents.reshape(channels, -1).T, torch.ones(latents[0].numel(), 1)], dim=1)
    solution = torch.linalg.lstsq(a, targets.reshape(3, -1).T).solution  # [C + 1, 3]
    return solution[:channels], solution[channels]
