"""The flow-matching denoising loop, written to match diffusers' flow pipelines.

The loop is FluxPipeline / FluxImg2ImgPipeline / FluxInpaintPipeline / StableDiffusion3Pipeline /
ChromaPipeline taken apart and driven by the family's declaration: the same tensors from the same
operations in the same order, every random number from one CPU generator in the pipelines' order
(posterior sample of the picture's latents, then the start noise). Latents stay [B, C, h, w] here;
a family that packs cells into tokens does so inside its denoiser call, a pure permutation, so the
floats are those of the pipeline that loops over tokens.

Noise levels: FlowMatchEulerDiscreteScheduler from the model's scheduler config; the family says
whether its pipeline passes sigmas 1 .. 1/n ("linspace", Flux, Chroma; or the levels a pipeline
folder sets, Qwen Image 2.1's sample_sigmas) or lets the scheduler space its table ("scheduler",
SD3); with dynamic shifting, mu follows the image's token count as the family's `shift_rule` says
(`calculate_shift`, Flux.2's `compute_empirical_mu`, Qwen-Image Layered's square root of the picture's
tokens over 256). A family whose pipeline draws its start noise in another layout than [B, C, (frames,)
h, w] says how in its adapter's `start_noise` (Qwen-Image Layered's [B, frames, C, h, w]). `denoise` is
the pipelines' img2img strength: the steps from int(n - n * strength) on run, starting from the picture noised to that
level (`scale_noise`).
Skip Layer Guidance (`values.SkipLayers`) applies at the steps i with n * start < i < n * end, as
StableDiffusion3Pipeline's skip_guidance_layers do, and only with classifier-free guidance.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from nodeflow.core import NodeError, RunContext
from nodes._lazy import lazy

torch = lazy("torch")
np = lazy("numpy")

#: diffusers sampler names the flow loop runs -> diffusers' flow-matching scheduler class: Euler (the
#: pipelines' own) and Heun (second order, two model calls a step), which has no custom sigmas or
#: resolution-dependent shift, so only a family whose pipeline uses neither (SD3) runs it.
SAMPLERS = {"euler": "FlowMatchEulerDiscreteScheduler", "heun": "FlowMatchHeunDiscreteScheduler"}
SCHEDULES = ("normal", "simple")


def flow_scheduler(model: Any, sampler: str = "euler") -> Any:
    import diffusers

    config = {k: v for k, v in model.scheduler_config.items()
              if not k.startswith("_") and k not in ("comfy_sampling", "sample_sigmas")}
    if sampler == "heun" and (model.spec.sigmas == "linspace" or config.get("use_dynamic_shifting")):
        raise NodeError(f"heun (FlowMatchHeunDiscreteScheduler) has no custom sigmas or resolution-dependent shift, "
                        f"which {model.spec.title}'s pipeline uses; use euler, or the comfyui convention",
                        "sampler_name")
    return getattr(diffusers, SAMPLERS[sampler]).from_config(config)


def _mu(spec: Any, config: Any, seq_len: int, steps: int, max_shift: float) -> float:
    """The pipeline's dynamic shift for `seq_len` tokens and `steps` steps, by the family's rule."""
    if spec.shift_rule == "reference":  # QwenImageLayeredPipeline: (picture tokens / (256 * 256 / 16 / 16)) ** 0.5
        return (seq_len / 256) ** 0.5
    if spec.shift_rule == "empirical":
        from diffusers.pipelines.flux2.pipeline_flux2 import compute_empirical_mu

        return compute_empirical_mu(seq_len, steps)
    from diffusers.pipelines.flux.pipeline_flux import calculate_shift

    return calculate_shift(seq_len, config.get("base_image_seq_len", 256), config.get("max_image_seq_len", 4096),
                           config.get("base_shift", 0.5), config.get("max_shift", max_shift))


def timesteps_for(model: Any, scheduler: Any, steps: int, size: tuple[int, int], device: Any,
                  frames: int = 1) -> Any:
    """Set the scheduler's timesteps as the family's pipeline does for a latent of `size` (and `frames`
    latent frames: a video's tokens are its frames' cells)."""
    spec = model.spec
    patch = spec.latent.patch
    tokens = frames * (size[0] // patch) * (size[1] // patch)
    seq_len = {"channels": model.latent_channels, "reference": tokens // frames}.get(spec.shift_rule, tokens)
    config = scheduler.config
    dynamic = config.get("use_dynamic_shifting", False)
    if spec.sigmas == "own":  # the adapter's levels (Stable Audio 3's log-SNR schedule)
        scheduler.set_timesteps(sigmas=spec.module().levels(steps), device=device)
    elif spec.sigmas == "linspace":
        mu = {"mu": _mu(spec, config, seq_len, steps, 1.15)} if dynamic else {}
        scheduler.set_timesteps(sigmas=_levels(model, steps), device=device, **mu)
    else:
        mu = {"mu": _mu(spec, config, seq_len, steps, 1.16)} if dynamic else {}
        scheduler.set_timesteps(steps, device=device, **mu)
    return scheduler.timesteps


def _levels(model: Any, steps: int) -> Any:
    """The sigmas a "linspace" pipeline passes: 1 .. 1/n, or the levels its folder sets (`sample_sigmas`,
    QwenImage21Pipeline's: a Turbo's few steps), which fix the step count as they fix the pipeline's."""
    own = model.scheduler_config.get("sample_sigmas")
    if not own:
        return np.linspace(1.0, 1 / steps, steps)
    if steps != len(own):
        raise NodeError(f"{model.spec.title}'s pipeline runs the {len(own)} noise levels its folder sets "
                        f"(sample_sigmas): steps must be {len(own)}", "steps")
    return np.array(own, dtype=np.float64)


