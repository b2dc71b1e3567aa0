"""The example workflows in workflows/, built in code so they stay canonical and in sync.

Run `python tests/nodes/workflow_builder.py` to (re)write workflows/*.json and their input
pictures; test_workflows.py checks the shipped files equal what this module builds and runs them.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
WORKFLOWS = ROOT / "workflows"
MODEL = "resources/models/tiny-shapes"
#: The built-in flow model, by its library name (Load Checkpoint finds it like a user's model).
FLOW_MODEL = "tiny-shapes-flow"
SOURCE = "workflows/inputs/red_circle.png"
SIZE = 64


def _graph():
    sys.path.insert(0, str(ROOT))
    from nodeflow.core import Graph, default_registry

    return Graph(default_registry())


def _add(graph, type_id, pos, links=None, **params):
    node_id = graph.add_node(type_id, params, ui={"pos": list(pos)}).id
    for name, (src, out) in (links or {}).items():
        graph.connect(src, out, node_id, name)
    return node_id


def _model_and_prompts(g, prompt, negative=""):
    ckpt = _add(g, "models.load_checkpoint", (0, 200), checkpoint=MODEL)
    pos = _add(g, "conditioning.text_encode", (320, 0), {"clip": (ckpt, "clip")}, text=prompt)
    neg = _add(g, "conditioning.text_encode", (320, 220), {"clip": (ckpt, "clip")}, text=negative)
    return ckpt, pos, neg


def _empty_latent(g, ckpt, batch_size, pos=(320, 440), size=SIZE):
    return _add(g, "latent.empty", pos, {"vae": (ckpt, "vae")}, width=size, height=size, batch_size=batch_size)


def _sampler(g, pos, ckpt, positive, negative, latent, seed, **params):
    """A Sampler at the examples' settings (20 euler steps, cfg 5, normal schedule) unless `params` differ."""
    links = {"model": (ckpt, "model"), "positive": (positive, "conditioning"),
             "negative": (negative, "conditioning"), "latent_image": (latent, "latent")}
    settings = {"seed": seed, "steps": 20, "cfg": 5.0, "sampler_name": "euler", "scheduler": "normal", **params}
    return _add(g, "sampling.sampler", pos, links, **settings)


def _finish(g, ckpt, latent_src, prefix, x=1000):
    decode = _add(g, "vae.decode", (x, 200), {"latent": (latent_src, "latent"), "vae": (ckpt, "vae")})
    _add(g, "image.save", (x + 260, 200), {"images": (decode, "image")}, filename_prefix=prefix)
    return decode


def txt2img():
    g = _graph()
    g.metadata["description"] = "Text to image with the built-in tiny model: change the prompt and the seed."
    ckpt, pos, neg = _model_and_prompts(g, "a red circle on a blue background")
    # width and height 0: the model's native size, so this graph (the GUI's default) suits any checkpoint
    latent = _empty_latent(g, ckpt, 4, size=0)
    sampler = _sampler(g, (660, 200), ckpt, pos, neg, latent, seed=42)
    _finish(g, ckpt, sampler, "txt2img")
    return g


def img2img():
    g = _graph()
    g.metadata["description"] = ("Image to image: the picture is encoded, partly noised (denoise) and "
                                 "redrawn to match the prompt.")
    ckpt, pos, neg = _model_and_prompts(g, "a yellow star on a blue background")
    load = _add(g, "image.load", (0, 480), image=SOURCE)
    encode = _add(g, "vae.encode", (320, 440), {"pixels": (load, "image"), "vae": (ckpt, "vae")})
    sampler = _sampler(g, (660, 200), ckpt, pos, neg, encode, seed=7, denoise=0.7)
    _finish(g, ckpt, sampler, "img2img")
    return g


def painted_mask() -> str:
    """The inpaint example's mask, as the mask editor stores it: a brush scribbled over the circle."""
    from PIL import Image, ImageDraw

    from nodeflow.core.masks import encode_mask

    mask = Image.new("L", (SIZE, SIZE), 0)
    draw = ImageDraw.Draw(mask)
    scribble = [(17, 18), (47, 18), (17, 32), (47, 32), (17, 46), (47, 46)]
    draw.line(scribble, fill=255, width=16, joint="curve")
    for x, y in scribble:
        draw.ellipse((x - 8, y - 8, x + 8, y + 8), fill=255)
    return encode_mask(SIZE, SIZE, mask.tobytes())


