"""The example workflows of the flow families (workflows/families/), built in code so they stay canonical.

Run `python tests/nodes/flux/family_workflows.py` to (re)write them. They name models as a ComfyUI
user has them (library names: diffusion_models/flux1-dev.safetensors, text_encoders/t5xxl_fp16...);
test_family_workflows.py checks the files equal what this module builds and runs each on tiny
random weights of the same architecture put under those names.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
FOLDER = ROOT / "workflows" / "families"
SOURCE = "workflows/inputs/red_circle.png"
PROMPT = "a red circle on a blue background"

sys.path.insert(0, str(ROOT / "tests" / "nodes"))  # the SD examples' builder, also when run as a script
from workflow_builder import _add, _graph, painted_mask  # noqa: E402


def _flux_parts(g, unet, weight_dtype="default"):
    """UNet + Dual CLIP (flux) + VAE loaders, ComfyUI's way of holding Flux."""
    model = _add(g, "models.load_unet", (0, 0), unet=unet, weight_dtype=weight_dtype)
    clip = _add(g, "models.load_clip", (0, 200), clip_name="clip_l.safetensors", family="flux",
                clip_name_2="t5xxl_fp16.safetensors")
    vae = _add(g, "models.load_vae", (0, 400), vae="ae.safetensors", family="flux")
    return model, clip, vae


def _sample_and_save(g, model, positive, negative, latent, vae, prefix, positive_output="conditioning", **params):
    links = {"model": (model, "model"), "positive": (positive, positive_output), "latent_image": latent}
    if negative is not None:
        links["negative"] = (negative, "conditioning")
    settings = {"seed": 42, "steps": 20, "cfg": 1.0, "sampler_name": "euler", "scheduler": "normal", **params}
    sampler = _add(g, "sampling.sampler", (900, 200), links, **settings)
    decode = _add(g, "vae.decode", (1200, 200), {"latent": (sampler, "latent"), "vae": (vae, "vae")})
    _add(g, "image.save", (1450, 200), {"images": (decode, "image")}, filename_prefix=prefix)


def flux_dev_txt2img(weight_dtype="default", name="flux1-dev.safetensors"):
    g = _graph()
    g.metadata["description"] = ("Flux.1 dev, text to image, from ComfyUI's split files (diffusion model, CLIP-L + "
                                 "T5-XXL, VAE): guidance 3.5 in one model call (cfg 1), FluxPipeline's schedule.")
    model, clip, vae = _flux_parts(g, name, weight_dtype)
    text = _add(g, "conditioning.text_encode", (300, 0), {"clip": (clip, "clip")}, text=PROMPT)
    guided = _add(g, "flux.guidance", (600, 0), {"conditioning": (text, "conditioning")}, guidance=3.5)
    latent = _add(g, "latent.empty", (600, 300), width=1024, height=1024, batch_size=1)
    _sample_and_save(g, model, guided, None, (latent, "latent"), vae, "flux_dev")
    return g


def flux_dev_fp8_txt2img():
    g = flux_dev_txt2img("fp8_e4m3fn")
    g.metadata["description"] = ("Flux.1 dev with its linear weights kept in fp8 (about 12 GB instead of 24), "
                                 "computed in the usual precision.")
    return g


def flux_schnell_txt2img():
    g = flux_dev_txt2img(name="flux1-schnell.safetensors")
    g.metadata["description"] = "Flux.1 schnell: 4 steps, no guidance input, no negative prompt."
    sampler = next(i for i, n in g.nodes.items() if n.type == "sampling.sampler")
    g.set_param(sampler, "steps", 4)
    return g


def flux_kontext_edit():
    g = _graph()
    g.metadata["description"] = ("Flux.1 Kontext: edit a picture by instruction. The picture is scaled to a Kontext "
                                 "resolution, encoded and given to the prompt as a reference latent.")
    model, clip, vae = _flux_parts(g, "flux1-dev-kontext.safetensors")
    load = _add(g, "image.load", (0, 600), image=SOURCE)
    scaled = _add(g, "flux.kontext_image_scale", (300, 600), {"image": (load, "image")})
    encoded = _add(g, "vae.encode", (600, 600), {"pixels": (scaled, "image"), "vae": (vae, "vae")})
    text = _add(g, "conditioning.text_encode", (300, 0), {"clip": (clip, "clip")}, text="make the circle green")
    ref = _add(g, "flux.reference_latent", (600, 0), {"conditioning": (text, "conditioning"),
                                                     "latent": (encoded, "latent")})
    guided = _add(g, "flux.guidance", (750, 0), {"conditioning": (ref, "conditioning")}, guidance=2.5)
    latent = _add(g, "latent.empty", (600, 300), width=1024, height=1024, batch_size=1)
    _sample_and_save(g, model, guided, None, (latent, "latent"), vae, "flux_kontext")
    return g


