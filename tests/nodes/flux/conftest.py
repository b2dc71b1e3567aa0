"""Fixtures for the flow-family tests: tiny random Flux / SD3 / Chroma folders, written once."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def tiny_flux(tmp_path_factory, torch_threads):
    """A tiny Flux.1 dev (guidance embedding, dynamic shifting) as a FluxPipeline folder."""
    from tiny_flow import build_flux

    return build_flux(tmp_path_factory.mktemp("tiny_flux"))


@pytest.fixture(scope="session")
def tiny_schnell(tmp_path_factory, torch_threads):
    """A tiny Flux.1 schnell: no guidance input, a constant shift of 1."""
    from tiny_flow import SCHNELL_SCHEDULER, build_flux

    return build_flux(tmp_path_factory.mktemp("tiny_schnell"), guidance=False, scheduler=SCHNELL_SCHEDULER, seed=1)


@pytest.fixture(scope="session")
def tiny_sd3(tmp_path_factory, torch_threads):
    """A tiny SD3 (three text encoders, patch-2 MMDiT, shift 3) as a StableDiffusion3Pipeline folder."""
    from tiny_flow import build_sd3

    return build_sd3(tmp_path_factory.mktemp("tiny_sd3"))


@pytest.fixture(scope="session")
def tiny_fill(tmp_path_factory, torch_threads):
    """A tiny Flux.1 Fill (384 input features: latents, masked picture, mask of an 8x VAE)."""
    from tiny_flow import build_flux

    return build_flux(tmp_path_factory.mktemp("tiny_fill"), fill=True, seed=2)


@pytest.fixture(scope="session")
def tiny_chroma(tmp_path_factory, torch_threads):
    """A tiny Chroma (T5 with its token mask, no guidance input) as a ChromaPipeline folder."""
    from tiny_flow import build_chroma

    return build_chroma(tmp_path_factory.mktemp("tiny_chroma"))


@pytest.fixture(scope="session")
def tiny_flux8(tmp_path_factory, torch_threads):
    """A tiny Flux.1 dev whose VAE shrinks pictures 8x like the real one (so split parts, which take
    the real latent layout from the shipped configs, fit it)."""
    from tiny_flow import build_flux

    return build_flux(tmp_path_factory.mktemp("tiny_flux8"), vae_levels=4, seed=3)


@pytest.fixture(scope="session")
def tiny_z_image(tmp_path_factory, torch_threads):
    """A tiny Z-Image (Qwen3 text encoder, shift 3) as a ZImagePipeline folder."""
    from tiny_flow import build_z_image

    return build_z_image(tmp_path_factory.mktemp("tiny_z_image"))


@pytest.fixture(scope="session")
def tiny_z_image8(tmp_path_factory, torch_threads):
    """A tiny Z-Image with the real head width and 8x VAE, so its lone transformer file loads with
    the shipped configs."""
    from tiny_flow import build_z_image

    return build_z_image(tmp_path_factory.mktemp("tiny_z_image8"), real_heads=True, seed=1)


@pytest.fixture(scope="session")
def tiny_qwen_image(tmp_path_factory, torch_threads):
    """A tiny Qwen-Image (Qwen2.5-VL text encoder, video VAE, dynamic shift) as a QwenImagePipeline folder."""
    from tiny_flow import build_qwen_image

    return build_qwen_image(tmp_path_factory.mktemp("tiny_qwen_image"))


@pytest.fixture(scope="session")
def tiny_qwen_image8(tmp_path_factory, torch_threads):
    """A tiny Qwen-Image with the real head width and 8x VAE (its lone transformer file loads with the
    shipped configs)."""
    from tiny_flow import build_qwen_image

    return build_qwen_image(tmp_path_factory.mktemp("tiny_qwen_image8"), real_heads=True, seed=1)


@pytest.fixture(scope="session")
def tiny_control(tmp_path_factory, torch_threads):
    """A tiny Flux.1 Canny/Depth-style control model (128 input features: latents + control picture)."""
    from tiny_flow import build_flux

    return build_flux(tmp_path_factory.mktemp("tiny_control"), control=True, seed=6)


@pytest.fixture(scope="session")
def tiny_klein(tmp_path_factory, torch_threads):
    """A tiny Flux.2 Klein (28-layer Qwen3, patched batch-normalised VAE latents) as a Flux2KleinPipeline folder."""
    from tiny_flux2 import build_flux2_klein

    return build_flux2_klein(tmp_path_factory.mktemp("tiny_klein"))


@pytest.fixture(scope="session")
def tiny_klein8(tmp_path_factory, torch_threads):
    """A tiny Flux.2 Klein with the real head width and 8x VAE, so its lone files load with the shipped configs."""
    from tiny_flux2 import build_flux2_klein

    return build_flux2_klein(tmp_path_factory.mktemp("tiny_klein8"), real_heads=True, seed=1)


@pytest.fixture(scope="session")
def tiny_flux2_dev(tmp_path_factory, torch_threads):
    """A tiny FLUX.2 [dev] (31-layer Mistral 3, guidance input) as a Flux2Pipeline folder."""
    from tiny_flux2 import build_flux2_dev

    return build_flux2_dev(tmp_path_factory.mktemp("tiny_flux2_dev"))


@pytest.fixture(scope="session")
def tiny_flux2_dev8(tmp_path_factory, torch_threads):
    """A tiny FLUX.2 [dev] with the real head width and 8x VAE (its lone files load with the shipped configs)."""
    from tiny_flux2 import build_flux2_dev

    return build_flux2_dev(tmp_path_factory.mktemp("tiny_flux2_dev8"), real_heads=True, seed=2)


@pytest.fixture(scope="session")
def tiny_krea2(tmp_path_factory, torch_threads):
    """A tiny Krea 2 (36-layer Qwen3-VL, 12 stacked states, Qwen-Image's video VAE) as a Krea2Pipeline folder."""
    from tiny_krea2 import build_krea2

    return build_krea2(tmp_path_factory.mktemp("tiny_krea2"))


@pytest.fixture(scope="session")
def tiny_krea2_turbo(tmp_path_factory, torch_threads):
    """The same with the Turbo's pipeline option (is_distilled: the shift fixed at mu 1.15)."""
    from tiny_krea2 import build_krea2

    return build_krea2(tmp_path_factory.mktemp("tiny_krea2_turbo"), seed=1, distilled=True)


@pytest.fixture(scope="session")
def tiny_krea2_8(tmp_path_factory, torch_threads):
    """A tiny Krea 2 with the real head width and 8x VAE (its lone transformer file loads with the shipped configs)."""
    from tiny_krea2 import build_krea2

    return build_krea2(tmp_path_factory.mktemp("tiny_krea2_8"), real_heads=True, seed=2)


@pytest.fixture(scope="session")
def tiny_flux3(tmp_path_factory, torch_threads):
    """A tiny FLUX.3 [klein] base (32-layer Qwen3-VL with its head, Flux.2's VAE) as a diffusers folder."""
    from tiny_flux3 import build_flux3

    return build_flux3(tmp_path_factory.mktemp("tiny_flux3"))


@pytest.fixture(scope="session")
def tiny_flux3_distilled(tmp_path_factory, torch_threads):
    """The same with a flow-map (step-distilled) transformer."""
    from tiny_flux3 import build_flux3

    return build_flux3(tmp_path_factory.mktemp("tiny_flux3_distilled"), seed=1, distilled=True)


@pytest.fixture(scope="session")
def tiny_lumina2(tmp_path_factory, torch_threads):
    """A tiny Lumina 2 (Gemma 2, the real head widths and 8x VAE) as a Lumina2Pipeline folder."""
    from tiny_lumina2 import build_lumina2

    return build_lumina2(tmp_path_factory.mktemp("tiny_lumina2"))


@pytest.fixture(scope="session")
def tiny_flux3_8(tmp_path_factory, torch_threads):
    """A tiny FLUX.3 [klein] with the real head width and 8x VAE, so its lone files load with the shipped configs."""
    from tiny_flux3 import build_flux3

    return build_flux3(tmp_path_factory.mktemp("tiny_flux3_8"), real_heads=True, seed=2)


@pytest.fixture(scope="session")
def tiny_longcat(tmp_path_factory, torch_threads):
    """A tiny LongCat-Image (Qwen2.5-VL text encoder, Flux's VAE, dynamic shift) as a LongCatImagePipeline folder."""
    from tiny_longcat import build_longcat

    return build_longcat(tmp_path_factory.mktemp("tiny_longcat"))


@pytest.fixture(scope="session")
def tiny_longcat8(tmp_path_factory, torch_threads):
    """A tiny LongCat-Image with the real head width and 8x VAE (its lone files load with the shipped configs)."""
    from tiny_longcat import build_longcat

    return build_longcat(tmp_path_factory.mktemp("tiny_longcat8"), real_heads=True, seed=1)


@pytest.fixture(scope="session")
def tiny_hidream(tmp_path_factory, torch_threads):
    """A tiny HiDream-I1 (four text encoders, mixture-of-experts transformer, shift 6): a pipeline folder."""
    from tiny_hidream import build_hidream

    return build_hidream(tmp_path_factory.mktemp("tiny_hidream"))


@pytest.fixture(scope="session")
def tiny_hidream8(tmp_path_factory, torch_threads):
    """A tiny HiDream-I1 with the real 8x VAE (its lone files load with the shipped configs)."""
    from tiny_hidream import build_hidream

    return build_hidream(tmp_path_factory.mktemp("tiny_hidream8"), seed=1, vae_levels=4)
