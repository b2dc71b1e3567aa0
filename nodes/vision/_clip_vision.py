"""CLIP vision towers from the files ComfyUI users keep in `models/clip_vision/`, and what they see.

Loading. A file holds the tower in transformers' names (`vision_model.encoder.layers.N...`,
`visual_projection.weight`: clip_vision_h.safetensors, the one Wan 2.1 uses) or in OpenCLIP's
(`visual.transformer.resblocks.N...`, `visual.proj`), which are renamed to transformers' here (the
fused attention input split into q / k / v, the projection transposed). The tower's sizes are read
off the tensors (width, depth, MLP width, patch, picture side from the position table, projection);
it has 16 heads, as every CLIP tower ComfyUI loads (ViT-L/14, ViT-H/14, ViT-bigG/14) has,
and its activation is OpenAI's quick GELU for the 1024-wide ViT-L/14 and exact GELU
for the OpenCLIP-trained others, as ComfyUI's shipped configs say. A SigLIP tower (no class token, no
first norm: sigclip_vision_patch14_384.safetensors, Flux Redux's) loads into SiglipVisionModel (16 heads,
tanh GELU, its pixels in -1..1, as ComfyUI's SigLIP configs). DINOv2 towers are one line.

Seeing. A picture batch is read as ComfyUI's CLIPVisionEncode reads it: the first three channels;
unless already the tower's square side, resized with antialiased bicubic filtering so its short side
fits and centre-cropped ("center"), or squeezed to the square ("none"); rounded to 8-bit levels;
normalised by the tower's mean and deviation. The output's penultimate states are transformers'
`hidden_states[-2]` (after all but the last layer), the image embeds its projected class token (none for
SigLIP, whose last states, after its final norm, are what Flux Redux reads).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from nodeflow.core import NodeError
from nodes._lazy import lazy
from nodes.media import ClipVision, ClipVisionOutput

torch = lazy("torch")

#: OpenAI CLIP's pixel statistics, every CLIP tower's.
MEAN = (0.48145466, 0.4578275, 0.40821073)
STD = (0.26862954, 0.26130258, 0.27577711)
#: SigLIP's pixel statistics (ComfyUI's SigLIP configs: -1..1).
SIGLIP_MEAN = (0.5, 0.5, 0.5)
SIGLIP_STD = (0.5, 0.5, 0.5)
#: Heads of every CLIP vision tower ComfyUI loads (ViT-L/14, ViT-H/14, ViT-bigG/14).
HEADS = 16
#: Width of OpenAI's ViT-L/14, the one tower trained with quick GELU.
_QUICK_GELU_WIDTH = 1024
#: CLIPVisionEncode's crop choices: resize the short side and crop the centre, or squeeze.
CROPS = ("center", "none")

_FIELD = "clip_name"
_OPEN_CLIP = "visual.transformer.resblocks.0.attn.in_proj_weight"
_TRANSFORMERS = "vision_model.encoder.layers.0.layer_norm1.weight"
_OPEN_CLIP_NAMES = {
    "visual.class_embedding": "vision_model.embeddings.class_embedding",
    "visual.conv1.weight": "vision_model.embeddings.patch_embedding.weight",
    "visual.positional_embedding": "vision_model.embeddings.position_embedding.weight",
    "visual.ln_pre.weight": "vision_model.pre_layrnorm.weight", "visual.ln_pre.bias": "vision_model.pre_layrnorm.bias",
    "visual.ln_post.weight": "vision_model.post_layernorm.weight",
    "visual.ln_post.bias": "vision_model.post_layernorm.bias",
}
_BLOCK_NAMES = (("ln_1", "layer_norm1"), ("ln_2", "layer_norm2"), ("attn.out_proj", "self_attn.out_proj"),
                ("mlp.c_fc", "mlp.fc1"), ("mlp.c_proj", "mlp.fc2"))


def transformers_names(state: dict[str, Any]) -> dict[str, Any]:
    """The tower's tensors in transformers' names: an OpenCLIP `visual.` state renamed, a transformers
    one kept; tensors of anything else (a text tower beside it, position ids) left out. A DINOv2
    tower (ComfyUI loads those too) is one line."""
    if any(k.startswith("encoder.layer.") for k in state):
        raise NodeError("this file holds a DINOv2 tower; NodeFlow loads CLIP vision towers (ViT-L/H/bigG)", _FIELD)
    if _OPEN_CLIP not in state:
        return {k: v for k, v in state.items() if k == "visual_projection.weight"
                or (k.startswith("vision_model.") and not k.endswith("position_ids"))}
    out: dict[str, Any] = {}
    for key, value in state.items():
        if key in _OPEN_CLIP_NAMES:
            out[_OPEN_CLIP_NAMES[key]] = value
        elif key == "visual.proj":
            out["visual_projection.weight"] = value.t().contiguous()
        elif key.startswith("visual.transformer.resblocks."):
            index, rest = key[len("visual.transformer.resblocks."):].split(".", 1)
            prefix = f"vision_model.encoder.layers.{index}."
            if rest.startswith("attn.in_proj_"):
                kind = rest.rsplit("_", 1)[1]  # weight / bias
                for name, part in zip(("q_proj", "k_proj", "v_proj"), value.chunk(3, dim=0)):
                    out[f"{prefix}self_attn.{name}.{kind}"] = part.contiguous()
                continue
            for old, new in _BLOCK_NAMES:
                if rest.startswith(old + "."):
                    out[prefix + new + rest[len(old):]] = value
                    break
            else:
                raise NodeError(f"{key}: not a tensor of an OpenCLIP vision tower", _FIELD)
    return out


def tower_config(shapes: dict[str, tuple[int, ...]]) -> dict[str, Any]:
    """CLIPVisionConfig's sizes for a tower of these (transformers-named) shapes."""
    if _TRANSFORMERS not in shapes:
        raise NodeError("this file holds no CLIP vision tower; NodeFlow loads CLIP vision towers (ViT-L/H/bigG, "
                        "transformers' or OpenCLIP's names)", _FIELD)
    if "vision_model.post_layernorm.weight" not in shapes:
        raise NodeError("this vision tower has no final layer norm: not a CLIP or SigLIP tower", _FIELD)
    siglip = "vision_model.pre_layrnorm.weight" not in shapes  # SigLIP: no class token, no first norm
    width, _, patch, _ = shapes["vision_model.embeddings.patch_embedding.weight"]
    positions = shapes["vision_model.embeddings.position_embedding.weight"][0]
    side = math.isqrt(positions - (0 if siglip else 1))
    if side * side != positions - (0 if siglip else 1) or width % HEADS:
        raise NodeError(f"a CLIP vision tower {width} wide with {positions} positions is not one NodeFlow knows",
                        _FIELD)
    layers = {k.split(".")[3] for k in shapes if k.startswith("vision_model.encoder.layers.")}
    config = {"hidden_size": width, "patch_size": patch, "image_size": side * patch, "num_hidden_layers": len(layers),
              "intermediate_size": shapes["vision_model.encoder.layers.0.mlp.fc1.weight"][0],
              "num_attention_heads": HEADS, "layer_norm_eps": 1e-5,
              "hidden_act": "quick_gelu" if width == _QUICK_GELU_WIDTH else "gelu"}
    if siglip:
        config |= {"layer_norm_eps": 1e-6, "hidden_act": "gelu_pytorch_tanh",
                   "vision_use_head": "vision_model.head.probe" in shapes}
    elif "visual_projection.weight" in shapes:
        config["projection_dim"] = shapes["visual_projection.weight"][0]
    return config


