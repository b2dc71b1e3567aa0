"""ComfyUI's sampler and scheduler names, as NodeFlow's "comfyui" sampling convention implements them.

Plain data (no torch), so the ComfyUI importer can say per sampler node whether ComfyUI's pixels are
expected, and map the names NodeFlow lacks to their nearest; `nodes.sampling._comfy_sampling` holds the
samplers themselves under exactly these names.
"""

from __future__ import annotations

#: Sampler name -> where its randomness comes from: None (deterministic), "step" (a generator on
#: the latent's device re-seeded with the seed, as ComfyUI v0.3.64) or "brownian" (torchsde's tree).
SAMPLERS: dict[str, str | None] = {
    "euler": None, "euler_ancestral": "step", "heun": None, "dpm_2": None, "dpm_2_ancestral": "step",
    "lms": None, "dpmpp_2s_ancestral": "step", "dpmpp_2m": None, "dpmpp_sde": "brownian", "dpmpp_2m_sde": "brownian",
    "dpmpp_2m_sde_heun": "brownian", "dpmpp_3m_sde": "brownian", "ddpm": "step", "lcm": "step",
    "ddim": None, "uni_pc": None, "uni_pc_bh2": None, "res_multistep": None, "res_multistep_ancestral": "step",
    "er_sde": "step", "euler_cfg_pp": None, "euler_ancestral_cfg_pp": "step", "dpmpp_2m_cfg_pp": None,
    "dpmpp_2s_ancestral_cfg_pp": "step", "res_multistep_cfg_pp": None, "res_multistep_ancestral_cfg_pp": "step",
}
SCHEDULERS = ("normal", "karras", "exponential", "sgm_uniform", "simple", "ddim_uniform", "beta",
              "linear_quadratic", "kl_optimal")
#: ComfyUI samplers NodeFlow lacks -> the nearest it has (the importer reports each swap).
NEAREST = {
    "heunpp2": "heun", "dpm_fast": "dpmpp_2m", "dpm_adaptive": "dpmpp_2m", "dpmpp_sde_gpu": "dpmpp_sde",
    "dpmpp_2m_sde_gpu": "dpmpp_2m_sde", "dpmpp_2m_sde_heun_gpu": "dpmpp_2m_sde_heun",
    "dpmpp_3m_sde_gpu": "dpmpp_3m_sde", "ipndm": "lms", "ipndm_v": "lms", "deis": "lms",
    "gradient_estimation": "euler", "gradient_estimation_cfg_pp": "euler_cfg_pp", "seeds_2": "dpmpp_sde",
    "seeds_3": "dpmpp_sde",
    "sa_solver": "dpmpp_2m_sde", "sa_solver_pece": "dpmpp_2m_sde",
}

#: Samplers written from the published maths but not yet run against ComfyUI itself: the import
#: report promises no pixel match for them until a comparison has shown one.
UNCOMPARED = frozenset({"res_multistep", "res_multistep_ancestral", "er_sde", "euler_cfg_pp", "euler_ancestral_cfg_pp",
                        "dpmpp_2m_cfg_pp", "dpmpp_2s_ancestral_cfg_pp", "res_multistep_cfg_pp",
                        "res_multistep_ancestral_cfg_pp"})


def pixels_expected(sampler: str, scheduler: str) -> tuple[bool, str]:
    """(whether ComfyUI's pixels are expected, within one 8-bit level; what to know about it)."""
    if sampler in NEAREST:
        return False, f"sampler '{sampler}' is not implemented; the nearest, '{NEAREST[sampler]}', runs instead"
    if sampler not in SAMPLERS:
        return False, f"sampler '{sampler}' is unknown"
    if scheduler not in SCHEDULERS:
        return False, f"scheduler '{scheduler}' is unknown"
    if sampler in UNCOMPARED:
        return False, (f"sampler '{sampler}' is written from its paper's maths and has not been compared with "
                       "ComfyUI's own pixels yet")
    noise = SAMPLERS[sampler]
    if noise == "step":
        return True, ("its per-step noise is drawn on the latent's device, as ComfyUI v0.3.64 draws it: the "
                      "same pixels on the same kind of device (later ComfyUI versions seed it differently on CPUs)")
    if noise == "brownian":
        return True, "its noise comes from torchsde's Brownian tree: the same pixels with the same torchsde"
    return True, "deterministic"
