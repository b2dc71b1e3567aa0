"""Camera-angle prompts: the shot description multi-angle edit LoRAs are trained on.

Qwen-Image-Edit's multiple-angles LoRAs are prompted with a fixed vocabulary ("front-right quarter
view elevated shot close-up"); ComfyUI's CameraAngle node (Compose Camera Angle Prompt) turns an
orbit around the subject into that text, and the official multi-angle template is built on it.
This node gives the same words for the same angles, so an imported template prompts the LoRA as
ComfyUI does. ComfyUI's other output, a camera for its 3D viewer nodes, has no NodeFlow consumer
and is not produced.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from nodeflow.core import Input, Node, Output, RunContext
from nodeflow.core.types import FLOAT, IMAGE, INT, STRING

#: Eight 45-degree sectors around the subject, clockwise from the front (0 degrees).
HORIZONTAL_TERMS = (
    "front view",
    "front-right quarter view",
    "right side view",
    "back-right quarter view",
    "back view",
    "back-left quarter view",
    "left side view",
    "front-left quarter view",
)
#: (upper bound, exclusive; term) in rising order; the last term takes everything above.
VERTICAL_TERMS = ((-15.0, "low-angle shot"), (15.0, "eye-level shot"), (45.0, "elevated shot"),
                  (None, "high-angle shot"))
DISTANCE_TERMS = ((2.0, "wide shot"), (6.0, "medium shot"), (None, "close-up"))


def _bucket(value: float, terms: tuple[tuple[float | None, str], ...]) -> str:
    """The first term whose upper bound lies above `value`."""
    return next(term for upper, term in terms if upper is None or value < upper)


def horizontal_term(degrees: float) -> str:
    """The sector the azimuth falls in, each sector centred on its named direction."""
    return HORIZONTAL_TERMS[int(((degrees % 360) + 22.5) // 45) % len(HORIZONTAL_TERMS)]


def describe(horizontal_angle: float, vertical_angle: float, zoom: float) -> str:
    """The LoRA's shot description: azimuth, elevation and distance terms, space-separated."""
    return (f"{horizontal_term(horizontal_angle)} {_bucket(vertical_angle, VERTICAL_TERMS)} "
            f"{_bucket(zoom, DISTANCE_TERMS)}")


class CameraAngle(Node):
    type_id = "basic.camera_angle"
    title = "Camera Angle Prompt"
    category = "basic"
    pure = True
    description = ("Describes a camera placed around the subject in the words multi-angle edit LoRAs "
                   "(Qwen-Image-Edit Multiple Angles) are prompted with, e.g. 'front-right quarter view "
                   "elevated shot close-up' (ComfyUI's CameraAngle).")
    inputs = (
        Input("horizontal_angle", INT, default=0, min=0, max=360, step=1,
              help="azimuth in degrees: 0 the front, 90 the right side, 180 the back"),
        Input("vertical_angle", INT, default=0, min=-30, max=60, step=1,
              help="elevation in degrees: below 0 looks up at the subject, above 0 down on it"),
        Input("zoom", FLOAT, default=5.0, min=0.0, max=10.0, step=0.1,
              help="0 a wide shot, 10 a close-up (below 2 wide, below 6 medium)"),
        Input("image", IMAGE, optional=True, lazy=True,
              help="ComfyUI shows it on the subject in its 3D preview; the prompt does not depend on "
                   "it, so it is never evaluated"),
    )
    outputs = (Output("prompt", STRING),)

    @classmethod
    def lazy_needs(cls, values: Mapping[str, Any]) -> tuple[str, ...]:
        return ()

    def run(self, ctx: RunContext, horizontal_angle: int, vertical_angle: int, zoom: float,
            image: Any = None) -> tuple[str]:
        return (describe(horizontal_angle, vertical_angle, zoom),)
