"""The `parameters` text a saved picture carries so A1111, Forge and Civitai read its settings.

A1111's format: the prompt (with `<lora:name:weight>` tags), a line "Negative prompt: ...", then one
line of `Key: value` settings (Steps, Sampler, Schedule type, CFG scale, Seed, Size, Model hash,
Model, Denoising strength, Clip skip). NodeFlow builds it from what node declarations say their
inputs mean (`Node.infotext`: input name -> one of `ROLES`), never from type ids: the first value
of each role in the workflow wins, and a sampler's `positive`/`negative` links are followed up to
the node whose `prompt` input holds the text. The name tables below are the one place A1111's
sampler and schedule names meet NodeFlow's; the A1111 importer reads them backwards.
"""

from __future__ import annotations

from pathlib import PurePosixPath
from typing import Any

from nodeflow.core.registry import Registry
from nodeflow.core.spec import REQUIRED

#: What a node input can mean in a parameters text.
ROLES = ("prompt", "positive", "negative", "seed", "steps", "cfg", "sampler", "scheduler", "denoise", "width",
         "height", "batch", "checkpoint", "lora", "lora_strength", "clip_skip")
#: NodeFlow (and ComfyUI) sampler names -> A1111's.
SAMPLER_NAMES = {
    "euler": "Euler", "euler_ancestral": "Euler a", "heun": "Heun", "lms": "LMS", "dpm_2": "DPM2",
    "dpm_2_ancestral": "DPM2 a", "dpmpp_2s_ancestral": "DPM++ 2S a", "dpmpp_2m": "DPM++ 2M", "dpmpp_sde": "DPM++ SDE",
    "dpmpp_2m_sde": "DPM++ 2M SDE", "dpmpp_2m_sde_heun": "DPM++ 2M SDE Heun", "dpmpp_3m_sde": "DPM++ 3M SDE",
    "ddim": "DDIM", "ddpm": "DDPM", "uni_pc": "UniPC", "lcm": "LCM",
}
#: NodeFlow scheduler names -> A1111's "Schedule type".
SCHEDULE_NAMES = {
    "normal": "Normal", "karras": "Karras", "exponential": "Exponential", "sgm_uniform": "SGM Uniform",
    "simple": "Simple", "ddim_uniform": "DDIM", "beta": "Beta", "kl_optimal": "KL Optimal",
}
#: Links followed from a sampler's prompt input to the text (through combine/strength nodes).
MAX_HOPS = 8


def parameters_text(data: dict[str, Any], registry: Registry) -> str:
    """The A1111-style parameters text of workflow data (`workflow.to_data` plus its run's
    manifest); "" when the workflow declares no prompt or sampler settings."""
    nodes = [n for n in data.get("nodes", []) if isinstance(n, dict)]
    by_id = {str(n.get("id")): n for n in nodes}
    sources = {}
    for link in data.get("links", []):
        try:
            sources[(str(link["to"][0]), str(link["to"][1]))] = str(link["from"][0])
        except (KeyError, IndexError, TypeError):
            continue
    found: dict[str, Any] = {}
    loras: list[tuple[str, Any]] = []
    for node in nodes:
        cls = registry.get(str(node.get("type", "")))
        if cls is None or node.get("mode", "normal") != "normal":
            continue
        params = _params(cls, node)
        for input_name, role in cls.infotext.items():
            if role in ("positive", "negative"):
                text = _prompt_from(sources.get((str(node["id"]), input_name)), by_id, sources, registry)
                if text is not None:
                    found.setdefault(role, text)
            elif role == "lora":
                strength = next((params.get(i) for i, r in cls.infotext.items() if r == "lora_strength"), 1.0)
                if params.get(input_name):
                    loras.append((str(params[input_name]), strength))
            elif role != "prompt" and input_name in params:
                found.setdefault(role, params[input_name])
    if not ({"positive", "steps", "seed"} & found.keys()):
        return ""
    return _format(found, loras, data.get("manifest") if isinstance(data.get("manifest"), dict) else {})


def _params(cls: Any, node: dict[str, Any]) -> dict[str, Any]:
    """The node's parameter values: those the file holds, else the declared defaults."""
    given = node.get("params") if isinstance(node.get("params"), dict) else {}
    values = {i.name: given.get(i.name, i.default) for i in cls.inputs if i.is_parameter}
    return {name: value for name, value in values.items() if value is not REQUIRED}


def _prompt_from(node_id: str | None, by_id: dict, sources: dict, registry: Registry) -> str | None:
    """The text of the first node upstream (through its first linked inputs) that declares a prompt."""
    for _ in range(MAX_HOPS):
        node = by_id.get(node_id) if node_id is not None else None
        cls = registry.get(str(node.get("type", ""))) if node else None
        if cls is None:
            return None
        prompt = next((i for i, r in cls.infotext.items() if r == "prompt"), None)
        if prompt is not None:
            return str(_params(cls, node).get(prompt, ""))
        node_id = next((sources[(node_id, i.name)] for i in cls.inputs if (node_id, i.name) in sources), None)
    return None


def _format(found: dict[str, Any], loras: list[tuple[str, Any]], manifest: dict) -> str:
    prompt = str(found.get("positive", ""))
    tags = " ".join(f"<lora:{PurePosixPath(name).stem}:{_number(strength)}>" for name, strength in loras)
    lines = [f"{prompt} {tags}".strip() if tags else prompt]
    if found.get("negative"):
        lines.append(f"Negative prompt: {found['negative']}")
    settings = []
    for role, key in (("steps", "Steps"), ("sampler", "Sampler"), ("scheduler", "Schedule type"),
                      ("cfg", "CFG scale"), ("seed", "Seed")):
        if role in found:
            value = found[role]
            table = SAMPLER_NAMES if role == "sampler" else SCHEDULE_NAMES if role == "scheduler" else {}
            settings.append(f"{key}: {table.get(value, _number(value))}")
    if found.get("width") and found.get("height"):
        settings.append(f"Size: {found['width']}x{found['height']}")
    if found.get("batch", 1) != 1:
        settings.append(f"Batch size: {found['batch']}")
    checkpoint = found.get("checkpoint")
    if checkpoint:
        digest = (manifest.get("models") or {}).get(f"checkpoints/{checkpoint}")
        if isinstance(digest, str) and len(digest.removeprefix("sha256:")) >= 10:
            settings.append(f"Model hash: {digest.removeprefix('sha256:')[:10]}")
        settings.append(f"Model: {_quoted(PurePosixPath(str(checkpoint)).stem)}")
    if found.get("denoise") not in (None, 1, 1.0):
        settings.append(f"Denoising strength: {_number(found['denoise'])}")
    if isinstance(found.get("clip_skip"), int) and found["clip_skip"] < -1:
        settings.append(f"Clip skip: {-found['clip_skip']}")
    settings.append("Version: NodeFlow")
    lines.append(", ".join(settings))
    return "\n".join(lines)


def _number(value: Any) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def _quoted(value: str) -> str:
    """A settings value; one holding a comma, colon or quote is written as a JSON string."""
    import json

    return json.dumps(value) if any(c in value for c in ',:"') else value