def inpaint():
    g = _graph()
    g.metadata["description"] = ("Inpainting: only the area painted on Load Image's mask (open the mask editor "
                                 "from the node) is redrawn; Image Composite Masked puts every other pixel "
                                 "back exactly.")
    ckpt, pos, neg = _model_and_prompts(g, "a green square on a blue background")
    load = _add(g, "image.load", (0, 480), image=SOURCE, painted_mask=painted_mask())
    mask = (load, "mask")
    encode = _add(g, "vae.encode_inpaint", (320, 440), {
        "pixels": (load, "image"), "vae": (ckpt, "vae"), "mask": mask}, grow_mask_by=2)
    sampler = _sampler(g, (660, 200), ckpt, pos, neg, encode, seed=3, denoise=1.0)
    decode = _add(g, "vae.decode", (1000, 200), {"latent": (sampler, "latent"), "vae": (ckpt, "vae")})
    composite = _add(g, "image.composite_masked", (1260, 200), {
        "destination": (load, "image"), "source": (decode, "image"), "mask": mask})
    _add(g, "image.save", (1520, 200), {"images": (composite, "image")}, filename_prefix="inpaint")
    return g


def custom_sampling():
    g = _graph()
    g.metadata["description"] = ("The sampler taken apart: noise, guider (with guidance rescale, good for "
                                 "zero-terminal-SNR models), sampler and schedule are separate nodes.")
    ckpt, pos, neg = _model_and_prompts(g, "a purple triangle on a white background")
    latent = _empty_latent(g, ckpt, 2)
    noise = _add(g, "noise.random", (660, 0), seed=123)
    guider = _add(g, "sampling.cfg_guider", (660, 160), {
        "model": (ckpt, "model"), "positive": (pos, "conditioning"), "negative": (neg, "conditioning")},
        cfg=5.0, guidance_rescale=0.7)
    select = _add(g, "sampling.sampler_select", (660, 380), sampler_name="euler_ancestral", eta=1.0)
    sigmas = _add(g, "sampling.scheduler", (660, 520), {"model": (ckpt, "model")}, scheduler="normal", steps=20,
                  denoise=1.0)
    sample = _add(g, "sampling.sample", (1000, 200), {
        "noise": (noise, "noise"), "guider": (guider, "guider"), "sampler": (select, "sampler"),
        "sigmas": (sigmas, "sigmas"), "latent_image": (latent, "latent")})
    _finish(g, ckpt, sample, "custom", x=1300)
    return g


def two_stage():
    g = _graph()
    g.metadata["description"] = (
        "One run split over two KSampler (Advanced) nodes, as SDXL base + refiner graphs do: the first "
        "runs steps 0-12 of 20 and hands its latent on with the noise left in it, the second finishes "
        "steps 12-20 with a different prompt and adds no noise: the shape is settled early, the colour "
        "late, so the circle comes out yellow. With one prompt and an euler sampler the two stages give "
        "exactly the picture one Sampler gives over 20 steps.")
    ckpt, pos, neg = _model_and_prompts(g, "a red circle on a blue background")
    late = _add(g, "conditioning.text_encode", (320, 660), {"clip": (ckpt, "clip")},
                text="a yellow circle on a blue background")
    latent = _empty_latent(g, ckpt, 2)
    common = dict(noise_seed=5, steps=20, cfg=5.0, sampler_name="euler", scheduler="normal")
    first = _add(g, "sampling.sampler_advanced", (660, 200), {
        "model": (ckpt, "model"), "positive": (pos, "conditioning"), "negative": (neg, "conditioning"),
        "latent_image": (latent, "latent")}, add_noise=True, start_at_step=0, end_at_step=12,
        return_with_leftover_noise=True, **common)
    second = _add(g, "sampling.sampler_advanced", (1000, 200), {
        "model": (ckpt, "model"), "positive": (late, "conditioning"), "negative": (neg, "conditioning"),
        "latent_image": (first, "latent")}, add_noise=False, start_at_step=12, end_at_step=10000,
        return_with_leftover_noise=False, **common)
    _finish(g, ckpt, second, "two_stage", x=1340)
    return g


def hires_fix():
    g = _graph()
    g.metadata["description"] = ("Hires fix: a first pass at the model's size, the latent upscaled 1.5x, then a "
                                 "second pass with denoise 0.5 that adds detail at the larger size.")
    ckpt, pos, neg = _model_and_prompts(g, "a yellow star on a green background")
    latent = _empty_latent(g, ckpt, 1)
    first = _sampler(g, (660, 200), ckpt, pos, neg, latent, seed=11)
    bigger = _add(g, "latent.upscale", (1000, 440), {"latent": (first, "latent")}, scale_by=1.5, method="bilinear")
    second = _sampler(g, (1300, 200), ckpt, pos, neg, bigger, seed=11, denoise=0.5)
    _finish(g, ckpt, second, "hires_fix", x=1640)
    return g


