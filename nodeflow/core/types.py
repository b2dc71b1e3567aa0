"""Data types that travel on links, and the rule that decides which sockets may connect.

The vocabulary is ComfyUI's, because that is what users already know. Types are plain strings so a
workflow file, a third-party node and the GUI's socket colours all agree without importing anything.
"""

from __future__ import annotations

import math

MODEL = "MODEL"
CLIP = "CLIP"
VAE = "VAE"
CONDITIONING = "CONDITIONING"
LATENT = "LATENT"
IMAGE = "IMAGE"
MASK = "MASK"
NOISE = "NOISE"
SAMPLER = "SAMPLER"
SIGMAS = "SIGMAS"
GUIDER = "GUIDER"
#: Sound: {"waveform": float tensor [batch, channels, samples], "sample_rate": int} (`nodes.media`).
AUDIO = "AUDIO"
#: Moving pictures: frames as an IMAGE batch, a frame rate and optional AUDIO (`nodes.media.Video`).
VIDEO = "VIDEO"
#: A CLIP vision tower (`nodes.media.ClipVision`) and what it saw in pictures (`ClipVisionOutput`).
CLIP_VISION = "CLIP_VISION"
CLIP_VISION_OUTPUT = "CLIP_VISION_OUTPUT"
#: A model that turns what CLIP vision saw into prompt tokens (Flux Redux: `nodes.vision.style_model`).
STYLE_MODEL = "STYLE_MODEL"
#: A model patch from the model_patches folder (Z-Image's Fun union ControlNet, Qwen-Image's DiffSynth
#: ControlNets: `nodes.models.model_patch`).
MODEL_PATCH = "MODEL_PATCH"
INT = "INT"
FLOAT = "FLOAT"
STRING = "STRING"
BOOLEAN = "BOOLEAN"
ANY = "*"

#: The largest seed: seeds are unsigned 64-bit, as ComfyUI's. Seed inputs, the GUI's seed editor
#: and its after-run increment/decrement all use this one bound.
SEED_MAX = 2**64 - 1

#: Types whose value can be typed into a widget and stored in the workflow as a parameter.
SCALAR_TYPES = frozenset({INT, FLOAT, STRING, BOOLEAN})

#: Longest text a STRING parameter may hold. A prompt is a few hundred characters and a painted
#: mask (a PNG data URL) tens of thousands; ten million made the tokenizer take 4 GB.
MAX_TEXT_LENGTH = 1_000_000

#: Safe widening conversions applied when a link carries one scalar type into another:
#: (from, to) -> the conversion.
_WIDENING = {(INT, FLOAT): float}


def can_connect(output_type: str, input_type: str) -> bool:
    """Whether an output of `output_type` may feed an input of `input_type`.

    Equal types connect; `*` connects to anything (reroutes, generic nodes); an INT may feed a FLOAT.
    """
    if output_type == input_type or ANY in (output_type, input_type):
        return True
    return (output_type, input_type) in _WIDENING


def widen(value: object, output_type: str, input_type: str) -> object:
    """A value carried by a link from an `output_type` output into an `input_type` input, widened
    where the link is one `can_connect` allows only by widening (an INT into a FLOAT)."""
    convert = _WIDENING.get((output_type, input_type))
    return value if convert is None else convert(value)


def format_number(value: float) -> str:
    """A bound or value as people write it: 18446744073709551615, not 1.84467e+19."""
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e21:
        return str(int(value))
    return f"{value:g}" if isinstance(value, float) else str(value)


def coerce_scalar(value: object, type_name: str) -> object:
    """Convert a scalar parameter value to its declared type, or raise ValueError saying why.

    Used for values typed by hand (CLI `--set`, hand-written JSON, GUI), so "7" for an INT works
    but "seven" is refused with a readable message instead of failing deep inside a node. NaN and
    infinities are refused for every number: they slip past every min/max comparison.
    """
    value = _coerce(value, type_name)
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"expected a finite number, got {value!r}")
    if isinstance(value, str) and len(value) > MAX_TEXT_LENGTH:
        raise ValueError(f"text of {len(value):,} characters is longer than the {MAX_TEXT_LENGTH:,} allowed")
    return value


def _coerce(value: object, type_name: str) -> object:
    if type_name == INT:
        if isinstance(value, bool):
            raise ValueError(f"expected an integer, got {value!r}")
        if isinstance(value, float) and value.is_integer():
            return int(value)
        if isinstance(value, int):
            return value
        if isinstance(value, str) and len(value) <= 100:
            try:
                return int(value.strip())
            except ValueError:
                pass
        raise ValueError(f"expected an integer, got {_short(value)}")
    if type_name == FLOAT:
        if isinstance(value, bool):
            raise ValueError(f"expected a number, got {value!r}")
        if isinstance(value, (int, float)):
            try:
                return float(value)
            except OverflowError:
                raise ValueError(f"the number {_short(value)} is too large for a float") from None
        if isinstance(value, str) and len(value) <= 100:
            try:
                return float(value.strip())
            except ValueError:
                pass
        raise ValueError(f"expected a number, got {_short(value)}")
    if type_name == BOOLEAN:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in {"true", "false", "1", "0", "yes", "no"}:
            return value.strip().lower() in {"true", "1", "yes"}
        if isinstance(value, int) and value in (0, 1):
            return bool(value)
        raise ValueError(f"expected true or false, got {_short(value)}")
    if type_name == STRING:
        if isinstance(value, str):
            return value
        raise ValueError(f"expected text, got {_short(value)}")
    return value


def _short(value: object) -> str:
    """A value for an error message: its repr, cut so a hostile value can't flood the terminal."""
    text = repr(value)
    return text if len(text) <= 60 else f"{text[:57]}... ({type(value).__name__})"
