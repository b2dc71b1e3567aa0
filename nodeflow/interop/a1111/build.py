"""A1111/Forge/Civitai settings -> a NodeFlow workflow built from the built-in node types.

The graph is the one A1111 runs: checkpoint -> LoRAs (`<lora:name:w>` tags, found by the `Lora
hashes` AutoV3 when the library has them) -> clip skip -> two text encodes -> empty latent (or the
img2img picture, which the file does not hold) -> sampler -> hires fix (latent upscale + a second
sampler) -> VAE decode -> Save Image. Samplers run in the `comfyui` convention (k-diffusion's
samplers, as A1111's); A1111's denoise (run int(steps x denoise) of `steps`) is written as ComfyUI's
(`steps` at the end of an int(steps / denoise) schedule) with the same steps run. Every setting
that has no equivalent is reported (a problem: the conversion lost it), never dropped silently;
models the library lacks are notes (validation names them with the folder to use).
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

from nodeflow.core import workflow
from nodeflow.interop.a1111.infotext import Infotext, named_hashes
from nodeflow.interop.a1111.names import LATENT_UPSCALERS, sampler_and_schedule
from nodeflow.interop.comfyui.report import ImportReport
from nodeflow.library import ModelLibrary, manifest_key
from nodeflow.library.hashes import normal_hash

#: `<lora:name:te:unet>` (and LyCORIS's `<lyco:...>`); other extra networks are reported.
EXTRA_NETWORK = re.compile(r"<(lora|lyco|hypernet):([^:>]+)((?::[^:>]*)*)>")
#: Settings read into the graph (anything else is reported as having no equivalent).
USED = {"Steps", "Sampler", "Schedule type", "CFG scale", "Seed", "Size", "Model hash", "Model", "Clip skip",
        "Denoising strength", "Hires upscale", "Hires resize", "Hires steps", "Hires upscaler", "Hires sampler",
        "Hires schedule type", "Hires CFG Scale", "Lora hashes", "Hashes", "VAE", "VAE hash", "Batch size",
        "Version"}
SUFFIXES = (".safetensors", ".ckpt", ".pt", ".gguf", "")
#: A1111's hires denoise when the picture does not record one.
HIRES_DENOISE = 0.7


class _Graph:
    """Nodes and links of the workflow being built, in NodeFlow's file format."""

    def __init__(self) -> None:
        self.nodes: list[dict[str, Any]] = []
        self.links: list[dict[str, Any]] = []

    def add(self, type_id: str, params: dict[str, Any], column: int, row: int = 0) -> str:
        node_id = str(len(self.nodes) + 1)
        self.nodes.append({"id": node_id, "type": type_id, "version": 1, "params": params,
                           "pos": [column * 320, row * 220]})
        return node_id

    def link(self, src: str, output: str, dst: str, input_name: str) -> None:
        self.links.append({"from": [src, output], "to": [dst, input_name]})


