"""ControlNet nodes: load a ControlNet, attach it with a control picture to prompts.

The ControlNet runs inside the model call of every step in which its prompt is used (see
`nodes.conditioning._controlnet` and `nodes.sampling._cond_call`); with the same settings the pixels equal diffusers'
StableDiffusionControlNetPipeline's. Qwen-Image's InstantX ControlNets read the picture as latents (the VAE's) and
run beside the transformer (`nodes.qwen_image._instantx`): with cfg 1 their pixels equal
QwenImageControlNetPipeline's and QwenImageControlNetInpaintPipeline's (with cfg above 1 the pipelines reuse the
positive prompt's ControlNet output for the negative call; NodeFlow, as ComfyUI, runs it with each prompt's text).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from nodeflow.core import Input, Node, NodeError, Output, RunContext
from nodeflow.core.spec import Weights
from nodeflow.core.types import CONDITIONING, FLOAT, IMAGE, MASK, STRING, VAE
from nodes.models._model_path import model_path

#: Link type of a loaded ControlNet (ComfyUI's name).
CONTROL_NET = "CONTROL_NET"

_RANGE_HELP = ("start/end: the part of the noise schedule (0 = pure noise, 1 = clean) in which the "
               "ControlNet steers, by the same rule as Conditioning Set Timestep Range.")


class LoadControlNet(Node):
    type_id = "models.load_controlnet"
    title = "Load ControlNet"
    category = "models"
    description = (
        "Loads a ControlNet (SD 1.x or SDXL; a diffusers folder or a single .safetensors file) "
        "from the model library's controlnet folders. Connect it to Apply ControlNet."
    )
    inputs = (Input("control_net", STRING, default="", file="file-or-folder", model="controlnet"),)
    outputs = (Output("control_net", CONTROL_NET),)

    @classmethod
    def weights(cls, params: Mapping[str, Any], resolve: Callable[[str], Path]) -> list[Weights]:
        """The ControlNet, sized from its file headers; once applied it rides on the conditioning,
        so the sampler that receives that conditioning needs it in memory."""
        from nodes.models._weights import weight_count

        name = params.get("control_net")
        count = weight_count(resolve(name)) if isinstance(name, str) and name.strip() else 0
        return [Weights("controlnet", "control_net", count, rides=CONDITIONING)] if count else []

    def run(self, ctx: RunContext, control_net: str) -> tuple[Any]:
        from nodes.conditioning._controlnet import load_controlnet
        from nodes.models._precision import compute_dtype
        from nodes.models._store import load_once

        path = model_path(ctx, control_net, "control_net", "ControlNet")
        dtype = compute_dtype(ctx.device)
        key = ("controlnet", str(path.resolve()), str(dtype), ctx.device)
        return (load_once(ctx, type(self), {"control_net": path}, key,
                          lambda place: load_controlnet(path, ctx.device, dtype, place)),)


def attach(conditioning: Any, control: Any) -> Any:
    """`conditioning` with `control` added to every prompt (after any it already has). Prompts that
    share one Control object let a batched [negative, positive] call run the ControlNet once."""
    from nodes.values import Conditioning

    return Conditioning([e.with_(controls=tuple(e.controls) + (control,)) for e in conditioning.entries])


class ApplyControlNet(Node):
    type_id = "conditioning.apply_controlnet"
    title = "Apply ControlNet"
    category = "conditioning/controlnet"
    description = (
        "Steers sampling with a control picture (edges, depth, pose... as the ControlNet was "
        "trained on; white-on-black for most). It is attached to both prompts, as diffusers' "
        "ControlNet pipeline does; the picture is resized (bilinear, centre crop) to the output "
        "size. strength scales the ControlNet's effect; several Apply ControlNet nodes add up. "
        + _RANGE_HELP
    )
    inputs = (
        Input("positive", CONDITIONING),
        Input("negative", CONDITIONING, optional=True,
              help="Also steer the negative prompt (the pipeline's behaviour); unconnected: only the positive."),
        Input("control_net", CONTROL_NET),
        Input("image", IMAGE),
        Input("vae", VAE, optional=True,
              help="The VAE that ControlNets steering in latent space (Qwen-Image's InstantX) encode the picture "
                   "with; the SD 1.x / SDXL ControlNets take the picture itself, so, as in ComfyUI, they do not "
                   "use it."),
        Input("strength", FLOAT, default=1.0, min=0.0, max=10.0, step=0.01),
        Input("start", FLOAT, default=0.0, min=0.0, max=1.0, step=0.001),
        Input("end", FLOAT, default=1.0, min=0.0, max=1.0, step=0.001),
    )
    outputs = (Output("positive", CONDITIONING), Output("negative", CONDITIONING))

    def run(self, ctx: RunContext, positive: Any, negative: Any, control_net: Any, image: Any, strength: float,
            start: float, end: float, vae: Any = None) -> tuple[Any, Any]:
        if start > end:
            raise NodeError(f"start {start:g} is after end {end:g}", "start")
        if strength == 0:
            return positive, negative
        from nodes.conditioning._controlnet import Control

        latents = _latents(ctx, control_net, vae, image, None)
        control = Control(control_net, image, float(strength), float(start), float(end), latents)
        positive = attach(positive, control)
        if negative is not None:
            negative = attach(negative, control)
        return positive, negative


def _latents(ctx: RunContext, control_net: Any, vae: Any, image: Any, mask: Any) -> Any:
    """The control picture as latents for a ControlNet that reads it so (Qwen-Image's InstantX), else None;
    a mask for one that takes none, or none for the inpainting one, is one line."""
    from diffusers import QwenImageControlNetModel

    if not isinstance(control_net, QwenImageControlNetModel):
        if mask is not None:
            raise NodeError("ControlNet Inpainting runs Qwen-Image's InstantX inpainting ControlNet; this one takes "
                            "no mask (apply it with Apply ControlNet)", "control_net")
        return None
    if vae is None:
        raise NodeError("Qwen-Image's ControlNets read the control picture as latents: connect the VAE", "vae")
    from nodes.qwen_image._instantx import control_latents
    from nodes.vae.codec import encode

    return control_latents(control_net, image, mask, lambda pixels: encode(ctx, pixels, vae)["samples"])


class ApplyInpaintControlNet(Node):
    type_id = "conditioning.apply_inpaint_controlnet"
    title = "ControlNet Inpainting"
    category = "conditioning/controlnet"
    description = (
        "Steers inpainting with Qwen-Image's InstantX inpainting ControlNet: the picture, blacked out where the "
        "mask is (1 = repaint), is encoded by the VAE and read with the mask by the ControlNet, which is attached "
        "to both prompts as Apply ControlNet does. " + _RANGE_HELP
    )
    inputs = (
        Input("positive", CONDITIONING),
        Input("negative", CONDITIONING),
        Input("control_net", CONTROL_NET),
        Input("vae", VAE),
        Input("image", IMAGE),
        Input("mask", MASK),
        Input("strength", FLOAT, default=1.0, min=0.0, max=10.0, step=0.01),
        Input("start", FLOAT, default=0.0, min=0.0, max=1.0, step=0.001),
        Input("end", FLOAT, default=1.0, min=0.0, max=1.0, step=0.001),
    )
    outputs = (Output("positive", CONDITIONING), Output("negative", CONDITIONING))

    def run(self, ctx: RunContext, positive: Any, negative: Any, control_net: Any, vae: Any, image: Any, mask: Any,
            strength: float, start: float, end: float) -> tuple[Any, Any]:
        if start > end:
            raise NodeError(f"start {start:g} is after end {end:g}", "start")
        if strength == 0:
            return positive, negative
        from nodes.conditioning._controlnet import Control

        control = Control(control_net, image, float(strength), float(start), float(end),
                          _latents(ctx, control_net, vae, image, mask))
        return attach(positive, control), attach(negative, control)
