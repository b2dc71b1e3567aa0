"""ComfyUI's sampler and scheduler names, as NodeFlow's two sampling conventions implement them.

Plain data (no torch), so the ComfyUI importer can say per sampler node whether ComfyUI's pixels are
expected, and map the names a convention lacks to their nearest; `nodes.sampling._comfy_sampling`
holds the "comfyui" convention's samplers under exactly these names, `nodes.sampling._schedulers`
the "diffusers" convention's diffusers schedulers. One table of nearest samplers serves both.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping

#: Sampler name -> where its randomness comes from: None (deterministic), "step" (a generator on
#: the latent's device re-seeded with the seed, as ComfyUI v0.3.64) or "brownian" (torchsde's tree).
SAMPLERS: dict[str, str | None] = {
    "euler": None, "euler_ancestral": "step", "heun": None, "dpm_2": None, "dpm_2_ancestral": "step",
    "lms": None, "dpmpp_2s_ancestral": "step", "dpmpp_2m": None, "dpmpp_sde": "brownian", "dpmpp_2m_sde": "brownian",
    "dpmpp_2m_sde_heun": "brownian", "dpmpp_3m_sde": "brownian", "ddpm": "step", "lcm": "step",
    "ddim": None, "uni_pc": None, "uni_pc_bh2": None, "res_multistep": None, "res_multistep_ancestral": "step",
    "er_sde": "step", "euler_cfg_pp": None, "euler_ancestral_cfg_pp": "step", "dpmpp_2m_cfg_pp": None,
    "dpmpp_2s_ancestral_cfg_pp": "step", "res_multistep_cfg_pp": None, "res_multistep_ancestral_cfg_pp": "step",
    "gradient_estimation": None, "gradient_estimation_cfg_pp": None,
}
SCHEDULERS = ("normal", "karras", "exponential", "sgm_uniform", "simple", "ddim_uniform", "beta",
              "linear_quadratic", "kl_optimal")
#: The ComfyUI sampler names the "diffusers" convention runs, each through a diffusers scheduler.
DIFFUSERS_SAMPLERS = ("euler", "euler_ancestral", "heun", "lms", "dpm_2", "dpm_2_ancestral", "dpmpp_2m",
                      "dpmpp_2m_sde", "dpmpp_sde", "ddim", "ddpm", "uni_pc", "deis")
#: ComfyUI sampler -> the nearest other one, for a convention that lacks it (the importer reports
#: each swap). Where a convention lacks that one too, the chain goes on: dpmpp_2s_ancestral_cfg_pp
#: -> dpmpp_2s_ancestral (the comfyui convention has it) -> dpm_2_ancestral (the diffusers one has).
NEAREST = {
    "euler_cfg_pp": "euler", "euler_ancestral_cfg_pp": "euler_ancestral", "heunpp2": "heun",
    "dpm_fast": "dpmpp_2m", "dpm_adaptive": "dpmpp_2m", "dpmpp_2s_ancestral_cfg_pp": "dpmpp_2s_ancestral",
    "dpmpp_2s_ancestral": "dpm_2_ancestral", "dpmpp_sde_gpu": "dpmpp_sde", "dpmpp_2m_cfg_pp": "dpmpp_2m",
    "dpmpp_2m_sde_gpu": "dpmpp_2m_sde", "dpmpp_2m_sde_heun_gpu": "dpmpp_2m_sde_heun",
    "dpmpp_2m_sde_heun": "dpmpp_2m_sde", "dpmpp_3m_sde_gpu": "dpmpp_3m_sde", "dpmpp_3m_sde": "dpmpp_2m_sde",
    "ipndm": "lms", "ipndm_v": "lms", "deis": "lms", "lcm": "euler",
    "res_multistep_cfg_pp": "res_multistep", "res_multistep": "dpmpp_2m",
    "res_multistep_ancestral_cfg_pp": "res_multistep_ancestral", "res_multistep_ancestral": "euler_ancestral",
    "er_sde": "dpmpp_2m_sde", "uni_pc_bh2": "uni_pc",
    "gradient_estimation_cfg_pp": "gradient_estimation", "gradient_estimation": "euler", "seeds_2": "dpmpp_sde",
    "seeds_3": "dpmpp_sde",
    "sa_solver": "dpmpp_2m_sde", "sa_solver_pece": "dpmpp_2m_sde",
}


def nearest(name: str, available: Collection[str], table: Mapping[str, str] = NEAREST) -> str | None:
    """`name` if `available` has it, else the first sampler along `table`'s chain that it has
    (None: the chain ends without one)."""
    seen = {name}
    while name not in available:
        name = table.get(name, "")
        if not name or name in seen:
            return None
        seen.add(name)
    return name


def nearest_table(available: Collection[str]) -> dict[str, str]:
    """{sampler a convention with `available` lacks: the nearest it has}, for every sampler of the table."""
    found = {name: nearest(name, available) for name in NEAREST if name not in available}
    return {name: near for name, near in found.items() if near is not None}

#: Samplers written from the published maths but not yet run against ComfyUI itself: the import
#: report promises no pixel match for them until a comparison has shown one.
UNCOMPARED = frozenset({"res_multistep", "res_multistep_ancestral", "er_sde", "euler_cfg_pp", "euler_ancestral_cfg_pp",
                        "dpmpp_2m_cfg_pp", "dpmpp_2s_ancestral_cfg_pp", "res_multistep_cfg_pp",
                        "res_multistep_ancestral_cfg_pp", "gradient_estimation", "gradient_estimation_cfg_pp"})


def pixels_expected(sampler: str, scheduler: str) -> tuple[bool, str]:
    """(whether ComfyUI's pixels are expected, within one 8-bit level; what to know about it)."""
    if sampler not in SAMPLERS:
        near = nearest(sampler, SAMPLERS)
        if near is None:
            return False, f"sampler '{sampler}' is unknown"
        return False, f"sampler '{sampler}' is not implemented; the nearest, '{near}', runs instead"
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
