"""One table of nearest samplers serves both conventions: a convention that lacks a ComfyUI sampler
runs the first one along the table's chain that it has."""

from __future__ import annotations

import pytest

from nodeflow.core.comfy_samplers import DIFFUSERS_SAMPLERS, NEAREST, SAMPLERS, nearest, nearest_table
from nodeflow.interop.comfyui.convert import Notes, sampler_names


@pytest.mark.parametrize(("name", "comfyui", "diffusers"), [
    ("deis", "lms", "deis"),  # the diffusers convention has DEIS, the comfyui one does not
    ("dpmpp_2s_ancestral_cfg_pp", "dpmpp_2s_ancestral_cfg_pp", "dpm_2_ancestral"),  # a chain of two
    ("gradient_estimation_cfg_pp", "gradient_estimation_cfg_pp", "euler"),
    ("dpmpp_2m_sde_heun_gpu", "dpmpp_2m_sde_heun", "dpmpp_2m_sde"),
    ("res_multistep", "res_multistep", "dpmpp_2m"),
    ("lcm", "lcm", "euler"),
    ("euler", "euler", "euler"),
    ("no_such_sampler", None, None),
])
def test_each_convention_runs_the_first_sampler_along_the_chain_it_has(name, comfyui, diffusers):
    assert nearest(name, SAMPLERS) == comfyui
    assert nearest(name, DIFFUSERS_SAMPLERS) == diffusers


def test_every_name_in_the_table_reaches_a_sampler_of_each_convention():
    for available in (SAMPLERS, DIFFUSERS_SAMPLERS):
        table = nearest_table(available)
        assert set(table) == set(NEAREST) - set(available)
        assert set(table.values()) <= set(available)


def test_the_diffusers_convention_runs_exactly_the_samplers_it_declares():
    from nodes.sampling._schedulers import SAMPLERS as SCHEDULER_CLASSES

    assert tuple(SCHEDULER_CLASSES) == DIFFUSERS_SAMPLERS


@pytest.mark.parametrize(("convention", "expected"), [("comfyui", "lms"), ("diffusers", "deis")])
def test_the_importer_asks_the_one_table_for_its_convention(convention, expected):
    notes = Notes(choices_of={"sampler_name": None, "scheduler": None}, convention=convention)
    assert sampler_names({"sampler_name": "deis", "scheduler": "karras"}, notes)["sampler_name"] == expected