def build(info: Infotext, library: ModelLibrary | None, report: ImportReport) -> dict[str, Any]:
    """The workflow data (NodeFlow's JSON) for a parsed parameters text."""
    fields, g, hashes = _with_civitai_hashes(info.fields), _Graph(), {}
    name, digest = _checkpoint(fields, library, report)
    if digest:
        hashes[manifest_key("checkpoints", name)] = digest
    checkpoint = g.add("models.load_checkpoint", {"checkpoint": name}, 0, 1)
    model, clip = (checkpoint, "model"), (checkpoint, "clip")
    prompt, loras = _extra_networks(info.prompt, report)
    negative, negative_loras = _extra_networks(info.negative, report)
    lora_hashes = named_hashes(fields.get("Lora hashes", ""))
    for row, (lora, unet, te) in enumerate(loras + negative_loras):
        lora_name, lora_digest = _lora(lora, lora_hashes.get(lora), library, report)
        if lora_digest:
            hashes[manifest_key("loras", lora_name)] = lora_digest
        node = g.add("models.load_lora", {"lora": lora_name, "strength_model": unet, "strength_clip": te}, 1, row)
        g.link(*model, node, "model")
        g.link(*clip, node, "clip")
        model, clip = (node, "model"), (node, "clip")
    skip = _int(fields.get("Clip skip"), 1, report, "Clip skip")
    if skip > 1:
        node = g.add("conditioning.clip_set_last_layer", {"stop_at_clip_layer": -skip}, 2, 2)
        g.link(*clip, node, "clip")
        clip = (node, "clip")
    _report_syntax(prompt + negative, report)
    encodes = []
    for row, text in enumerate((prompt, negative)):
        node = g.add("conditioning.text_encode", {"text": text}, 3, row)
        g.link(*clip, node, "clip")
        encodes.append(node)
    vae = (checkpoint, "vae")
    if fields.get("VAE"):
        node = g.add("models.load_vae", {"vae": _vae(fields, library, report)}, 2, 3)
        vae = (node, "vae")
    latent = _first_latent(g, fields, vae, report)
    steps = _int(fields.get("Steps"), 20, report, "Steps")
    hires = "Hires upscale" in fields or "Hires resize" in fields
    denoise = 1.0 if hires else _float(fields.get("Denoising strength"), 1.0, report, "Denoising strength")
    sampler = _sampler(g, fields, steps, denoise, fields.get("Sampler", "Euler"), fields.get("Schedule type"),
                       _float(fields.get("CFG scale"), 7.0, report, "CFG scale"), report, 5)
    g.link(*model, sampler, "model")
    g.link(encodes[0], "conditioning", sampler, "positive")
    g.link(encodes[1], "conditioning", sampler, "negative")
    g.link(*latent, sampler, "latent_image")
    out = (sampler, "latent")
    if hires:
        out = _hires(g, fields, out, model, encodes, steps, report)
    decode = g.add("vae.decode", {}, 8, 1)
    g.link(*out, decode, "latent")
    g.link(*vae, decode, "vae")
    save = g.add("image.save", {"filename_prefix": "a1111"}, 9, 1)
    g.link(decode, "image", save, "images")
    for key, value in fields.items():
        if key not in USED:
            report.problems.append(f"'{key}: {value}' has no equivalent in NodeFlow; not used")
    report.notes.append("pixels will differ from A1111's: another noise generator and another sampler implementation")
    data: dict[str, Any] = {"format": workflow.FORMAT, "version": workflow.FORMAT_VERSION, "nodes": g.nodes,
                            "links": g.links, "metadata": {"imported_from": report.source}}
    if hashes:
        data["manifest"] = {"models": dict(sorted(hashes.items()))}
    return data


def _with_civitai_hashes(fields: dict[str, str]) -> dict[str, str]:
    """The fields with Civitai's `Hashes: {"model": ..., "lora:name": ...}` read into A1111's own
    `Model hash` and `Lora hashes` where those are absent."""
    try:
        table = json.loads(fields.get("Hashes", "{}"))
    except ValueError:
        return fields
    if not isinstance(table, dict):
        return fields
    out = dict(fields)
    if isinstance(table.get("model"), str):
        out.setdefault("Model hash", table["model"])
    loras = {k[5:]: v for k, v in table.items() if k.startswith("lora:") and isinstance(v, str)}
    if loras and "Lora hashes" not in out:
        out["Lora hashes"] = ", ".join(f"{name}: {digest}" for name, digest in loras.items())
    return out


def _first_latent(g: _Graph, fields: dict[str, str], vae: tuple[str, str], report: ImportReport) -> tuple[str, str]:
    """Empty Latent at the picture's size, or for img2img the picture (not in the file) encoded."""
    if "Denoising strength" in fields and "Hires upscale" not in fields and "Hires resize" not in fields:
        load = g.add("image.load", {"image": ""}, 3, 2)
        encode = g.add("vae.encode", {}, 4, 2)
        g.link(load, "image", encode, "pixels")
        g.link(*vae, encode, "vae")
        report.problems.append(f"img2img: the source picture is not in the file; choose it in node {load} (Load Image)")
        return encode, "latent"
    width, height = _size(fields.get("Size", ""), report)
    batch = _int(fields.get("Batch size"), 1, report, "Batch size")
    node = g.add("latent.empty", {"width": width, "height": height, "batch_size": batch}, 4, 2)
    g.link(*vae, node, "vae")
    return node, "latent"


