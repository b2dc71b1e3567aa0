"""A tiny random MiniMax H3: a 1-block transformer (two 48-wide heads, 32 wide), a Qwen3-VL deep enough
for the pipeline's hidden state 50 (51 layers, 32 wide), the video VAE at 16x with a 1-layer decoder
and the audio VAE with a 64-wide latent projection; and the diffusers modular pipeline built on them
(its 5 s minimum lifted, so 22 frames at 32 px run in about a second)."""

from __future__ import annotations

import sys
from pathlib import Path

for _folder in (Path(__file__).resolve().parents[1], Path(__file__).resolve().parents[1] / "flux"):
    sys.path.insert(0, str(_folder))

from tiny_flow import qwen_tokenizer  # noqa: E402
from tiny_krea2 import qwen3_vl  # noqa: E402


def transformer():
    from diffusers import MiniMaxH3Transformer3DModel

    return MiniMaxH3Transformer3DModel(num_attention_heads=2, attention_head_dim=48, hidden_size=32, num_layers=1,
                                       num_refiner_layers=1, ffn_dim=64, text_dim=32, freq_dim=32,
                                       time_embed_hidden_dim=32, time_embed_dim=16, rope_freq_dim=8)


def video_vae():
    from diffusers import AutoencoderKLMiniMaxH3

    return AutoencoderKLMiniMaxH3(block_out_channels=(8, 8, 8, 8), layers_per_block=1,
                                  spatial_downsample_factors=(2, 2, 2, 2), temporal_downsample_factors=(1, 2, 2, 1),
                                  latents_mean=[0.05] * 24, latents_std=[1.5] * 24, norm_num_groups=4,
                                  decoder_num_layers=1, decoder_num_attention_heads=2, decoder_attention_head_dim=8,
                                  decoder_num_register_tokens=1)


def audio_vae():
    from diffusers import AutoencoderKLMiniMaxH3Audio

    return AutoencoderKLMiniMaxH3Audio(encoder_dim=4, latent_dim=64, num_attention_heads=2, decoder_dim=128,
                                       latents_mean=[0.1] * 32, latents_std=[2.0] * 32)


def parts(seed: int = 0) -> dict:
    """The tiny components, named as the modular pipeline names them."""
    import torch

    torch.manual_seed(seed)
    tokenizer = qwen_tokenizer(None, vision=True)
    return {"tokenizer": tokenizer, "text_encoder": qwen3_vl(tokenizer, dim=32, layers=51),
            "transformer": transformer(), "vae": video_vae(), "audio_vae": audio_vae()}


def pipeline(components: dict):
    """diffusers' MiniMaxH3ModularPipeline on `components`, shorter videos allowed."""
    from diffusers import MiniMaxH3Scheduler
    from diffusers.modular_pipelines import MiniMaxH3Blocks, MiniMaxH3ModularPipeline
    from transformers import Qwen3VLForConditionalGeneration

    from nodes.qwen_image21._prompt import processor_for

    class Short(MiniMaxH3ModularPipeline):
        min_duration = 0.0

    encoder = Qwen3VLForConditionalGeneration(components["text_encoder"].config)
    encoder.model = components["text_encoder"]
    pipe = MiniMaxH3Blocks().init_pipeline()
    pipe.__class__ = Short
    pipe.update_components(text_encoder=encoder, tokenizer=components["tokenizer"],
                           processor=processor_for(components["tokenizer"]),
                           transformer=components["transformer"], vae=components["vae"],
                           audio_vae=components["audio_vae"], scheduler=MiniMaxH3Scheduler(shift=12.0),
                           audio_scheduler=MiniMaxH3Scheduler(shift=3.0))
    return pipe


#: diffusers' names -> the original ones (ComfyUI's files): the inverse of diffusers' converter.
_RENAMES = (("transformer_blocks.", "blocks."), ("token_refiner.refiner_blocks.", "token_refiner.blocks."),
            ("time_embedder.linear_1.", "time_embedder.proj_in."),
            ("time_embedder.linear_2.", "time_embedder.proj_out."),
            ("audio_proj_in.", "audio_patch_proj."), ("proj_in.", "video_patch_proj."),
            ("context_embedder.", "condition_proj."), ("norm_out.norm.", "final_layer.norm."),
            ("norm_out.linear.", "final_layer.adaln_proj.linear."), ("audio_proj_out.", "final_layer.audio_out."),
            ("proj_out.", "final_layer.video_out."), (".attn.norm_q.", ".attn.q_norm."),
            (".attn.norm_k.", ".attn.k_norm."), (".attn.to_out.0.", ".attn.out_proj."), (".ff.net.2.", ".mlp.fc2."))


def original_state(state: dict) -> dict:
    """A MiniMaxH3Transformer3DModel's state in the original key names under ComfyUI's wrapper prefix:
    q, k, v stacked into one projection, the SwiGLU's [value; gate] stored as [gate; value], and the
    rotary frequencies (`transformer()`'s 8) as the buffer ComfyUI's files keep."""
    import torch

    out = {}
    for key, value in state.items():
        if ".attn.to_k." in key or ".attn.to_v." in key:
            continue
        new = key
        for a, b in _RENAMES:
            if new.startswith(a) or (a.startswith(".") and a in new):
                new = new.replace(a, b, 1)
        if ".attn.to_q." in key:
            value = torch.cat([value, state[key.replace("to_q", "to_k")], state[key.replace("to_q", "to_v")]])
            new = new.replace(".attn.to_q.", ".attn.qkv_proj.")
        if ".ff.net.0.proj." in key:
            up, gate = value.chunk(2)
            value, new = torch.cat([gate, up]), new.replace(".ff.net.0.proj.", ".mlp.fc1.")
        out["model.diffusion_model." + new] = value.contiguous()
    freq = state["time_embedder.linear_1.weight"].new_zeros(8)  # ComfyUI keeps the rotary buffer: 8 frequencies
    out["model.diffusion_model.rope.inv_freq"] = freq
    return out