def start_step(steps: int, denoise: float) -> int:
    """The first step of an img2img run (the flow pipelines' get_timesteps: strength in floats)."""
    init = min(steps * denoise, steps)
    return int(max(steps - init, 0))


def _steps(scheduler: Any, sampler: str, schedule: Any) -> tuple[int, int, bool]:
    """(first step, end step, whether the run starts from pure noise). The Sampler's `denoise` is the
    pipelines' img2img strength (`start_step`); KSampler Advanced names its steps [start, end) as for the
    UNets (`_schedulers.step_range`), an early end without leftover noise stepping to sigma 0. A flow Euler
    step holds no state, so a run split at a step and continued without noise is the run in one piece
    (two models handing over at a step: WanImageToVideoPipeline's boundary_ratio)."""
    steps, denoise = int(schedule.steps), float(schedule.denoise)
    if schedule.end_step is None:
        return (0 if denoise >= 1.0 else start_step(steps, denoise)), steps, denoise >= 1.0
    from nodes.sampling._schedulers import end_at_zero, step_range

    first, end, full = step_range(schedule)
    if end < steps and not schedule.leftover_noise:
        end_at_zero(scheduler, sampler, end)
    return first, end, full


def _draw(dist: dict, generator: Any) -> Any:
    """Sample the VAE posterior (DiagonalGaussianDistribution.sample) and apply shift and scaling."""
    from diffusers.utils.torch_utils import randn_tensor

    from nodes.values import stored_latents

    mean, std = dist["mean"], dist["std"]
    sample = mean + std * randn_tensor(mean.shape, generator=generator, device=mean.device, dtype=mean.dtype)
    return stored_latents(sample, dist)


