"""The denoising loop, written to match diffusers' pipelines.

The loop below is `StableDiffusionPipeline.__call__` (txt2img), `StableDiffusionImg2ImgPipeline`
(denoise < 1) and `StableDiffusionInpaintPipeline` (a noise mask, or a 9-channel UNet) taken apart:
the same tensors are made by the same operations in the same order, and every random number comes
from one CPU generator seeded by the NOISE input in the pipelines' order (posterior sample of the
image latents, then the initial noise, then the masked-image latents, then whatever the scheduler
draws per step). That is what makes our pixels equal to diffusers' for the same settings.

Scheduler construction lives in `nodes.sampling._schedulers`, text encoding in `nodes.conditioning._text_encode` and the
live preview in `nodes.sampling._preview`.
"""

from __future__ import annotations

import dataclasses
import inspect
from typing import Any

from nodeflow.core import NodeError, RunContext
from nodes._lazy import lazy
from nodes.conditioning._text_encode import encode_text
from nodes.latent._sizes import fit_empty_latent
from nodes.sampling._cond_call import CondCall
from nodes.sampling._preview import PreviewThrottle, latent_preview, preview_holder
from nodes.sampling._schedulers import end_at_zero, make_scheduler, step_range
from nodes.values import CondEntry, Conditioning, Guider, Model, NoiseSource, SamplerChoice, Schedule

torch = lazy("torch")



def _draw(dist: dict, generator: Any) -> Any:
    """Sample a VAE posterior as `DiagonalGaussianDistribution.sample` does, then scale it."""
    from diffusers.utils.torch_utils import randn_tensor

    mean, std = dist["mean"], dist["std"]
    sample = randn_tensor(mean.shape, generator=generator, device=mean.device, dtype=mean.dtype)
    return dist["scaling_factor"] * (mean + std * sample)


def _check_latent(model: Model, latent: dict) -> None:
    from nodes.latent._frames import require_kind

    samples = latent["samples"]
    require_kind(samples, model.spec)
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


def sample(ctx: RunContext, guider: Guider, sampler: SamplerChoice, schedule: Schedule,
           noise: NoiseSource, latent: dict) -> dict:
    """Denoise `latent`; returns a new LATENT (scaled latents, noise mask kept)."""
    model = guider.model
    if model.cfg_norm is not None or model.renorm_cfg is not None:
        which = "CFG Norm" if model.cfg_norm is not None else "Renorm CFG"
        raise NodeError(f"{which} follows ComfyUI's sampling: use the comfyui convention (the diffusers pipelines "
                        "rescale guidance their own way, if at all)", "model")
    latent = fit_empty_latent(ctx, model, latent)
    _check_latent(model, latent)
    own = getattr(model.spec.module(), "sample_joint", None) if model.spec is not None else None
    joint = own is not None and latent.get("audio_samples") is not None
    if guider.middle is not None and (joint or model.spec is None or not model.spec.is_flow):
        raise NodeError("Dual CFG Guider runs flow models over a picture in the diffusers convention; use the "
                        "comfyui convention for this one", "guider")
    if joint:  # a soundtrack on its own schedule
        return own(ctx, guider, schedule, noise, latent)  # the family's pipeline loop (MiniMax H3's)
    guider = _with_negative(ctx, guider)
    if model.spec is not None and model.spec.is_flow:
        from nodes.sampling._flow_loop import sample as flow_sample

        return flow_sample(ctx, guider, sampler, schedule, noise, latent)
    device, dtype = model.device, model.dtype
    samples = latent["samples"].to(device=device, dtype=dtype)
    batch = samples.shape[0]
    steps = int(schedule.steps)
    if steps < 1:
        raise NodeError("steps must be at least 1", "steps")
    t_start, t_end, full = step_range(schedule)
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
            end_at_zero(scheduler, sampler.name, t_end)
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
        total = len(timesteps)
        throttle = PreviewThrottle(ctx, total)
        if throttle.wanted and preview_holder(model).preview_projection is None:
            ctx.models.ensure(model.vae)  # fitted once per VAE, from one encode
        for i, t in enumerate(timesteps):
            noise_pred = _predict(call, scheduler, latents, t, cfg, cfg_on, unet_extra, guider.guidance_rescale)
            out = scheduler.step(noise_pred, t, latents, **extra, return_dict=False)
            latents = out[0]
            if blend:
                init_proper = image_latents
                if i < len(timesteps) - 1:
                    init_proper = scheduler.add_noise(init_proper, initial_noise, torch.tensor([timesteps[i + 1]]))
                used = mask
                if model.differential is not None:
                    from nodes.sampling._differential import progress, step_mask

                    end = float(scheduler.timesteps[-1]) - 1  # below the last step: cells at 0 never change
                    used = step_mask(mask, progress(float(t), float(timesteps[0]), end), model.differential)
                latents = (1 - used) * init_proper + used * latents
            preview = None
            if throttle.due(i):
                preview = latent_preview(model, out[1] if len(out) > 1 and out[1] is not None else latents)
            ctx.progress(i + 1, total, preview)
    result = {"samples": latents, "downscale": model.vae_scale_factor}
    if noise_mask is not None:
        result["noise_mask"] = noise_mask
    return result


def _predict(call: CondCall, scheduler: Any, latents: Any, t: Any, cfg: float, cfg_on: bool, unet_extra: Any,
             guidance_rescale: float) -> Any:
    """The guided model output for one step: the prompts' outputs (see `nodes.sampling._cond_call`), mixed
    by classifier-free guidance as the pipelines do."""
    cond, uncond = call.outputs(scheduler.scale_model_input(latents, t), t, unet_extra)
    if not cfg_on:
        return cond
    pred = uncond + cfg * (cond - uncond)
    if guidance_rescale > 0.0:
        from diffusers.pipelines.stable_diffusion.pipeline_stable_diffusion import rescale_noise_cfg

        pred = rescale_noise_cfg(pred, cond, guidance_rescale=guidance_rescale)
    return pred
