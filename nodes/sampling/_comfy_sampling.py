"""The ComfyUI sampling convention: a run over explicit sigmas with ComfyUI's start, noise and samplers.

`sample` is what a Sampler / KSampler Advanced / Sample node set to the "comfyui" convention runs:
1. the start noise from the seed (`nodes.sampling._noise_streams.start_noise`), or zeros when noise is off;
2. the start latent = latent + noise * sqrt(1 + sigma^2) when the run starts at the model's largest
   sigma (its full noise level; a VP model's x_T has variance 1 + sigma^2), else + noise * sigma;
3. the k-diffusion-style sampler (`FUNCTIONS`) over the sigmas with the guided denoiser
   (`nodes.sampling._comfy_denoiser`), per-step noise from a generator re-seeded with the seed, or a
   Brownian tree for the SDE samplers;
4. the result, left at the last sigma (which is 0 unless the caller keeps leftover noise).
Which sampler / scheduler pairs should give ComfyUI's pixels is `nodeflow.core.comfy_samplers.
pixels_expected` (the importer's report asks it).
"""

from __future__ import annotations

import dataclasses
import functools
import json
import math
from collections.abc import Callable
from typing import Any

from nodeflow.core import NodeError, RunContext
from nodeflow.core.comfy_samplers import SAMPLERS as NOISE_KIND
from nodes._lazy import lazy
from nodes.sampling import _ksamplers as ks
from nodes.sampling import _ksamplers_exp as exp
from nodes.sampling import _ksamplers_flow as flow
from nodes.sampling import _ksamplers_sde as sde
from nodes.sampling._comfy_denoiser import Denoiser
from nodes.sampling._ksamplers_cfgpp import CFG_PP
from nodes.sampling._noise_streams import BrownianNoise, StepNoise, start_noise
from nodes.sampling._sigma_table import SigmaTable
from nodes.sampling._unipc import unipc
from nodes.values import Guider, Model, NoiseSource, SamplerChoice

torch = lazy("torch")

#: ComfyUI sampler name -> its function (names and noise kinds: `nodeflow.core.comfy_samplers`).
FUNCTIONS: dict[str, Callable[..., Any]] = {
    "euler": ks.euler,
    "euler_ancestral": ks.euler_ancestral,
    "heun": ks.heun,
    "dpm_2": ks.dpm_2,
    "dpm_2_ancestral": ks.dpm_2_ancestral,
    "lms": ks.lms,
    "dpmpp_2s_ancestral": ks.dpmpp_2s_ancestral,
    "dpmpp_2m": ks.dpmpp_2m,
    "dpmpp_sde": sde.dpmpp_sde,
    "dpmpp_2m_sde": sde.dpmpp_2m_sde,
    "dpmpp_2m_sde_heun": functools.partial(sde.dpmpp_2m_sde, solver_type="heun"),
    "dpmpp_3m_sde": sde.dpmpp_3m_sde,
    "ddpm": ks.ddpm,
    "lcm": ks.lcm,
    "ddim": ks.euler,  # ComfyUI's ddim is Euler over the sigmas (DDIM with eta 0)
    "uni_pc": unipc,
    "uni_pc_bh2": functools.partial(unipc, variant="bh2"),
    "res_multistep": exp.res_multistep,
    "res_multistep_ancestral": functools.partial(exp.res_multistep, eta=1.0),
    "er_sde": exp.er_sde,
    "gradient_estimation": ks.gradient_estimation,
    **CFG_PP,
}
SAMPLER_NAMES = tuple(NOISE_KIND)
#: The samplers a rectified-flow model runs (its table's prediction is "flow"): the ancestral ones
#: re-inject noise the flow way (`nodes.sampling._ksamplers_flow`); the SDE ones and lcm take the
#: model's noise space (`SigmaTable.space`); the deterministic ones integrate dx/dsigma = (x - x0) /
#: sigma, which is a flow model's ODE too (x = (1 - sigma) x0 + sigma noise). res_multistep_ancestral
#: adds its noise the sigma-space way on flow models too, as ComfyUI does. Left out: ddpm (its steps
#: are a variance-preserving model's) and the CFG++ samplers (`_ksamplers_cfgpp` is sigma-space only).
FLOW_FUNCTIONS: dict[str, Callable[..., Any]] = {
    name: function for name, function in FUNCTIONS.items() if name != "ddpm" and name not in CFG_PP
} | {
    "euler_ancestral": flow.euler_ancestral,
    "dpm_2_ancestral": flow.dpm_2_ancestral,
    "dpmpp_2s_ancestral": flow.dpmpp_2s_ancestral,
}
#: Samplers with an `eta` (how much fresh noise a step adds).
WITH_ETA = frozenset({"euler_ancestral", "dpm_2_ancestral", "dpmpp_2s_ancestral", "res_multistep_ancestral",
                      "dpmpp_sde", "dpmpp_2m_sde", "dpmpp_2m_sde_heun", "dpmpp_3m_sde", "euler_ancestral_cfg_pp",
                      "dpmpp_2s_ancestral_cfg_pp", "res_multistep_ancestral_cfg_pp"})


