"""The transformer side of Z-Image's ControlNet (`nodes.z_image.control`): its blocks' outputs for one
call, as ZImageControlNetPipeline computes them before each transformer call.

The ControlNet reads the transformer's own embedders, refiners and rotary table (diffusers'
`ZImageControlNetModel.from_transformer`); they are lent for the call only, so the stored ControlNet
keeps no hold on a transformer the memory manager may free.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from nodeflow.core import NodeError

_SHARED = ("t_embedder", "all_x_embedder", "cap_embedder", "noise_refiner", "context_refiner")
_VALUES = ("t_scale", "rope_embedder", "x_pad_token", "cap_pad_token")


def require_size(control: Any, size: tuple[int, int]) -> None:
    """Refuse, before sampling, a control picture whose latents are not the sampled latent's size."""
    got = tuple(control.latents.shape[-2:])
    if got != tuple(size):
        raise NodeError(f"the control picture's latents are {got[1]}x{got[0]} cells, the latent being sampled "
                        f"{size[1]}x{size[0]}: give Model Patch ControlNet a picture of the latent's size", "model")


@contextlib.contextmanager
def _lent(net: Any, transformer: Any) -> Iterator[None]:
    from diffusers import ZImageControlNetModel

    ZImageControlNetModel.from_transformer(net, transformer)
    try:
        yield
    finally:
        for name in _SHARED + _VALUES:
            setattr(net, name, None)


def block_samples(model: Any, pictures: list[Any], timestep: Any, captions: list[Any]) -> dict[int, Any] | None:
    """The hidden states to add at each fed transformer layer (None without a ControlNet)."""
    control = model.control
    if control is None:
        return None
    net = control.net
    parameter = next(net.control_layers.parameters())
    latents = control.latents.to(device=parameter.device, dtype=parameter.dtype)
    context = [latents[i % latents.shape[0]] for i in range(len(pictures))]
    with _lent(net, model.unet):
        samples = net(pictures, timestep, captions, context, conditioning_scale=control.strength)
    return {control.places[index]: sample for index, sample in samples.items()}
