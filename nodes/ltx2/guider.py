"""LTX-2's guider with a guidance scale per stream, in ComfyUI's vocabulary: LTXVDualCFGGuider.

LTX-2 denoises a video and its soundtrack together; its pipeline guides them with two scales
(LTX2Pipeline's guidance_scale and audio_guidance_scale), the soundtrack usually harder. The guider is
a CFG Guider whose mix uses the video's scale on the video's numbers and the sound's on the sound's
(`nodes.latent._streams.guidance_scale`); with both 1 it is one model call, as CFG Guider at 1.
"""

from __future__ import annotations

from typing import Any

from nodeflow.core import Input, Node, Output, RunContext
from nodeflow.core.types import CONDITIONING, FLOAT, GUIDER, MODEL


class DualCFGGuider(Node):
    type_id = "ltx2.dual_cfg_guider"
    title = "LTXV Dual CFG Guider"
    category = "sampling/custom"
    description = ("Classifier-free guidance for a video with its soundtrack (LTX-2), with a scale for each: "
                   "video_cfg on the video, audio_cfg on the sound. Equal scales guide as CFG Guider does; the "
                   "distilled models use 1 and 1 (no negative prompt run).")
    inputs = (
        Input("model", MODEL),
        Input("positive", CONDITIONING),
        Input("negative", CONDITIONING),
        Input("video_cfg", FLOAT, default=3.0, min=0.0, max=100.0, step=0.1),
        Input("audio_cfg", FLOAT, default=7.0, min=0.0, max=100.0, step=0.1),
    )
    outputs = (Output("guider", GUIDER),)

    def run(self, ctx: RunContext, model: Any, positive: Any, negative: Any, video_cfg: float,
            audio_cfg: float) -> tuple[Any]:
        from nodes.values import Guider

        scales = (float(video_cfg), float(audio_cfg))
        return (Guider(model, positive, negative, max(scales), stream_cfg=scales),)