@functools.lru_cache(maxsize=16)
def _table(config_json: str) -> SigmaTable:
    return SigmaTable.from_config(json.loads(config_json))


def sigma_table(model: Model) -> SigmaTable:
    """The model's sigma table (cached per scheduler config); a flow model's shifted time."""
    spec = model.spec
    if spec is not None and spec.is_flow:
        from nodes.sampling._flow_table import FlowSigmaTable

        return FlowSigmaTable.for_model(model)
    return _table(json.dumps(model.scheduler_config, sort_keys=True, default=str))


def starts_at_full_noise(table: SigmaTable, sigmas: Any) -> bool:
    """ComfyUI's `max_denoise`: the first sigma is the model's largest (or beyond it)."""
    first = float(sigmas[0])
    return math.isclose(table.sigma_max, first, rel_tol=1e-5) or first > table.sigma_max


def _noise_stream(kind: str | None, x: Any, sigmas: Any, seed: int) -> Any:
    if kind == "step":
        return StepNoise(x, seed)
    if kind == "brownian":
        positive = sigmas[sigmas > 0]
        return BrownianNoise(x, positive.min(), sigmas.max(), seed)
    return None


def _inpaint_mask(latent: dict, x: Any) -> Any:
    from nodes.latent._frames import fit_noise_mask, over_frames

    mask = latent.get("noise_mask")
    if mask is None:
        return None
    if mask.ndim == 5:  # per frame (Wan 2.2 5B's start frames): resized over frames and cells, as ComfyUI does
        return fit_noise_mask(mask, x, "bilinear").expand(-1, x.shape[1], -1, -1, -1).to(x.device)
    mask = mask.reshape(-1, 1, mask.shape[-2], mask.shape[-1]).float()
    mask = torch.nn.functional.interpolate(mask, size=tuple(x.shape[-2:]), mode="bilinear")
    mask = mask.expand(-1, x.shape[1], -1, -1)
    if mask.shape[0] < x.shape[0]:
        mask = mask.repeat(math.ceil(x.shape[0] / mask.shape[0]), 1, 1, 1)[:x.shape[0]]
    return over_frames(mask, x).to(x.device)


def sample(ctx: RunContext, guider: Guider, sampler: SamplerChoice, sigmas: Any, noise: NoiseSource,
           latent: dict) -> dict:
    """Denoise `latent` over `sigmas` the ComfyUI way; returns a new LATENT."""
    return sample_both(ctx, guider, sampler, sigmas, noise, latent)[0]


