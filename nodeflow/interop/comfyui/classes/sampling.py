"""Latents and sampling: empty latents, KSampler and the custom-sampling parts (samplers, schedulers,
sigmas, guiders, noise).

One `Entry` per ComfyUI class (see `classmap` for the fields); joined in `classmap.ENTRIES`.
"""

from __future__ import annotations

from nodeflow.interop.comfyui import convert, convert_data
from nodeflow.interop.comfyui.classes.entry import CONTROL, Entry, same

_SAMPLER_INPUTS = {"model": "model", "positive": "positive", "negative": "negative",
                   "latent_image": "latent_image", "seed": "seed", "steps": "steps", "cfg": "cfg",
                   "sampler_name": "sampler_name", "scheduler": "scheduler", "denoise": "denoise"}

SAMPLING: tuple[Entry, ...] = (
    # latent
    Entry("EmptyLatentImage", "latent.empty", ("width", "height", "batch_size"),
          {"width": "width", "height": "height", "batch_size": "batch_size"}, ("latent",)),
    Entry("EmptySD3LatentImage", "latent.empty", ("width", "height", "batch_size"),
          {"width": "width", "height": "height", "batch_size": "batch_size"}, ("latent",)),
    Entry("EmptyFlux2LatentImage", "latent.empty", ("width", "height", "batch_size"),
          same("width", "height", "batch_size"), ("latent",)),
    Entry("EmptyQwenImageLayeredLatentImage", "qwen_image.empty_layered_latent",
          ("width", "height", "layers", "batch_size"), same("width", "height", "layers", "batch_size"), ("latent",)),
    Entry("LatentUpscaleBy", "latent.upscale", ("upscale_method", "scale_by"),
          {"samples": "latent", "upscale_method": "method", "scale_by": "scale_by"}, ("latent",),
          values=convert.latent_upscale_method),
    Entry("LatentUpscale", "latent.upscale_to", ("upscale_method", "width", "height", "crop"),
          {"samples": "latent", "upscale_method": "method", "width": "width", "height": "height", "crop": "crop"},
          ("latent",), values=convert.latent_upscale_method),
    Entry("SetLatentNoiseMask", "latent.set_noise_mask", (), {"samples": "latent", "mask": "mask"}, ("latent",)),
    # sampling
    Entry("KSampler", "sampling.sampler",
          ("seed", CONTROL, "steps", "cfg", "sampler_name", "scheduler", "denoise"), _SAMPLER_INPUTS,
          ("latent",), values=convert.ksampler_values, export=convert.ksampler_export),
    Entry("KSamplerAdvanced", "sampling.sampler_advanced",
          ("add_noise", "noise_seed", CONTROL, "steps", "cfg", "sampler_name", "scheduler", "start_at_step",
           "end_at_step", "return_with_leftover_noise"),
          {"model": "model", "positive": "positive", "negative": "negative", "latent_image": "latent_image",
           "add_noise": "add_noise", "noise_seed": "noise_seed", "steps": "steps", "cfg": "cfg",
           "sampler_name": "sampler_name", "scheduler": "scheduler", "start_at_step": "start_at_step",
           "end_at_step": "end_at_step", "return_with_leftover_noise": "return_with_leftover_noise"},
          ("latent",), values=convert.advanced_sampler_values, export=convert.advanced_sampler_export),
    Entry("SamplerCustom", "sampling.sampler_custom", ("add_noise", "noise_seed", CONTROL, "cfg"),
          {"model": "model", "positive": "positive", "negative": "negative", "sampler": "sampler", "sigmas": "sigmas",
           "latent_image": "latent_image", "add_noise": "add_noise", "noise_seed": "noise_seed", "cfg": "cfg"},
          ("latent", None)),
    Entry("SamplerCustomAdvanced", "sampling.sample", (),
          {"noise": "noise", "guider": "guider", "sampler": "sampler", "sigmas": "sigmas",
           "latent_image": "latent_image"}, ("latent", "denoised_output")),
    Entry("RandomNoise", "noise.random", ("noise_seed", CONTROL), {"noise_seed": "seed"}, ("noise",)),
    Entry("DisableNoise", "noise.disable", (), {}, ("noise",)),
    Entry("CFGGuider", "sampling.cfg_guider", ("cfg",),
          {"model": "model", "positive": "positive", "negative": "negative", "cfg": "cfg"}, ("guider",)),
    Entry("DualCFGGuider", "sampling.dual_cfg_guider", ("cfg_conds", "cfg_cond2_negative", "style"),
          same("model", "cond1", "cond2", "negative", "cfg_conds", "cfg_cond2_negative", "style"), ("guider",)),
    Entry("BasicGuider", "sampling.basic_guider", (), {"model": "model", "conditioning": "conditioning"},
          ("guider",)),
    Entry("KSamplerSelect", "sampling.sampler_select", ("sampler_name",), {"sampler_name": "sampler_name"},
          ("sampler",), values=convert.sampler_names),
    # the custom-sampler SAMPLER with its own widgets: Sampler Select on euler_ancestral with that eta
    Entry("SamplerEulerAncestral", "sampling.sampler_select", ("eta", "s_noise"), same("eta", "s_noise"),
          ("sampler",), fixed={"sampler_name": "euler_ancestral"}, values=convert_data.euler_ancestral_values),
    Entry("BasicScheduler", "sampling.scheduler", ("scheduler", "steps", "denoise"),
          {"model": "model", "scheduler": "scheduler", "steps": "steps", "denoise": "denoise"}, ("sigmas",),
          values=convert.ksampler_values, export=convert.ksampler_export),
    Entry("SDTurboScheduler", "sampling.sd_turbo_scheduler", ("steps", "denoise"), same("model", "steps", "denoise"),
          ("sigmas",)),
    Entry("KarrasScheduler", "sampling.karras_scheduler", ("steps", "sigma_max", "sigma_min", "rho"),
          {"steps": "steps", "sigma_max": "sigma_max", "sigma_min": "sigma_min", "rho": "rho"}, ("sigmas",)),
    Entry("ExponentialScheduler", "sampling.exponential_scheduler", ("steps", "sigma_max", "sigma_min"),
          {"steps": "steps", "sigma_max": "sigma_max", "sigma_min": "sigma_min"}, ("sigmas",)),
    Entry("Flux2Scheduler", "flux2.scheduler", ("steps", "width", "height"), same("steps", "width", "height"),
          ("sigmas",)),
    Entry("SplitSigmas", "sampling.split_sigmas", ("step",), {"sigmas": "sigmas", "step": "step"},
          ("high_sigmas", "low_sigmas")),
)