def outpaint():
    g = _graph()
    g.metadata["description"] = ("Outpainting: the picture gets a border on the right (Image Pad for Outpaint), "
                                 "and only the border, faded into the picture's edge, is drawn anew.")
    ckpt, pos, neg = _model_and_prompts(g, "a red circle on a blue background")
    load = _add(g, "image.load", (0, 480), image=SOURCE)
    pad = _add(g, "image.pad_for_outpaint", (320, 480), {"image": (load, "image")}, left=0, top=0, right=32,
               bottom=0, feathering=16)
    encode = _add(g, "vae.encode_inpaint", (660, 440), {
        "pixels": (pad, "image"), "vae": (ckpt, "vae"), "mask": (pad, "mask")}, grow_mask_by=0)
    sampler = _sampler(g, (1000, 200), ckpt, pos, neg, encode, seed=5, denoise=1.0)
    _finish(g, ckpt, sampler, "outpaint", x=1300)
    return g


def area_prompt():
    g = _graph()
    g.metadata["description"] = ("Area prompts: one prompt for the whole picture, and one for each half "
                                 "(Conditioning Set Area), combined; where they overlap their predictions "
                                 "are averaged by strength.")
    ckpt, whole, neg = _model_and_prompts(g, "a small circle on a blue background")
    left = _add(g, "conditioning.text_encode", (320, -220), {"clip": (ckpt, "clip")},
                text="a red circle on a blue background")
    right = _add(g, "conditioning.text_encode", (320, -440), {"clip": (ckpt, "clip")},
                 text="a yellow square on a blue background")
    left_area = _add(g, "conditioning.set_area", (660, -220), {"conditioning": (left, "conditioning")},
                     width=SIZE // 2, height=SIZE, x=0, y=0, strength=1.0)
    right_area = _add(g, "conditioning.set_area", (660, -440), {"conditioning": (right, "conditioning")},
                      width=SIZE // 2, height=SIZE, x=SIZE // 2, y=0, strength=1.0)
    halves = _add(g, "conditioning.combine", (1000, -330), {
        "conditioning_1": (left_area, "conditioning"), "conditioning_2": (right_area, "conditioning")})
    positive = _add(g, "conditioning.combine", (1000, 0), {
        "conditioning_1": (whole, "conditioning"), "conditioning_2": (halves, "conditioning")})
    latent = _empty_latent(g, ckpt, 2, pos=(660, 440))
    sampler = _sampler(g, (1300, 200), ckpt, positive, neg, latent, seed=8)
    _finish(g, ckpt, sampler, "area_prompt", x=1640)
    return g


def subgraphs():
    """Two prompts through one linked subgraph ("Prompt to Picture": prompts, sampler, decode)."""
    from nodeflow.core.subgraphs.definition import Promoted, instance_type
    from nodeflow.core.subgraphs.edit import convert_to_subgraph

    g = _graph()
    g.metadata["description"] = ("One subgraph used twice: edit its definition (double-click an instance) and both "
                                 "pictures follow; each instance sets its own prompt and seed.")
    ckpt = _add(g, "models.load_checkpoint", (0, 200), checkpoint=MODEL)
    latent = _empty_latent(g, ckpt, 1, pos=(0, 440))
    pos = _add(g, "conditioning.text_encode", (320, 0), {"clip": (ckpt, "clip")},
               text="a red circle on a blue background")
    neg = _add(g, "conditioning.text_encode", (320, 220), {"clip": (ckpt, "clip")}, text="")
    sampler = _sampler(g, (660, 200), ckpt, pos, neg, latent, seed=42)
    decode = _add(g, "vae.decode", (1000, 200), {"latent": (sampler, "latent"), "vae": (ckpt, "vae")})
    _add(g, "image.save", (1400, 100), {"images": (decode, "image")}, filename_prefix="subgraph_circle")
    first = convert_to_subgraph(g, [pos, neg, sampler, decode], "Prompt to Picture")
    g.set_ui(first, pos=[400, 100])
    g.subgraphs["prompt-to-picture"].widgets.append(Promoted("steps", sampler, "steps"))
    g.set_param(first, "steps", 20)
    second = g.add_node(instance_type("prompt-to-picture"), {"text": "a yellow star on a purple background",
                                                              "seed": 7, "steps": 20}, ui={"pos": [400, 400]}).id
    for name, source in (("model", "model"), ("clip", "clip"), ("vae", "vae")):
        g.connect(ckpt, source, second, name)
    g.connect(latent, "latent", second, "latent_image")
    _add(g, "image.save", (1400, 400), {"images": (second, "image")}, filename_prefix="subgraph_star")
    return g


def _flow_model_and_prompts(g, prompt):
    """tiny-shapes-flow with its prompt and the empty negative prompt its true CFG mixes against."""
    ckpt = _add(g, "models.load_checkpoint", (0, 200), checkpoint=FLOW_MODEL)
    pos = _add(g, "conditioning.text_encode", (320, 0), {"clip": (ckpt, "clip")}, text=prompt)
    neg = _add(g, "conditioning.text_encode", (320, 220), {"clip": (ckpt, "clip")}, text="")
    return ckpt, pos, neg


def flow_txt2img():
    g = _graph()
    g.metadata["description"] = ("Text to image with the built-in flow model, tiny-shapes-flow (a Flux-shaped "
                                 "transformer): true classifier-free guidance against an empty prompt, as "
                                 "FluxPipeline with true_cfg_scale.")
    ckpt, pos, neg = _flow_model_and_prompts(g, "a small yellow star on the left on a blue background")
    latent = _empty_latent(g, ckpt, 4)
    sampler = _sampler(g, (660, 200), ckpt, pos, neg, latent, seed=42)
    _finish(g, ckpt, sampler, "flow_txt2img")
    return g


def flow_img2img():
    g = _graph()
    g.metadata["description"] = ("Image to image with tiny-shapes-flow: the picture is encoded, partly noised "
                                 "(denoise) and redrawn to match the prompt, as FluxImg2ImgPipeline.")
    ckpt, pos, neg = _flow_model_and_prompts(g, "a large red square on a blue background")
    load = _add(g, "image.load", (0, 480), image=SOURCE)
    encode = _add(g, "vae.encode", (320, 440), {"pixels": (load, "image"), "vae": (ckpt, "vae")})
    sampler = _sampler(g, (660, 200), ckpt, pos, neg, encode, seed=7, denoise=0.75)
    _finish(g, ckpt, sampler, "flow_img2img")
    return g


def flow_edit():
    g = _graph()
    g.metadata["description"] = ("Kontext-style editing with tiny-shapes-flow: the picture goes to both prompts "
                                 "as a reference latent; the prompt names the new colour and what stays, and the "
                                 "model redraws the picture with the circle recoloured, as FluxKontextPipeline.")
    ckpt, pos, neg = _flow_model_and_prompts(g, "a large green circle in the center on a blue background")
    load = _add(g, "image.load", (0, 480), image=SOURCE)
    encode = _add(g, "vae.encode", (320, 440), {"pixels": (load, "image"), "vae": (ckpt, "vae")})
    reference = {"latent": (encode, "latent")}
    pos_ref = _add(g, "flux.reference_latent", (660, 0), {"conditioning": (pos, "conditioning"), **reference})
    neg_ref = _add(g, "flux.reference_latent", (660, 220), {"conditioning": (neg, "conditioning"), **reference})
    latent = _empty_latent(g, ckpt, 1, pos=(660, 440))
    sampler = _sampler(g, (1000, 200), ckpt, pos_ref, neg_ref, latent, seed=3, cfg=2.0)
    _finish(g, ckpt, sampler, "flow_edit", x=1340)
    return g


BUILDERS = {"txt2img": txt2img, "img2img": img2img, "inpaint": inpaint, "custom_sampling": custom_sampling,
            "two_stage": two_stage, "hires_fix": hires_fix, "outpaint": outpaint, "area_prompt": area_prompt,
            "subgraphs": subgraphs, "flow_txt2img": flow_txt2img, "flow_img2img": flow_img2img,
            "flow_edit": flow_edit}


def write_inputs() -> None:
    """The picture img2img and inpaint start from, drawn by the dataset's own renderer."""
    sys.path.insert(0, str(ROOT / "tools"))
    from shapes_dataset import render

    labels = {"colour": "red", "shape": "circle", "size": "large", "position": "center", "background": "blue",
              "background2": None, "split": None, "radius": 15.0, "centre": (32.0, 32.0)}
    (ROOT / SOURCE).parent.mkdir(parents=True, exist_ok=True)
    render(labels).save(ROOT / SOURCE, optimize=True)


def main() -> None:
    from nodeflow.core import files

    write_inputs()
    for name, build in BUILDERS.items():
        files.save(build(), WORKFLOWS / f"{name}.json")
        print(f"wrote workflows/{name}.json")


if __name__ == "__main__":
    main()
