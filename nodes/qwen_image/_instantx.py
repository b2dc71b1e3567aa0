"""Qwen-Image's InstantX ControlNets (Qwen-Image-InstantX-ControlNet-Union and -Inpainting, ComfyUI's
controlnet folder): diffusers' QwenImageControlNetModel, in its own key names in the single file.

As QwenImageControlNetPipeline and QwenImageControlNetInpaintPipeline run them:
- the control picture is encoded by the VAE and normalised as Qwen-Image's latents are (NodeFlow takes
  the posterior mean, as ComfyUI does; the pipelines draw a sample), packed into 2x2-cell tokens; the
  inpainting file's picture is first blacked out where the mask is over 0.5 and its latents take a
  fifth channel, 1 - the mask resized (nearest) to the latent;
- before each transformer call the ControlNet runs on the same tokens, timestep and prompt, and its
  block outputs, times strength, are added after the transformer's blocks (diffusers'
  `controlnet_block_samples`); a ControlNet steers the steps in its start..end share of the schedule,
  by the rule prompts' time ranges follow.
"""

from __future__ import annotations

from typing import Any

from nodeflow.core import NodeError
from nodes._lazy import lazy

torch = lazy("torch")

#: Keys only the InstantX files have among the ControlNets Load ControlNet reads.
MARKERS = ("controlnet_x_embedder.weight", "transformer_blocks.0.img_mod.1.weight")


def is_instantx(keys: Any) -> bool:
    return all(marker in keys for marker in MARKERS)


def load(path: Any, dtype: Any, place: str) -> Any:
    """QwenImageControlNetModel from an InstantX file, its sizes read off the tensors and its rotary axes
    from the shipped Qwen-Image transformer config."""
    from diffusers import QwenImageControlNetModel

    from nodes.families import by_name, require_rope_width
    from nodes.models._family_loader import _shipped, ready
    from nodes.models._quantized import load_into, read_state_dict

    state = read_state_dict(path, "control_net")
    inner, features = state["img_in.weight"].shape
    head_dim = state["transformer_blocks.0.attn.norm_q.weight"].shape[0]
    axes = tuple(_shipped(by_name("qwen-image"), "transformer")["axes_dims_rope"])
    require_rope_width(head_dim, axes, "Qwen-Image")
    net = QwenImageControlNetModel(
        in_channels=int(features), out_channels=None, attention_head_dim=int(head_dim),
        num_attention_heads=int(inner) // int(head_dim), joint_attention_dim=int(state["txt_in.weight"].shape[1]),
        num_layers=len({k.split(".")[1] for k in state if k.startswith("transformer_blocks.")}),
        extra_condition_channels=int(state["controlnet_x_embedder.weight"].shape[1]) - int(features),
        axes_dims_rope=axes)
    load_into(net, state, dtype, "control_net")
    return ready(net.eval(), place)


def mask_channels(net: Any) -> int:
    """Latent channels after the picture's: 1 for the inpainting file (its keep mask), 0 for the union one."""
    return int(net.config.extra_condition_channels) // 4


def control_latents(net: Any, image: Any, mask: Any, encode: Any) -> Any:
    """The control picture as the ControlNet reads it: [B, C (+1), h, w] latents (see module doc);
    `encode(pixels)` is the VAE Encode's latents, called once the inputs are checked."""
    import torch.nn.functional as F

    if mask_channels(net) and mask is None:
        raise NodeError("this is Qwen-Image's inpainting ControlNet: apply it with ControlNet Inpainting (a mask)",
                        "control_net")
    if mask is not None and not mask_channels(net):
        raise NodeError("this ControlNet takes no mask (Qwen-Image's inpainting ControlNet does)", "control_net")
    if mask is not None:
        masks = mask.reshape(-1, 1, *mask.shape[-2:]).to(image.device, torch.float32)
        covered = F.interpolate(masks, size=image.shape[1:3], mode="nearest") > 0.5
        image = image[..., :3].masked_fill(covered.permute(0, 2, 3, 1), 0.0)
    latents = encode(image)
    if latents.dim() == 5:  # the video VAE's one frame
        latents = latents[:, :, 0]
    if mask is not None:
        binary = (masks > 0.5).to(torch.float32)
        keep = 1.0 - F.interpolate(binary, size=latents.shape[-2:], mode="nearest").to(latents.device)
        latents = torch.cat([latents, keep.to(latents.dtype).expand(latents.shape[0], -1, -1, -1)], dim=1)
    return latents


def require_fit(controls: Any, size: tuple[int, int]) -> None:
    """Refuse, before sampling, controls a Qwen-Image model cannot run: other ControlNets, or a picture
    whose latents are not the sampled latent's (h, w) size."""
    from diffusers import QwenImageControlNetModel

    from nodes._latent_numbers import require_control_size

    for control in controls:
        if not isinstance(control.net, QwenImageControlNetModel) or control.latents is None:
            raise NodeError("a Qwen-Image model takes Qwen-Image's InstantX ControlNets only", "positive")
        require_control_size(control.latents, size, "positive")


def block_samples(controls: Any, conds: list[Any], tokens: Any, timestep: Any, embeds: Any, mask: Any,
                  shapes: Any, active: Any) -> Any:
    """The summed block outputs of the controls active now for one transformer call (None when none is);
    `conds` is each control's latents in 2x2-cell tokens."""
    total = None
    for control, cond in zip(controls, conds, strict=True):
        if not active(control):
            continue
        cond = cond.to(device=tokens.device, dtype=tokens.dtype)
        rows = torch.arange(tokens.shape[0], device=cond.device) % cond.shape[0]
        samples = control.net(hidden_states=tokens, controlnet_cond=cond[rows], conditioning_scale=control.strength,
                              timestep=timestep, encoder_hidden_states=embeds, encoder_hidden_states_mask=mask,
                              img_shapes=shapes, return_dict=False)
        total = samples if total is None else [a + b for a, b in zip(total, samples, strict=True)]
    return total
