"""LTX-2's prompt writer (`nodes.ltx2.prompt`); its text encoder loader is in `ltx`. Widget orders are read off
ComfyUI's comfy_extras/nodes_textgen.py.

One `Entry` per ComfyUI class (see `classmap` for the fields); joined in `classmap.ENTRIES`.
"""

from __future__ import annotations

from nodeflow.interop.comfyui import convert_data
from nodeflow.interop.comfyui.classes.entry import Entry, same

#: TextGenerate's sampling_mode "on" widgets, in its saved order (Generate LTX2 Prompt inherits them).
_SAMPLING = ("temperature", "top_k", "top_p", "min_p", "repetition_penalty", "seed", "presence_penalty")

LTX_TEXT: tuple[Entry, ...] = (
    Entry("TextGenerateLTX2Prompt", "ltx2.generate_prompt",
          ("prompt", "max_length", "sampling_mode", "thinking", "use_default_template", "mtp"),
          same("clip", "prompt", "image", "video", "audio", "max_length", "sampling_mode", "thinking",
               "use_default_template", "mtp") | {f"sampling_mode.{n}": n for n in _SAMPLING}, ("generated_text",),
          variants=("sampling_mode", {"on": tuple(f"sampling_mode.{n}" for n in _SAMPLING), "off": ()}),
          values=convert_data.text_generate_values),
)
