"""Value converters for the data nodes whose ComfyUI widgets are lists: Custom Combo's options and
Create Bounding Boxes' canvas state (the conventions of `convert.py`).

- CustomCombo saves [choice, index, option0, option1, ...] (an empty last option is the editor's
  slot for the next one); NodeFlow keeps the options as lines of text (`core.choices`) and works
  the index out from them, so it is dropped on import and written back on export.
- CreateBoundingBoxes saves its canvas (`editor_state`) and the upstream boxes it last took
  (`last_incoming`) as lists; NodeFlow keeps them as JSON text.
"""

from __future__ import annotations

import json
import re
from typing import Any

from nodeflow.core.choices import option_lines
from nodeflow.interop.comfyui.convert import Notes, Unmappable

#: Options of a Custom Combo the class map names (option0 .. option99).
MAX_OPTIONS = 100
_OPTION = re.compile(r"option\.(\d+)")


def custom_combo_values(params: dict[str, Any], notes: Notes) -> dict[str, Any]:
    params = dict(params)
    params.pop("index", None)
    numbered = sorted((int(m.group(1)), key) for key in params if (m := _OPTION.fullmatch(key)))
    options = [params.pop(key) for _, key in numbered]
    texts = [str(option) for option in options if option not in (None, "")]
    if any("\n" in text for text in texts):
        raise Unmappable("an option holds a line break; NodeFlow's Custom Combo keeps one option per line")
    params["options"] = "\n".join(texts)
    return params


def custom_combo_export(params: dict[str, Any]) -> dict[str, Any]:
    options = option_lines(str(params.get("options", "")))
    choice = params.get("choice", "")
    exported: dict[str, Any] = {"choice": choice, "index": options.index(choice) if choice in options else 0}
    return exported | {f"option.{n}": option for n, option in enumerate(options)}


def bounding_boxes_values(params: dict[str, Any], notes: Notes) -> dict[str, Any]:
    params = dict(params)
    for name in ("boxes", "last_incoming"):
        if name in params:
            value = params[name]
            params[name] = json.dumps(value if isinstance(value, list) else [], ensure_ascii=False)
    return params


def bounding_boxes_export(params: dict[str, Any]) -> dict[str, Any]:
    params = dict(params)
    for name in ("boxes", "last_incoming"):
        try:
            params[name] = json.loads(params.get(name) or "[]")
        except ValueError:
            params[name] = []
    return params


def text_generate_values(params: dict[str, Any], notes: Notes) -> dict[str, Any]:
    """TextGenerate's `mtp` (multi-token prediction, ComfyUI's way of decoding several tokens a step
    where a model has the heads for it) is a speed choice: NodeFlow decodes one token a step."""
    params = dict(params)
    if params.pop("mtp", "off") not in ("off", None):
        notes.note("mtp (multi-token prediction) is a speed-up NodeFlow does not have: it decodes one token a step")
    return params


def aura_flow_values(params: dict[str, Any], notes: Notes) -> dict[str, Any]:
    """ModelSamplingAuraFlow's `sampling` (ComfyUI 0.5+): "flow", its default, is the flow-matching
    prediction NodeFlow's node applies, so it is dropped; "img_to_img_velocity" (Marigold's depth
    models) is not, and stays in to be reported as a value not carried over."""
    params = dict(params)
    if params.get("sampling") in ("flow", None):
        params.pop("sampling", None)
    return params


def attention_backend_values(params: dict[str, Any], notes: Notes) -> dict[str, Any]:
    """ModelAttentionBackend's comfy-kitchen INT8 attention runs as PyTorch attention here (ComfyUI's
    own fallback without the kitchen), so ComfyUI's pixels on a GPU that has it are not promised."""
    if params.get("attention") == "comfy kitchen attention":
        notes.unproven = ("comfy kitchen attention is ComfyUI's INT8 attention; NodeFlow runs PyTorch attention, "
                          "as ComfyUI does without the kitchen")
    return params


def block_sparse_values(params: dict[str, Any], notes: Notes) -> dict[str, Any]:
    """BlockSparseAttention approximates dense attention with CUDA kernels NodeFlow lacks; the model
    runs dense attention, so ComfyUI's pixels (with the kernel) are not promised. FastH3's distilled
    weights were trained with VSA, so its dense run differs from the sparse one by more than detail."""
    notes.unproven = (f"BlockSparseAttention ({params.get('selection', 'vsa')}) runs as dense PyTorch attention "
                      "in NodeFlow: ComfyUI's block-sparse pixels are not reproduced")
    return params


def euler_ancestral_values(params: dict[str, Any], notes: Notes) -> dict[str, Any]:
    """SamplerEulerAncestral's s_noise scales the fresh noise each step adds; NodeFlow's euler_ancestral
    adds it unscaled, which is s_noise 1 (ComfyUI's default), so only that value is dropped as carried;
    another stays in to be reported as a value not carried over."""
    params = dict(params)
    if params.get("s_noise", 1.0) == 1.0:
        params.pop("s_noise", None)
    return params


def ltx_guide_values(params: dict[str, Any], notes: Notes) -> dict[str, Any]:
    """LTXVAddGuide below strength 1 (or above) also scales, in ComfyUI, the attention between the video
    and the guide's tokens; NodeFlow applies the strength to the guide's noise mask only, so ComfyUI's
    pixels for such a guide are not promised."""
    if params.get("strength", 1.0) != 1.0:
        notes.unproven = ("LTXVAddGuide's strength other than 1 also scales ComfyUI's attention to the guide; "
                          "NodeFlow holds the guide by its noise mask only")
    return params
