"""ComfyUI's FluxKVCache for Flux.2: the reference pictures' keys and values computed once, reused at every step.

FLUX.2 [klein] 9B KV is trained so that its reference tokens (ReferenceLatent) attend only to themselves
and are modulated as at t = 0: their keys and values then do not depend on the noisy picture or the
step, and Flux2KleinKVPipeline computes them on the first step and reads them back on the others
(`nodes.flux2._adapter.Denoise` does the same for a model this node marks). Without references the
model samples as before.
"""

from __future__ import annotations

from typing import Any

from nodeflow.core import Input, Node, NodeError, Output, RunContext
from nodeflow.core.types import MODEL

#: The transformer that keeps reference keys and values (diffusers' kv_cache_mode): Flux.2's, dev and Klein.
_DENOISER = "Flux2Transformer2DModel"


class FluxKVCache(Node):
    type_id = "flux2.kv_cache"
    title = "Flux KV Cache (Flux.2)"
    category = "models/flux"
    description = ("Makes a Flux.2 model (FLUX.2 [klein] 9B KV) compute its reference pictures' keys and values "
                   "on the first step and reuse them on every later one, as ComfyUI's Flux KV Cache and "
                   "Flux2KleinKVPipeline do: the references attend only to themselves, modulated as at the "
                   "end of sampling; faster with references, the same without them.")
    inputs = (Input("model", MODEL),)
    outputs = (Output("model", MODEL),)

    def run(self, ctx: RunContext, model: Any) -> tuple[Any]:
        import dataclasses

        spec = model.spec
        if spec is None or spec.denoiser != _DENOISER:
            raise NodeError(f"Flux KV Cache is for Flux.2 models; this model is "
                            f"{spec.title if spec else 'a Stable Diffusion UNet'}", "model")
        return (dataclasses.replace(model, reference_cache=True),)
