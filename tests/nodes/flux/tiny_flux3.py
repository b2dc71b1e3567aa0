"""A tiny random FLUX.3 [klein] (base, and the step-distilled flow map) written as a diffusers folder.

A 1+1-block Flux3 transformer (its per-mode blocks for the picture, the references and the text, then
one joint block), Flux.2's AutoencoderKLFlux2 at 2 levels (its batch-normalised 2x2-patched latents),
and a Qwen3-VL with a language-model head deep enough for the pipeline's hidden states 4, 8, ..., 32
(32 layers, 32 wide). The folder holds each component as the modular pipeline's components are
saved (transformer/, vae/, text_encoder/, tokenizer/, scheduler/) and a model_index.json.
`reference_pipe` builds the diffusers reference: Flux3AutoBlocks (or the distilled blocks) without
their prompt upsampler, on the folder's components.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

#: The FLUX.3 recipe's scheduler: a constant shift of 6.93 (Flux3SetTimestepsStep's config).
FLUX3_SCHEDULER = dict(num_train_timesteps=1000, shift=6.93)


def flux3_transformer(width: int = 32, real_heads: bool = False, flow_map: bool = False):
    from diffusers import Flux3Transformer2DModel

    heads = dict(attention_head_dim=128, num_attention_heads=1, axes_dims_rope=(32, 32, 32, 32)) if real_heads \
        else dict(attention_head_dim=16, num_attention_heads=2, axes_dims_rope=(4, 4, 4, 4))
    return Flux3Transformer2DModel(in_channels=128, cond_in_channels=128, num_layers=1, num_single_layers=1,
                                   joint_attention_dim=8 * width, timestep_channels=32, flow_map=flow_map, **heads)


def build_flux3(folder: Path, *, seed: int = 0, real_heads: bool = False, distilled: bool = False) -> Path:
    import torch
    from diffusers import FlowMatchEulerDiscreteScheduler
    from tiny_flow import _randomize_zero_inits, qwen_tokenizer
    from tiny_flux2 import flux2_vae
    from tiny_krea2 import qwen3_vl

    torch.manual_seed(seed)
    tokenizer = qwen_tokenizer(folder / "tokenizer", vision=True)
    transformer = flux3_transformer(real_heads=real_heads, flow_map=distilled)
    _randomize_zero_inits(transformer)
    parts = {"transformer": transformer, "vae": flux2_vae(4 if real_heads else 2),
             "text_encoder": qwen3_vl(tokenizer, layers=32, generating=True),
             "scheduler": FlowMatchEulerDiscreteScheduler(**FLUX3_SCHEDULER)}
    for name, part in parts.items():
        part.save_pretrained(folder / name)
    index = {"_class_name": "Flux3DistilledModularPipeline" if distilled else "Flux3ModularPipeline",
             **{name: ["diffusers" if name != "text_encoder" else "transformers", type(part).__name__]
                for name, part in parts.items()}, "tokenizer": ["transformers", "Qwen2TokenizerFast"]}
    (folder / "model_index.json").write_text(json.dumps(index, indent=1), "utf-8")
    return folder


class ProcessorShim:
    """What the pipeline's text encoder step asks of its `tokenizer` (an AutoProcessor): the chat
    template and the tokenizer under it. A Qwen3-VL processor needs torchvision for its video part,
    which NodeFlow does not install; the text path is the tokenizer's."""

    def __init__(self, tokenizer: Any) -> None:
        self.tokenizer = tokenizer

    def apply_chat_template(self, *args: Any, **kwargs: Any) -> Any:
        return self.tokenizer.apply_chat_template(*args, **kwargs)


_pipes: dict[tuple[str, float], Any] = {}