def load_clip_vision(path: Path, dtype: Any, place: str) -> ClipVision:
    """The CLIP vision tower of a .safetensors file, in `dtype`, its weights at `place`."""
    import transformers

    from nodes.models import _language_encoders
    from nodes.models._family_loader import ready
    from nodes.models._quantized import load_into, read_state_dict

    state = transformers_names(read_state_dict(path, _FIELD))
    config = tower_config({k: tuple(v.shape) for k, v in state.items()})
    siglip = "vision_use_head" in config
    if siglip:
        cls, config_cls = transformers.SiglipVisionModel, transformers.SiglipVisionConfig
    else:
        projected = "projection_dim" in config
        cls = transformers.CLIPVisionModelWithProjection if projected else transformers.CLIPVisionModel
        config_cls = transformers.CLIPVisionConfig
    model = _language_encoders.empty_model(cls, config_cls(**config), dtype)
    # CLIPVisionModel holds the tower without the checkpoints' `vision_model.` prefix
    load_into(model, _language_encoders.transformers_names(model, state, _FIELD), dtype, _FIELD)
    mean, std = (SIGLIP_MEAN, SIGLIP_STD) if siglip else (MEAN, STD)
    return ClipVision(ready(model.eval(), place), int(config["image_size"]), mean, std)


def pixels(image: Any, size: int, mean: tuple[float, ...], std: tuple[float, ...], crop: bool) -> Any:
    """[B, 3, size, size] pixel values of an IMAGE batch [B, H, W, C] as the tower reads them (see the
    module docstring)."""
    x = image[..., :3].movedim(-1, 1).float()
    if tuple(x.shape[-2:]) != (size, size):
        if crop:
            scale = size / min(x.shape[-2:])
            x = torch.nn.functional.interpolate(x, size=(round(scale * x.shape[-2]), round(scale * x.shape[-1])),
                                                mode="bicubic", antialias=True)
            top, left = (x.shape[-2] - size) // 2, (x.shape[-1] - size) // 2
            x = x[..., top:top + size, left:left + size]
        else:
            x = torch.nn.functional.interpolate(x, size=(size, size), mode="bicubic", antialias=True)
    x = (x * 255.0).clamp(0, 255).round() / 255.0
    return (x - x.new_tensor(mean).view(3, 1, 1)) / x.new_tensor(std).view(3, 1, 1)


def encode(clip_vision: ClipVision, image: Any, crop: str) -> ClipVisionOutput:
    """What the tower sees in the pictures (see the module docstring), on the CPU."""
    model = clip_vision.model
    parameter = next(model.parameters())
    values = pixels(image.to(parameter.device), clip_vision.image_size, clip_vision.mean, clip_vision.std,
                    crop == "center")
    with torch.no_grad():
        out = model(pixel_values=values.to(parameter.dtype), output_hidden_states=True)
    embeds = getattr(out, "image_embeds", None)  # CLIPVisionModelWithProjection's only
    return ClipVisionOutput(last_hidden_state=out.last_hidden_state.cpu(),
                            penultimate_hidden_states=out.hidden_states[-2].cpu(),
                            image_embeds=None if embeds is None else embeds.cpu())