def _with_drawn(guider: Any, field: str, generator: Any, model: Any, masked: bool | None = None) -> Any:
    """Pictures the prompts carry as latents, as the pipelines take them: Kontext's `references` as
    the posterior's mode (FluxKontextPipeline's sample_mode "argmax", no random draw); a `concat`
    picture drawn from the posterior with the run's generator, a control picture (no mask) before the
    start noise as FluxControlPipeline draws it, an inpainting model's masked picture (`masked`) after
    it as FluxFillPipeline does; without a generator (the comfyui convention) the posterior's mean, as ComfyUI's
    VAE Encode gives it. Each picture once: one the prompts share is one draw."""
    import dataclasses

    from nodes.values import Conditioning

    drawn: dict[int, Any] = {}

    def resolve(latent: Any) -> Any:
        if not isinstance(latent, dict) or (masked is not None and ("mask" in latent) != masked):
            return latent
        if id(latent) not in drawn:
            dist = latent.get("latent_dist") if field == "concat" and generator is not None else None
            value = _draw(dist, generator) if dist is not None else latent["samples"]
            value = value.to(device=model.device, dtype=model.dtype)
            if "mask" in latent:  # the masked picture and its mask, laid out as the model takes them
                value = model.spec.module().concat_channels(model, value, latent["mask"])
            drawn[id(latent)] = value
        return drawn[id(latent)]

    def change(entry: Any) -> Any:
        value = getattr(entry, field)
        if field == "references":
            return entry.with_(references=tuple(resolve(r) for r in value))
        return entry.with_(concat=resolve(value))

    def entries(cond: Any) -> Any:
        carried = [e.references if field == "references" else e.concat for e in cond.entries] if cond else []
        if not any(isinstance(c, dict) or (isinstance(c, tuple) and c) for c in carried):
            return cond
        return Conditioning([change(e) for e in cond.entries])

    middle = guider.middle and (entries(guider.middle[0]), *guider.middle[1:])
    return dataclasses.replace(guider, positive=entries(guider.positive), negative=entries(guider.negative),
                               middle=middle)


