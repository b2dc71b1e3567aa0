"""Style models, in ComfyUI's vocabulary: Load Style Model (StyleModelLoader) and Apply Style Model
(StyleModelApply).

Flux Redux (flux1-redux-dev.safetensors) turns what a SigLIP tower saw in a picture (CLIP Vision Encode's
last states, 729 tokens of sigclip_vision_patch14_384) into Flux prompt tokens: diffusers'
ReduxImageEncoder (redux_up, SiLU, redux_down), whose file names are ComfyUI's. Apply Style Model puts
those tokens after each prompt's own, as FluxPriorReduxPipeline joins them to the prompt states and as
ComfyUI's node does; the pictures of a batch one after the other. strength multiplies the tokens
("multiply"); ComfyUI's "attn_bias" (an attention bias of log strength) is the same at strength 1 and one
line otherwise.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from nodeflow.core import Input, Node, NodeError, Output, RunContext
from nodeflow.core.spec import Weights
from nodeflow.core.types import CLIP_VISION_OUTPUT, CONDITIONING, FLOAT, STRING, STYLE_MODEL
from nodes.models._single_file import file_weights, load_file


def load_redux(path: Path, dtype: Any, place: str) -> Any:
    """ReduxImageEncoder from a .safetensors file, its widths read off the tensors."""
    from diffusers.pipelines.flux.modeling_flux import ReduxImageEncoder

    from nodes.models._family_loader import ready
    from nodes.models._quantized import load_into, read_state_dict

    state = read_state_dict(path, "style_model_name")
    if "redux_up.weight" not in state or "redux_down.weight" not in state:
        raise NodeError(f"{path.name} is not a Flux Redux style model (no redux_up / redux_down weights)",
                        "style_model_name")
    up = state["redux_up.weight"].shape
    model = ReduxImageEncoder(redux_dim=int(up[1]), txt_in_features=int(state["redux_down.weight"].shape[0]))
    load_into(model, state, dtype, "style_model_name")
    return ready(model.eval(), place)


class LoadStyleModel(Node):
    type_id = "vision.load_style_model"
    title = "Load Style Model"
    category = "models"
    description = ("Loads a style model from the style_models folder: Flux Redux (flux1-redux-dev.safetensors), "
                   "which turns what a SigLIP tower saw in a picture into Flux prompt tokens.")
    inputs = (Input("style_model_name", STRING, default="", file="file", model="style_models"),)
    outputs = (Output("style_model", STYLE_MODEL),)

    @classmethod
    def weights(cls, params: Mapping[str, Any], resolve: Callable[[str], Path]) -> list[Weights]:
        return file_weights(params, resolve, "style_model_name", "style_model", "style_model")

    def run(self, ctx: RunContext, style_model_name: str) -> tuple[Any]:
        return (load_file(ctx, type(self), "style_model_name", style_model_name, "style model", load_redux),)


class ApplyStyleModel(Node):
    type_id = "vision.apply_style_model"
    title = "Apply Style Model"
    category = "conditioning"
    description = ("Adds a picture to prompts through a style model (Flux Redux): the tokens it makes of CLIP "
                   "Vision Encode's output (a SigLIP tower's) go after each prompt's own, times strength.")
    inputs = (
        Input("conditioning", CONDITIONING),
        Input("style_model", STYLE_MODEL),
        Input("clip_vision_output", CLIP_VISION_OUTPUT),
        Input("strength", FLOAT, default=1.0, min=0.0, max=10.0, step=0.001,
              help="How strongly the picture's tokens speak (they are multiplied by it)."),
        Input("strength_type", STRING, default="multiply", choices=("multiply", "attn_bias"),
              help="multiply: scale the tokens; attn_bias (ComfyUI's attention bias) runs only at strength 1."),
    )
    outputs = (Output("conditioning", CONDITIONING),)

    def run(self, ctx: RunContext, conditioning: Any, style_model: Any, clip_vision_output: Any,
            strength: float = 1.0, strength_type: str = "multiply") -> tuple[Any]:
        import torch

        from nodes.values import Conditioning

        if strength_type == "attn_bias" and strength != 1.0:
            raise NodeError("attn_bias at a strength other than 1 (an attention bias on the picture's tokens) is "
                            "not carried by NodeFlow; use multiply", "strength_type")
        states = clip_vision_output.last_hidden_state
        width = int(style_model.redux_up.in_features)
        if states is None or states.shape[-1] != width:
            got = "no last states" if states is None else f"states {states.shape[-1]} wide"
            raise NodeError(f"this style model reads a SigLIP tower's last states {width} wide; the CLIP vision "
                            f"output has {got} (encode with sigclip_vision_patch14_384)", "clip_vision_output")
        parameter = next(style_model.parameters())
        with torch.no_grad():
            tokens = style_model(states.to(device=parameter.device, dtype=parameter.dtype)).image_embeds
        tokens = tokens.flatten(0, 1)[None].cpu()
        if strength_type == "multiply":
            tokens = tokens * strength
        entries = []
        for entry in conditioning.entries:
            if entry.embeds.shape[-1] != tokens.shape[-1]:
                raise NodeError(f"the prompt's states are {entry.embeds.shape[-1]} wide, the style model makes "
                                f"{tokens.shape[-1]} (Flux's T5 width)", "conditioning")
            joined = torch.cat([entry.embeds, tokens.to(entry.embeds)], dim=1)
            entries.append(entry.with_(embeds=joined))
        return (Conditioning(entries),)