def flux_fill_inpaint():
    g = _graph()
    g.metadata["description"] = ("Flux.1 Fill: repaint the area painted on Load Image's mask with guidance 30, as "
                                 "FluxFillPipeline (noise_mask off: the model keeps the rest itself).")
    model, clip, vae = _flux_parts(g, "flux1-fill-dev.safetensors")
    sys.path.insert(0, str(ROOT / "tests" / "nodes"))

    load = _add(g, "image.load", (0, 600), image=SOURCE, painted_mask=painted_mask())
    text = _add(g, "conditioning.text_encode", (300, 0), {"clip": (clip, "clip")}, text=PROMPT)
    guided = _add(g, "flux.guidance", (600, 0), {"conditioning": (text, "conditioning")}, guidance=30.0)
    inpaint = _add(g, "conditioning.inpaint_model", (700, 400), {
        "positive": (guided, "conditioning"), "negative": (guided, "conditioning"), "vae": (vae, "vae"),
        "pixels": (load, "image"), "mask": (load, "mask")}, noise_mask=False)
    _sample_and_save(g, model, inpaint, None, (inpaint, "latent"), vae, "flux_fill", positive_output="positive")
    return g


def sd35_txt2img():
    g = _graph()
    g.metadata["description"] = ("SD3.5 from split files (MMDiT, CLIP-L + CLIP-G + T5-XXL, VAE), cfg 4.5 with an "
                                 "empty negative prompt, as StableDiffusion3Pipeline.")
    model = _add(g, "models.load_unet", (0, 0), unet="sd3.5_medium.safetensors")
    clip = _add(g, "models.load_clip", (0, 200), clip_name="clip_l.safetensors", family="sd3",
                clip_name_2="clip_g.safetensors", clip_name_3="t5xxl_fp16.safetensors")
    vae = _add(g, "models.load_vae", (0, 400), vae="sd3_vae.safetensors", family="sd3")
    pos = _add(g, "conditioning.text_encode", (300, 0), {"clip": (clip, "clip")}, text=PROMPT)
    neg = _add(g, "conditioning.text_encode", (300, 200), {"clip": (clip, "clip")}, text="")
    latent = _add(g, "latent.empty", (600, 300), width=1024, height=1024, batch_size=1)
    _sample_and_save(g, model, pos, neg, (latent, "latent"), vae, "sd35", steps=28, cfg=4.5)
    return g


def chroma_txt2img():
    g = _graph()
    g.metadata["description"] = ("Chroma: T5 only, real classifier-free guidance (cfg 4) with a negative prompt, "
                                 "as ChromaPipeline.")
    model = _add(g, "models.load_unet", (0, 0), unet="chroma1-hd.safetensors")
    clip = _add(g, "models.load_clip", (0, 200), clip_name="t5xxl_fp16.safetensors", family="chroma")
    vae = _add(g, "models.load_vae", (0, 400), vae="ae.safetensors", family="chroma")
    pos = _add(g, "conditioning.text_encode", (300, 0), {"clip": (clip, "clip")}, text=PROMPT)
    neg = _add(g, "conditioning.text_encode", (300, 200), {"clip": (clip, "clip")}, text="low quality, blurry")
    latent = _add(g, "latent.empty", (600, 300), width=1024, height=1024, batch_size=1)
    _sample_and_save(g, model, pos, neg, (latent, "latent"), vae, "chroma", steps=26, cfg=4.0)
    return g


BUILDERS = {"flux_dev_txt2img": flux_dev_txt2img, "flux_dev_fp8_txt2img": flux_dev_fp8_txt2img,
            "flux_schnell_txt2img": flux_schnell_txt2img, "flux_kontext_edit": flux_kontext_edit,
            "flux_fill_inpaint": flux_fill_inpaint, "sd35_txt2img": sd35_txt2img, "chroma_txt2img": chroma_txt2img}


def main() -> None:
    from nodeflow.core import files

    FOLDER.mkdir(parents=True, exist_ok=True)
    for name, build in BUILDERS.items():
        files.save(build(), FOLDER / f"{name}.json")


if __name__ == "__main__":
    main()