def _sampler(g: _Graph, fields: dict[str, str], steps: int, denoise: float, sampler: str, schedule: str | None,
             cfg: float, report: ImportReport, column: int) -> str:
    name, scheduler = sampler_and_schedule(sampler, schedule)
    if name is None:
        report.problems.append(f"sampler '{sampler}' has no equivalent; euler is used")
        name = "euler"
    if scheduler is None:
        report.problems.append(f"schedule type '{schedule}' has no equivalent; normal is used")
        scheduler = "normal"
    run = steps
    if denoise < 1:
        run = max(1, int(steps * denoise))
        report.notes.append(f"denoise {denoise}: A1111 runs {run} of {steps} steps; written as ComfyUI's steps={run}, "
                            f"denoise {denoise} (the last {run} steps of an int({run} / {denoise})-step schedule)")
    seed = _int(fields.get("Seed"), 0, report, "Seed")
    return g.add("sampling.sampler", {"seed": max(seed, 0), "steps": run, "cfg": cfg, "sampler_name": name,
                                      "scheduler": scheduler, "denoise": denoise, "convention": "comfyui"}, column, 1)


def _hires(g: _Graph, fields: dict[str, str], latent: tuple[str, str], model: tuple[str, str], encodes: list[str],
           steps: int, report: ImportReport) -> tuple[str, str]:
    """A1111's hires fix: the first pass's latent upscaled, then sampled again at `Denoising strength`."""
    upscaler = fields.get("Hires upscaler", "Latent")
    method = LATENT_UPSCALERS.get(upscaler.strip().lower())
    if method is None:
        report.problems.append(f"Hires upscaler '{upscaler}' upscales pixels with a model NodeFlow does not pick "
                               "by that name; a bilinear latent upscale is used instead")
        method = "bilinear"
    if "Hires resize" in fields:
        width, height = _size(fields["Hires resize"], report)
        sized = {"method": method, "width": width, "height": height, "crop": "disabled"}
        node = g.add("latent.upscale_to", sized, 6, 2)
    else:
        scale = _float(fields.get("Hires upscale"), 2.0, report, "Hires upscale")
        node = g.add("latent.upscale", {"scale_by": scale, "method": method}, 6, 2)
    g.link(*latent, node, "latent")
    hires_steps = _int(fields.get("Hires steps"), 0, report, "Hires steps") or steps
    denoise = _float(fields.get("Denoising strength"), HIRES_DENOISE, report, "Denoising strength")
    sampler_name = fields.get("Hires sampler", "Use same sampler")
    same = sampler_name.strip().lower() == "use same sampler"
    schedule = fields.get("Hires schedule type", "Use same scheduler")
    cfg = _float(fields.get("Hires CFG Scale", fields.get("CFG scale")), 7.0, report, "Hires CFG Scale")
    second = _sampler(g, fields, hires_steps, min(denoise, 1.0), fields.get("Sampler", "Euler") if same else
                      sampler_name, fields.get("Schedule type") if schedule.lower().startswith("use same") else
                      schedule, cfg, report, 7)
    g.link(*model, second, "model")
    g.link(encodes[0], "conditioning", second, "positive")
    g.link(encodes[1], "conditioning", second, "negative")
    g.link(node, "latent", second, "latent_image")
    return second, "latent"


def _extra_networks(text: str, report: ImportReport) -> tuple[str, list[tuple[str, float, float]]]:
    """The prompt without its `<lora:...>` tags, and each LoRA as (name, unet weight, text weight)."""
    found = []

    def take(match: re.Match) -> str:
        kind, name, rest = match.group(1), match.group(2).strip(), match.group(3)
        if kind == "hypernet":
            report.problems.append(f"hypernetwork '{name}' has no equivalent; its tag was removed from the prompt")
            return ""
        positional, named = [], {}
        for arg in [a for a in rest.split(":") if a.strip()]:
            key, sep, value = arg.partition("=")
            (named.__setitem__(key.strip(), value) if sep else positional.append(arg))
        te = _number(named.get("te", positional[0] if positional else "1"), 1.0)
        unet = _number(named.get("unet", positional[1] if len(positional) > 1 else str(te)), te)
        found.append((name, unet, te))
        return ""

    cleaned = EXTRA_NETWORK.sub(take, text)
    return re.sub(r"[ \t]{2,}", " ", cleaned).strip(" ,\n"), found