def sample(ctx: RunContext, guider: Any, sampler: Any, schedule: Any, noise: Any, latent: dict) -> dict:
    """Denoise `latent` with a flow model in the diffusers convention; returns a new LATENT."""
    from diffusers.utils.torch_utils import randn_tensor

    from nodes.latent import _streams
    from nodes.sampling._flow_call import FlowCall
    from nodes.sampling._preview import PreviewThrottle, latent_preview

    model = guider.model
    if sampler.name not in SAMPLERS:
        raise NodeError(f"{model.spec.title} samples with {' or '.join(SAMPLERS)} in the diffusers convention "
                        f"(diffusers' flow-matching schedulers), not '{sampler.name}'; the comfyui convention has "
                        "more", "sampler_name")
    if schedule.scheduler not in SCHEDULES:
        raise NodeError(f"{model.spec.title} uses its pipeline's noise levels in the diffusers convention "
                        f"(scheduler 'normal'), not '{schedule.scheduler}'", "scheduler")
    device, dtype = model.device, model.dtype
    joint = _streams.of(latent, model)  # a soundtrack beside the video: both denoised as one tensor
    samples = _streams.joined(latent, joint).to(device=device, dtype=dtype)
    video = latent["samples"].shape
    batch, size, steps = samples.shape[0], tuple(video[-2:]), int(schedule.steps)
    if steps < 1:
        raise NodeError("steps must be at least 1", "steps")
    denoise = float(schedule.denoise)
    full = denoise >= 1.0
    noise_mask = latent.get("noise_mask")
    with torch.no_grad():
        scheduler = flow_scheduler(model, sampler.name)
        timesteps = timesteps_for(model, scheduler, steps, size, device, video[2] if len(video) == 5 else 1)
        first, end, full = _steps(scheduler, sampler.name, schedule)
        timesteps = timesteps[first * scheduler.order:end * scheduler.order]
        if len(timesteps) == 0:
            raise NodeError(f"denoise {denoise:g} of {steps} steps leaves no step to run", "denoise")
        scheduler.set_begin_index(first * scheduler.order)
        generator = noise.generator()
        image_latents = None
        dist = latent.get("latent_dist")
        continuing = schedule.end_step is not None and not noise.enabled  # the second part of a split run
        if continuing:
            image_latents = samples
        elif dist is not None or not full or noise_mask is not None:  # a picture is drawn even at strength 1
            image_latents = _draw(dist, generator) if dist is not None else samples
            image_latents = image_latents.to(device=device, dtype=dtype)
            if batch % image_latents.shape[0]:
                raise NodeError(f"{image_latents.shape[0]} images for a batch of {batch}", "latent_image")
            image_latents = torch.cat([image_latents] * (batch // image_latents.shape[0]), dim=0)
        guider = _with_drawn(guider, "references", generator, model)
        guider = _with_drawn(guider, "concat", generator, model, masked=False)
        if noise.enabled and joint is not None:
            start_noise = joint.randn(generator, device, dtype)
        elif noise.enabled and (own := getattr(model.spec.module(), "start_noise", None)) is not None:
            start_noise = own(samples.shape, generator, device, dtype)  # drawn in the pipeline's own layout
        elif noise.enabled:
            start_noise = randn_tensor(samples.shape, generator=generator, device=device, dtype=dtype)
        else:
            start_noise = torch.zeros_like(samples)
        if continuing:
            latents = samples
        elif full:
            latents = start_noise
        else:
            latents = scheduler.scale_noise(image_latents, timesteps[:1].repeat(batch), start_noise)
        guider = _with_drawn(guider, "concat", generator, model, masked=True)
        mask = None
        if joint is not None:
            mask = joint.masks(latent, batch)
            mask = None if mask is None else mask.to(device=device, dtype=dtype)
            joint = dataclasses.replace(joint, mask=mask)
        elif noise_mask is not None:
            from nodes.latent._frames import fit_noise_mask

            mask = fit_noise_mask(noise_mask, samples).to(device=device, dtype=dtype)
        clean = mask is not None and model.spec.mask_keeps_clean  # kept frames start and stay clean
        if clean:
            latents = (1 - mask) * image_latents + mask * latents

        def make(positive: Any, negative: Any, cfg_on: bool | None = None) -> FlowCall:
            return FlowCall(model, positive, negative, float(guider.cfg), batch, size, cfg_on=cfg_on,
                            schedule=timesteps, streams=joint, stream_cfg=guider.stream_cfg)

        if guider.middle is None:
            call = make(guider.positive, guider.negative)
        else:
            from nodes.sampling._dual_cfg import DualVelocity

            call = DualVelocity(make, guider)
        if clean and joint is None:
            call.keep_mask(mask)
        total = len(timesteps)
        throttle = PreviewThrottle(ctx, total)
        skip = model.skip_layers
        guided_at = getattr(model.spec.module(), "guided_at", None)  # a pipeline that stops guiding early
        for i, t in enumerate(timesteps):
            guide = guided_at is None or guided_at(first + i, steps, model.guidance_options)
            # Skip Layer Guidance as StableDiffusion3Pipeline runs it: with CFG, strictly inside its span.
            skipping = skip is not None and call.cfg_on and total * skip.start < i < total * skip.end
            velocity = call.velocity(latents, t, skip=skipping, guide=guide)
            # a stochastic scheduler (Stable Audio 3's) re-noises from the run's generator, as the pipeline's does
            latents = scheduler.step(velocity, t, latents, generator=generator, return_dict=False)[0]
            if mask is not None:
                kept = image_latents
                if i < total - 1 and not clean:
                    kept = scheduler.scale_noise(kept, torch.tensor([timesteps[i + 1]]), start_noise)
                used = mask
                if model.differential is not None:
                    from nodes.sampling._differential import progress, step_mask

                    last = float(scheduler.sigma_min) * scheduler.config.num_train_timesteps
                    used = step_mask(mask, progress(float(t), float(timesteps[0]), last), model.differential)
                latents = (1 - used) * kept + used * latents
            shown = latents if joint is None else joint.split(latents)[0]
            ctx.progress(i + 1, total, latent_preview(model, shown) if throttle.due(i) else None)
    result = {"samples": latents, "downscale": model.vae_scale_factor}
    if joint is not None:
        result |= joint.to_latent(latents)
    for key in ("noise_mask", "audio_noise_mask"):
        if latent.get(key) is not None:
            result[key] = latent[key]
    return result