def reference_pipe(folder: Path, cfg: float = 1.0) -> Any:
    """The diffusers modular pipeline on the folder's weights (laid out as NodeFlow's loaders lay
    them out), its prompt upsampler removed, classifier-free guidance at `cfg` for the base model."""
    key = (str(folder), cfg)
    if key not in _pipes:
        import diffusers
        from diffusers.guiders import ClassifierFreeGuidance
        from diffusers.modular_pipelines import Flux3AutoBlocks, Flux3DistilledAutoBlocks
        from pipelines import settled
        from transformers import Qwen2TokenizerFast, Qwen3VLForConditionalGeneration

        index = json.loads((folder / "model_index.json").read_text("utf-8"))
        distilled = index["_class_name"].startswith("Flux3Distilled")
        blocks = Flux3DistilledAutoBlocks() if distilled else Flux3AutoBlocks()
        blocks.sub_blocks.pop("prompt_upsampler")
        pipe = blocks.init_pipeline()
        parts = dict(transformer=diffusers.Flux3Transformer2DModel.from_pretrained(folder / "transformer"),
                     vae=diffusers.AutoencoderKLFlux2.from_pretrained(folder / "vae"),
                     text_encoder=Qwen3VLForConditionalGeneration.from_pretrained(folder / "text_encoder"),
                     tokenizer=ProcessorShim(Qwen2TokenizerFast.from_pretrained(folder / "tokenizer")),
                     scheduler=diffusers.FlowMatchEulerDiscreteScheduler.from_pretrained(folder / "scheduler"))
        if not distilled:
            parts["guider"] = ClassifierFreeGuidance(guidance_scale=cfg, enabled=cfg > 1.0)
        pipe.update_components(**parts)
        for part in parts.values():
            if hasattr(part, "parameters"):
                part.eval()
        settled(pipe)
        _pipes[key] = pipe
    return _pipes[key]


#: diffusers' FLUX.3 names -> BFL's, which ComfyUI's files keep: the inverse of diffusers' single-file converter
#: (`convert_flux3_transformer_checkpoint_to_diffusers`).
_BFL_EXACT = {"timestep_embedder.linear_1.weight": "time_in.in_layer.weight",
              "timestep_embedder.linear_2.weight": "time_in.out_layer.weight",
              "target_timestep_embedder.linear_1.weight": "ref_time_in.in_layer.weight",
              "target_timestep_embedder.linear_2.weight": "ref_time_in.out_layer.weight",
              "proj_out.weight": "final_layer.image.linear.weight",
              "norm_out.linear.weight": "final_layer.image.adaLN_modulation.1.weight"}
_BFL_SUFFIXES = {"attn.to_q.weight": "q_proj.weight", "attn.to_k.weight": "k_proj.weight",
                 "attn.to_v.weight": "v_proj.weight", "attn.to_out.0.weight": "attn_out.weight",
                 "attn.norm_q.weight": "norm.query_norm.scale", "attn.norm_k.weight": "norm.key_norm.scale",
                 "ff.linear_in.weight": "mlp_in.weight", "ff.linear_out.weight": "mlp_out.weight"}
_BFL_PREFIXES = {"x_embedders.": "emb_in.", "context_embedder.": "txt_in.", "mode_blocks.": "content_mode_blocks.",
                 "single_transformer_blocks.": "single_blocks."}


def bfl_flux3_state(state: dict) -> dict:
    """A Flux3Transformer2DModel's state in BFL's key names under ComfyUI's wrapper prefix (the final
    modulation as (shift, scale))."""
    import torch

    out = {}
    for key, value in state.items():
        if key in _BFL_EXACT:
            if key == "norm_out.linear.weight":
                scale, shift = value.chunk(2, dim=0)
                value = torch.cat([shift, scale])
            out[_BFL_EXACT[key]] = value
            continue
        new = next((key[:-len(a)] + b for a, b in _BFL_SUFFIXES.items() if key.endswith(a)), key)
        new = new.replace(".linear.weight", ".lin.weight")
        new = next((b + new[len(a):] for a, b in _BFL_PREFIXES.items() if new.startswith(a)), new)
        out[new] = value
    return {"model.diffusion_model." + k: v.contiguous() for k, v in out.items()}


def comfyui_files(folder: Path, out: Path) -> tuple[Path, Path]:
    """A tiny FLUX.3 folder's transformer and text encoder as ComfyUI's files (BFL's names; Qwen3-VL in
    its published checkpoint names with its head, the tokenizer beside it)."""
    import shutil

    from diffusers import Flux3Transformer2DModel
    from safetensors.torch import save_file
    from transformers import Qwen3VLForConditionalGeneration

    unet = out / "flux3-image-klein.safetensors"
    save_file(bfl_flux3_state(Flux3Transformer2DModel.from_pretrained(folder / "transformer").state_dict()),
              str(unet))
    clip = out / "text_encoders" / "qwen3vl_4b.safetensors"
    clip.parent.mkdir()
    encoder = Qwen3VLForConditionalGeneration.from_pretrained(folder / "text_encoder")
    save_file({k: v.contiguous().clone() for k, v in encoder.state_dict().items()}, str(clip))
    shutil.copytree(folder / "tokenizer", clip.parent / "tokenizer")
    return unet, clip
