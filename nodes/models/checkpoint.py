"""Model loading nodes: checkpoints (diffusers folders or single files) and LoRAs."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from nodeflow.core import Input, Node, Output, RunContext
from nodeflow.core.spec import Weights
from nodeflow.core.types import CLIP, FLOAT, MODEL, STRING, VAE
from nodes.models._model_path import model_path


class LoadCheckpoint(Node):
    type_id = "models.load_checkpoint"
    title = "Load Checkpoint"
    category = "models"
    infotext = {"checkpoint": "checkpoint"}
    description = (
        "Loads a Stable Diffusion model: a diffusers folder (with model_index.json) or a single "
        ".safetensors file (SD 1.x, SD 2.x, SDXL; configs ship with NodeFlow). Gives the denoising "
        "MODEL, the CLIP text encoder and the VAE. Each model is loaded once per device and shared; "
        "fp16 on CUDA, fp32 on CPU. Pickle checkpoints (.ckpt) load only if they hold plain weights."
    )
    inputs = (
        Input("checkpoint", STRING, default="tiny-shapes", file="file-or-folder", model="checkpoints",
              help="A model from the library (`nodeflow models --kind checkpoints`: a name relative to "
                   "a checkpoints folder, 'tiny-shapes' for the built-in one), a diffusers folder or a "
                   ".safetensors file. Paths are looked up next to the workflow, in the current folder "
                   "and in NodeFlow's folder; a renamed model is found by the hash the workflow recorded."),
    )
    outputs = (Output("model", MODEL), Output("clip", CLIP), Output("vae", VAE))

    def run(self, ctx: RunContext, checkpoint: str) -> tuple[Any, Any, Any]:
        from nodes.models._checkpoint import load_checkpoint
        from nodes.models._precision import compute_dtype
        from nodes.models._store import load_once

        path = model_path(ctx, checkpoint, "checkpoint", "checkpoint")
        dtype = compute_dtype(ctx.device)
        key = ("checkpoint", str(path.resolve()), str(dtype), ctx.device)
        return load_once(ctx, type(self), {"checkpoint": path}, key,
                         lambda place: load_checkpoint(path, ctx.device, dtype, place))

    @classmethod
    def weights(cls, params: Mapping[str, Any], resolve: Callable[[str], Path]) -> list[Weights]:
        """UNet on `model`, text encoders on `clip`, VAE on `vae`, sized from the file headers (the
        UNet and VAE also say the picture side the model makes by default)."""
        from nodes.models._precision import vae_runs_in_full_precision
        from nodes.models._weights import component_counts, component_widths, native_side

        name = params.get("checkpoint")
        if not isinstance(name, str) or not name.strip():
            return []
        path = resolve(name)
        widths = component_widths(path)
        native = native_side(path)
        outputs = {"unet": "model", "text_encoder": "clip", "text_encoder_2": "clip", "text_encoder_3": "clip",
                   "vae": "vae"}
        counts = component_counts(path)
        family = "sdxl" if counts.get("text_encoder_2") else "sd"  # as the loader tells them apart
        return [Weights(part, outputs[part], count, widths.get(part, 0), native if part in ("unet", "vae") else 0,
                        full_precision=part == "vae" and vae_runs_in_full_precision(family))
                for part, count in counts.items()]


def _lora_weights(params: Mapping[str, Any], resolve: Callable[[str], Path], model_only: bool) -> list[Weights]:
    """The patched copies a LoRA adds, on the outputs that carry them (none at strength 0)."""
    from nodes.models._lora import patched_counts

    name = params.get("lora")
    if not isinstance(name, str) or not name.strip():
        return []
    counts = patched_counts(resolve(name))
    found = []
    if params.get("strength_model") != 0 and counts.get("unet"):
        found.append(Weights("lora_unet", "model", counts["unet"]))
    text = counts.get("text_encoder", 0) + counts.get("text_encoder_2", 0)
    if not model_only and params.get("strength_clip") != 0 and text:
        found.append(Weights("lora_text_encoders", "clip", text))
    return found


def _lora_path(ctx: RunContext, lora: str) -> Path:
    """The LoRA file both LoRA loaders read (files only; folders are not LoRAs)."""
    return model_path(ctx, lora, "lora", "LoRA", folders=False, noun="LoRA file")


class LoadLora(Node):
    type_id = "models.load_lora"
    title = "Load LoRA"
    category = "models"
    infotext = {"lora": "lora", "strength_model": "lora_strength"}
    description = (
        "Applies a LoRA (.safetensors, diffusers/PEFT or kohya key names) to the model and the text "
        "encoder with the given strengths. The loaded checkpoint is not changed: the patched weights "
        "live in new copies of only the layers the LoRA touches. A strength of 0 passes the input "
        "through unchanged."
    )
    inputs = (
        Input("model", MODEL),
        Input("clip", CLIP),
        Input("lora", STRING, default="", file="file", model="loras"),
        Input("strength_model", FLOAT, default=1.0, min=-10.0, max=10.0, step=0.05),
        Input("strength_clip", FLOAT, default=1.0, min=-10.0, max=10.0, step=0.05),
    )
    outputs = (Output("model", MODEL), Output("clip", CLIP))

    @classmethod
    def weights(cls, params: Mapping[str, Any], resolve: Callable[[str], Path]) -> list[Weights]:
        """The copies of the layers the LoRA patches, sized from its header (the model and clip
        given to it are planned through its inputs)."""
        return _lora_weights(params, resolve, model_only=False)

    def run(self, ctx: RunContext, model: Any, clip: Any, lora: str, strength_model: float,
            strength_clip: float) -> tuple[Any, Any]:
        from nodes.models._lora import apply_lora, read_lora

        if strength_model == 0 and strength_clip == 0:
            return model, clip
        weights = read_lora(_lora_path(ctx, lora))
        return apply_lora(ctx, model, clip, weights, strength_model, strength_clip)


class LoadLoraModelOnly(Node):
    type_id = "models.load_lora_model_only"
    title = "Load LoRA (Model Only)"
    category = "models"
    description = (
        "Applies only the denoising-model part of a LoRA (its text-encoder layers, if any, are left "
        "out), e.g. for a model loaded with Load Diffusion Model or LoRAs trained on the UNet alone. "
        "Same files and key styles as Load LoRA; a strength of 0 passes the model through unchanged."
    )
    inputs = (
        Input("model", MODEL),
        Input("lora", STRING, default="", file="file", model="loras"),
        Input("strength_model", FLOAT, default=1.0, min=-10.0, max=10.0, step=0.05),
    )
    outputs = (Output("model", MODEL),)

    @classmethod
    def weights(cls, params: Mapping[str, Any], resolve: Callable[[str], Path]) -> list[Weights]:
        """The copies of the UNet layers the LoRA patches, sized from its header."""
        return _lora_weights(params, resolve, model_only=True)

    def run(self, ctx: RunContext, model: Any, lora: str, strength_model: float) -> tuple[Any]:
        from nodes.models._lora import apply_lora, read_lora

        if strength_model == 0:
            return (model,)
        return (apply_lora(ctx, model, None, read_lora(_lora_path(ctx, lora)), strength_model, 0.0)[0],)


class ModelSampling(Node):
    type_id = "models.model_sampling"
    title = "Model Sampling"
    category = "models"
    description = (
        "Overrides what the model predicts and its noise schedule, for checkpoints whose files do "
        "not say: SD 2.x 768 and many fine-tunes are v-prediction, SD 1.x and SD 2.x 512 are "
        "epsilon; zero_terminal_snr is for models trained with it. 'checkpoint' keeps the "
        "checkpoint's own setting."
    )
    inputs = (
        Input("model", MODEL),
        Input("prediction", STRING, default="checkpoint", choices=("checkpoint", "epsilon", "v_prediction")),
        Input("zero_terminal_snr", STRING, default="checkpoint", choices=("checkpoint", "on", "off")),
    )
    outputs = (Output("model", MODEL),)

    def run(self, ctx: RunContext, model: Any, prediction: str, zero_terminal_snr: str) -> tuple[Any]:
        import dataclasses

        config = dict(model.scheduler_config)
        if prediction != "checkpoint":
            config["prediction_type"] = prediction
        if zero_terminal_snr != "checkpoint":
            config["rescale_betas_zero_snr"] = zero_terminal_snr == "on"
        if config == model.scheduler_config:
            return (model,)
        return (dataclasses.replace(model, scheduler_config=config),)
