"""Where a loaded part's weights live and in which precision: the one owner of those decisions.

Every loader (checkpoint, VAE, UNet, CLIP, ControlNet, upscaler) asks here instead of deciding for
itself, so a part loaded from a diffusers folder, a single file or split files ends up the same:
same dtype, same device, and the same memory layout. The layout matters on the CPU: a tensor
whose data sits at an unaligned address (a safetensors file mapped into memory puts tensors at
arbitrary byte offsets) takes another path through the math kernels, which sum in another order;
the same weights then give outputs a few ulps apart. `settle` gives every such tensor freshly
allocated, aligned storage, which makes "same weights, same pixels" hold by construction.
"""

from __future__ import annotations

from typing import Any

from nodes._lazy import lazy

torch = lazy("torch")

#: Bytes of alignment torch's CPU allocator gives new tensors (c10's gAlignment).
ALIGNMENT = 64
#: Families whose pipelines run the VAE in fp32 when the model computes in fp16 (and the VAE's
#: config asks for it with `force_upcast`): SDXL's VAE overflows in fp16.
UPCAST_VAE_FAMILIES = frozenset({"sdxl"})


def compute_dtype(device: str) -> Any:
    """fp16 on CUDA, fp32 elsewhere (CPU has no fast fp16; MPS fp16 is not reliable for SD)."""
    return torch.float16 if str(device).startswith("cuda") else torch.float32


def vae_runs_in_full_precision(family: str) -> bool:
    """Whether a VAE of `family` runs in float32 where the model computes in fp16 (what the memory
    plan is told through `Weights.full_precision`; torch-free)."""
    return family in UPCAST_VAE_FAMILIES


def vae_dtype(family: str, vae: Any, dtype: Any) -> Any:
    """The dtype a VAE of `family` runs in when the rest of the model computes in `dtype`."""
    if vae_runs_in_full_precision(family) and dtype == torch.float16 and getattr(vae.config, "force_upcast", False):
        return torch.float32
    return dtype


def settle(module: Any, device: str, dtype: Any | None = None) -> Any:
    """Move `module` to `device` (and `dtype`), in inference mode, every tensor in aligned storage.

    Tied parameters stay tied: each Parameter object is visited once and its data replaced in place.
    """
    module.to(device=device)
    if dtype is not None and any(p.dtype != dtype for p in module.parameters()):
        module.to(dtype=dtype)
    module.eval()
    module.requires_grad_(False)
    if str(device) == "cpu":
        for tensor in (*module.parameters(), *module.buffers()):
            if tensor.data_ptr() % ALIGNMENT:
                tensor.data = tensor.data.clone()
    return module