def sample_both(ctx: RunContext, guider: Guider, sampler: SamplerChoice, sigmas: Any, noise: NoiseSource,
                latent: dict) -> tuple[dict, dict]:
    """(the new LATENT, the LATENT of the last step's denoised prediction: ComfyUI's denoised_output)."""
    from nodes.latent._sizes import fit_empty_latent
    from nodes.sampling._loop import _check_latent, _with_negative
    from nodes.sampling._preview import PreviewThrottle, latent_preview

    model = guider.model
    latent = fit_empty_latent(ctx, model, latent)  # the same input rules as the diffusers convention
    guider = _with_negative(ctx, guider)
    if model.spec is not None and model.spec.is_flow:  # reference and concat pictures as their posterior means
        from nodes.sampling._flow_loop import _with_drawn

        guider = _with_drawn(_with_drawn(guider, "references", None, model), "concat", None, model)
    _check_latent(model, latent)
    if sampler.name not in FUNCTIONS:
        raise NodeError(f"sampler '{sampler.name}' is not available in the ComfyUI convention "
                        f"(available: {', '.join(SAMPLER_NAMES)})", "sampler_name")
    if model.is_inpaint:
        raise NodeError("9-channel inpainting models are supported in the diffusers convention only",
                        "model")
    from nodes.latent import _streams

    joint = _streams.of(latent, model)  # a soundtrack beside the video: both denoised as one tensor
    source = _streams.joined(latent, joint).to(device=model.device, dtype=torch.float32)
    result = {k: v for k, v in latent.items() if k not in ("latent_dist", "masked_dist")}
    result["downscale"] = model.vae_scale_factor
    sigmas = torch.as_tensor(sigmas, dtype=torch.float32).cpu()
    if len(sigmas) <= 1:
        result["samples"] = latent["samples"]
        return result, result
    table = sigma_table(model)
    functions = FLOW_FUNCTIONS if table.prediction == "flow" else FUNCTIONS
    if sampler.name not in functions:
        raise NodeError(f"sampler '{sampler.name}' is not available for flow models in the comfyui convention "
                        f"(available: {', '.join(functions)})", "sampler_name")
    function, kind = functions[sampler.name], NOISE_KIND[sampler.name]
    if guider.guidance_rescale > 0:
        ctx.warn("guidance_rescale is a diffusers-convention option; the comfyui convention ignores it")
    with torch.no_grad():
        drawn = start_noise(noise.seed, source, joint) if noise.enabled else torch.zeros(source.shape)
        drawn = drawn.to(source.device)
        x = table.noise_scaling(sigmas[0].to(source.device), drawn, source, starts_at_full_noise(table, sigmas))
        mask = _inpaint_mask(latent, x) if joint is None else joint.masks(latent, x.shape[0])
        if mask is not None:
            mask = mask.to(x.device)
        if joint is not None:
            joint = dataclasses.replace(joint, mask=mask)
        denoiser = Denoiser(guider, table, tuple(source.shape), keep_uncond=sampler.name in CFG_PP, sigmas=sigmas,
                            streams=joint)
        if mask is not None:
            # ComfyUI's ddim inpaints with its own noise for the kept part, drawn from seed + 1.
            kept = start_noise(noise.seed + 1, source, joint).to(source.device) if sampler.name == "ddim" else drawn
            denoiser.set_inpaint(mask, source, kept, sigmas)
        total = len(sigmas) - 1
        throttle = PreviewThrottle(ctx, total)

        last: list[Any] = [x]

        def step_done(i: int, denoised: Any) -> None:
            last[0] = denoised
            shown = denoised if joint is None else joint.split(denoised)[0]
            ctx.progress(i + 1, total, latent_preview(model, shown) if throttle.due(i) else None)

        options = {"eta": float(sampler.eta)} if sampler.name in WITH_ETA else {}
        options["space"] = table.space
        stream = _noise_stream(kind, x, sigmas, noise.seed)
        x = function(denoiser, x, sigmas.to(x.device), step_done, stream, **options)
    outputs = []
    for tensor in (x, last[0]):
        out = dict(result) | ({"samples": tensor} if joint is None else joint.to_latent(tensor))
        out["samples"] = out["samples"].to(latent["samples"].dtype)
        outputs.append(out)
    return outputs[0], outputs[1]