def _report_syntax(text: str, report: ImportReport) -> None:
    if re.search(r"(?<!\\)\[[^\]]*\]", text):
        report.problems.append("the prompt uses [..] (A1111's down-weighting); NodeFlow reads brackets as plain text")
    if re.search(r"\bBREAK\b", text):
        report.problems.append("the prompt uses BREAK (A1111's chunk break); NodeFlow reads it as a word")


def _checkpoint(fields: dict[str, str], library: ModelLibrary | None, report: ImportReport) -> tuple[str, str | None]:
    """(library name, recorded hash) of the checkpoint: by `Model` name, else by `Model hash`."""
    written = fields.get("Model", "").strip()
    digest = normal_hash(fields.get("Model hash", ""))
    found = _find(library, "checkpoints", written, digest)
    if found is not None:
        return found
    name = f"{written or 'model-' + (digest or 'unknown')}.safetensors"
    report.notes.append(f"checkpoint '{written or '?'}' (Model hash {digest or 'not recorded'}) is not in the "
                        f"library yet: named {name}, found by its hash once it is there")
    return name, f"sha256:{digest}" if digest else None


def _lora(name: str, written_hash: str | None, library: ModelLibrary | None, report: ImportReport
          ) -> tuple[str, str | None]:
    digest = normal_hash(written_hash or "")
    found = _find(library, "loras", name, digest)
    if found is not None:
        return found
    report.notes.append(f"LoRA '{name}' (hash {digest or 'not recorded'}) is not in the library yet: "
                        f"named {name}.safetensors, found by its hash once it is there")
    return f"{name}.safetensors", f"sha256:{digest}" if digest else None


def _vae(fields: dict[str, str], library: ModelLibrary | None, report: ImportReport) -> str:
    written = fields["VAE"].strip()
    stem = written.rsplit(".", 1)[0] if written.lower().endswith(SUFFIXES[:-1]) else written
    found = _find(library, "vae", stem, normal_hash(fields.get("VAE hash", "")))
    if found is not None:
        return found[0]
    report.notes.append(f"VAE '{written}' is not in the library yet")
    return written


def _find(library: ModelLibrary | None, kind: str, written: str, digest: str | None) -> tuple[str, str | None] | None:
    """(library name, "sha256:..." when known) of a model A1111 named, found by name, then by a hash
    the index already holds (opening a picture reads no model; a renamed copy not indexed yet is
    found by the recorded hash when the workflow is validated or run). A name match whose indexed
    hash contradicts the recorded one is passed over."""
    if library is None:
        return None
    for suffix in SUFFIXES if written else ():
        path = library.find(kind, written + suffix)
        if path is None:
            continue
        known = library.index.known(path)
        if digest and known and not library.has_hash(path, digest):
            continue
        named = library.name_of(path)
        return (named[1] if named else str(path)), known
    if digest:
        path = library.find_by_hash(kind, digest, like=f"{written}.safetensors", compute=False)
        if path is not None:
            named = library.name_of(path)
            return (named[1] if named else str(path)), library.index.known(path)
    return None


def _size(value: str, report: ImportReport) -> tuple[int, int]:
    match = re.fullmatch(r"\s*(\d{1,5})\s*x\s*(\d{1,5})\s*", value)
    if match is None:
        if value:
            report.problems.append(f"size '{value}' is not WIDTHxHEIGHT; the model's native size is used")
        return 0, 0
    return int(match.group(1)), int(match.group(2))


def _int(value: str | None, default: int, report: ImportReport, key: str) -> int:
    if value is None:
        return default
    try:
        return int(value.strip())
    except ValueError:
        report.problems.append(f"'{key}: {value}' is not a whole number; {default} is used")
        return default


def _float(value: str | None, default: float, report: ImportReport, key: str) -> float:
    if value is None:
        return default
    try:
        number = float(value.strip())
    except ValueError:
        number = math.nan
    if not math.isfinite(number):
        report.problems.append(f"'{key}: {value}' is not a number; {default} is used")
        return default
    return number


def _number(text: str, default: float) -> float:
    try:
        return float(text)
    except ValueError:
        return default
