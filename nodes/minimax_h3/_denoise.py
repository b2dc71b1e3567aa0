"""MiniMax H3 in the ComfyUI convention: any k-diffusion sampler over the video's sigmas, the soundtrack
carried along in the same sigmas.

The pipeline steps the video down a shift-12 schedule and the soundtrack down a shift-3 one over the
same grid of times u (sigma = s u / (1 + (s - 1) u)). At every u the two noise-to-signal ratios
sigma / (1 - sigma) = s u / (1 - u) differ by the constant factor s_audio / s_video, so a soundtrack
kept as y = z (1 - sigma_v) / (1 - sigma_a) (z: the audio latents at their own sigma_a) is a flow
sample at the *video's* sigma whose noise is scaled by s_audio / s_video: any sampler that steps in
sigma (or log sigma) moves it exactly as its own schedule would. So the sampler sees one joined tensor
(`nodes.latent._streams`), the start noise of its soundtrack scaled by `stream_noise_scales`, and `Denoise`
turns the model's two velocities into that tensor's flow output: for the video -v (x0 = x + sigma v,
H3's velocity points at the data), for the soundtrack (y - x0_audio) / sigma_v. At the last sigma (0)
y = z. ComfyUI does the same (its ModelSamplingAV scales the soundtrack's noise by the two shifts).

Keyframes are held as the pipeline holds them (noised to t 0.999 once, never stepped), with noise drawn
from the pipeline's keyframe seed. Samplers that add fresh noise per step add it unscaled to the
soundtrack; the templates' res_multistep and Euler add none.
"""

from __future__ import annotations

from typing import Any

from nodeflow.core import NodeError
from nodes._lazy import lazy
from nodes.minimax_h3._adapter import (
    KEYFRAME_SEED,
    Layout,
    audio_latents,
    audio_rows,
    shifts_of,
    video_latents,
    video_rows,
)

torch = lazy("torch")


def stream_noise_scales(model: Any) -> tuple[float, float]:
    """The factors on the video's and the soundtrack's start noise that keep the soundtrack on its own
    schedule in the video's sigmas (`nodes.latent._streams.Joint.scales`)."""
    video, audio = shifts_of(model)
    return 1.0, audio / video


class Denoise:
    """The flow output of a joined video + soundtrack under one MiniMax H3 prompt (see module doc)."""

    takes_streams = True  # told the joined latent's layout before its first call (`nodes.sampling._flow_call`)

    def __init__(self, model: Any, entry: Any, batch: int, size: tuple[int, int]) -> None:
        if batch != 1:
            raise NodeError("MiniMax H3 packs one video per sequence: batch size 1", "latent_image")
        self.model, self.entry, self.streams = model, entry, None
        self.shifts = shifts_of(model)
        self.layout: Any = None
        self.held: Any = None

    def _prepare(self) -> None:
        from diffusers import MiniMaxH3Scheduler

        if self.streams is None:
            raise NodeError("MiniMax H3 makes a video with its soundtrack: sample the latent MiniMax H3 Image to "
                            "Video (or Reference to Video) makes", "latent_image")
        video, audio = self.streams.shapes
        self.layout = Layout(self.model, self.entry, video, audio[-1])
        held = self.layout.held(torch.Generator("cpu").manual_seed(KEYFRAME_SEED), MiniMaxH3Scheduler())
        self.held = torch.cat(held).to(self.model.device) if held else None

    def __call__(self, latents: Any, t: Any) -> Any:
        if self.layout is None:
            self._prepare()
        sigma = float(t.flatten()[0]) / 1000.0
        video, y = self.streams.split(latents.float())
        shift_v, shift_a = self.shifts
        u = sigma / (shift_v - (shift_v - 1.0) * sigma)  # the time both schedules share
        sigma_a = shift_a * u / (1.0 + (shift_a - 1.0) * u)
        z = y * ((1.0 + (shift_v - 1.0) * u) / (1.0 + (shift_a - 1.0) * u))  # (1 - sigma_a) / (1 - sigma_v)
        rows = video_rows(video, self.layout.patch)
        if self.held is not None:
            rows = torch.cat([self.held, rows])
        frames = self.streams.shapes[1][-1]
        v, a = self.layout(rows.to(self.model.dtype), audio_rows(z).to(self.model.dtype), 1.0 - sigma, 1.0 - sigma_a)
        video_out = -video_latents(v[self.layout.condition_rows:].float(), self.streams.video, self.layout.patch)
        clean = z + sigma_a * audio_latents(a.float(), frames)
        return self.streams.join([video_out, (y - clean) / sigma])
