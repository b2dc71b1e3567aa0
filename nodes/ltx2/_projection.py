"""LTX-2's text projection and connectors run apart, as LTX-2.5's split files keep them.

diffusers' LTX2TextConnectors.forward does two things in one call: it normalises the text encoder's
stacked states per token and projects them once per stream (LTX-2.3's `video_text_proj_in` /
`audio_text_proj_in`, each fed the states scaled by sqrt(stream width / text width)), then runs each
stream's connector. LTX-2.5's ComfyUI files put the projection in the text encoder's file
(gemma4-...-with-proj) and the connectors in the transformer's, so NodeFlow runs the first half when
it encodes a prompt (`project`) and the second when it samples (`connect`), each written step for step
as that forward does it, so the pair gives the pipeline's prompts.
"""

from __future__ import annotations

import math
from typing import Any

from nodes._lazy import lazy

torch = lazy("torch")

#: The names of the projection's two layers, in diffusers' connectors and in LTX-2's files.
LAYERS = (("video_text_proj_in", "text_embedding_projection.video_aggregate_embed."),
          ("audio_text_proj_in", "text_embedding_projection.audio_aggregate_embed."))


def projection_module(state: dict[str, Any], width: int, dtype: Any) -> Any:
    """The two projection layers of a text encoder file's `text_embedding_projection.` weights, as a module
    (`video_text_proj_in`, `audio_text_proj_in`) that knows the text width it was made for."""
    module = torch.nn.Module()
    for name, prefix in LAYERS:
        weight, bias = state[prefix + "weight"], state.get(prefix + "bias")
        layer = torch.nn.Linear(weight.shape[1], weight.shape[0], bias=bias is not None, device="meta")
        layer.load_state_dict({"weight": weight} | ({"bias": bias} if bias is not None else {}), assign=True)
        module.add_module(name, layer.to(dtype=dtype))
    module.caption_channels = int(width)
    return module.eval().requires_grad_(False)


def project(projection: Any, states: Any, mask: Any) -> Any:
    """The video's and the soundtrack's projected prompt features, joined on the last axis, from stacked
    states [B, T, width * layers] and the token mask (LTX2TextConnectors.forward's first half)."""
    from diffusers.pipelines.ltx2.connectors import per_token_rms_norm

    caption = projection.caption_channels
    states = states.unflatten(2, (caption, -1))
    normed = per_token_rms_norm(states).flatten(2, 3)
    normed = torch.where(mask.bool().unsqueeze(-1), normed, torch.zeros_like(normed))
    video, audio = projection.video_text_proj_in, projection.audio_text_proj_in
    video = video(normed * math.sqrt(video.out_features / caption))
    audio = audio(normed * math.sqrt(audio.out_features / caption))
    return torch.cat([video, audio], dim=-1)


def connect(connectors: Any, features: Any, mask: Any) -> tuple[Any, Any, Any]:
    """(video prompt, soundtrack prompt, their token mask) of projected features (`project`) through the
    connectors (LTX2TextConnectors.forward's second half)."""
    video_width = int(connectors.config.video_hidden_dim)
    video, audio = features[..., :video_width], features[..., video_width:]
    dtype = video.dtype
    additive = (mask.to(torch.int64) - 1).to(dtype)
    additive = additive.reshape(additive.shape[0], 1, -1, additive.shape[-1]) * torch.finfo(dtype).max
    video, video_mask = connectors.video_connector(video, additive)
    binary = (video_mask < 1e-6).to(torch.int64).reshape(video.shape[0], video.shape[1], 1)
    video = video * binary
    audio, _ = connectors.audio_connector(audio, additive)
    return video, audio, binary.squeeze(-1)
