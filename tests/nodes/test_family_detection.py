"""One family detector: the model library and the loaders read a file's family from the same table
(`core.family_detection`), so a file is listed, placed and run as the same family."""

from __future__ import annotations

import pytest

from nodeflow.core.family_detection import ARCHITECTURES, DENOISERS
from nodeflow.library.detect import identify_header
from nodeflow.library.header import Header
from nodeflow.library.sniff import SAFETENSORS
from nodes.families import FAMILIES, by_name, detect


def test_every_declared_family_is_detectable_and_every_rule_names_a_declared_family():
    assert sorted(name for name, _ in DENOISERS) == sorted(f.name for f in FAMILIES)
    named = {family for _, family in ARCHITECTURES}
    assert {f.name for f in FAMILIES} <= named


@pytest.mark.parametrize("name", [f.name for f in FAMILIES])
def test_the_library_lists_a_denoiser_as_the_family_the_loaders_run(name):
    rules = dict(DENOISERS)[name]
    for rule in rules:
        shapes = {f"model.diffusion_model.{key}": (64, 64) for key in rule.keys}
        for key, axis, size in rule.shapes:
            shapes[f"model.diffusion_model.{key}"] = tuple(size if i == axis else 64 for i in range(axis + 1))
        assert detect(shapes) is by_name(name)
        identity = identify_header(Header(SAFETENSORS, shapes))
        assert (identity.family, identity.kind) == (name, "unet")


def test_metadata_names_the_family_when_the_keys_do_not():
    assert detect({"unknown.weight": (1,)}, "Flux.1-Fill-dev") is by_name("flux-fill")
    assert detect({"unknown.weight": (1,)}, "stable-diffusion-xl-v1-base") is None  # not a declared family
