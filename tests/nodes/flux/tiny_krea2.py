"""A tiny random Krea 2 written as a Krea2Pipeline folder.

A 1-block Krea2 transformer (its text fusion stage at the real 12 stacked states, 32 wide), a
Qwen3-VL deep enough for the pipeline's taps 2, 5, ..., 35 (36 layers, 32 wide; its vision tower as
deep as the real one and with its heads, 64 wide, so a lone file of it loads with the shipped
config) and Qwen-Image's video VAE at 2 levels. With `real_heads` the transformer has one head of
the real 128 width and rope axes and the VAE the real 4 levels, so a lone file of it loads with
the shipped configs. `distilled` writes the Turbo's pipeline option (a fixed shift).
"""

from __future__ import annotations

from pathlib import Path

#: Krea2Pipeline's documented scheduler: dynamic shifting, its own shift bounds.
KREA2_SCHEDULER = dict(base_image_seq_len=256, base_shift=0.5, max_image_seq_len=6400, max_shift=1.15,
                       num_train_timesteps=1000, shift=1.0, use_dynamic_shifting=True)


def qwen3_vl(tokenizer, dim: int = 32, layers: int = 36, generating: bool = False):
    """A Qwen3VLModel (the pipeline's text encoder class) with Qwen3-VL-4B's rope and norm settings,
    its vision tokens from `tokenizer`; with `generating` the class with the language-model head
    (FLUX.3's text encoder)."""
    from transformers import Qwen3VLConfig, Qwen3VLForConditionalGeneration, Qwen3VLModel

    ids = {t: tokenizer.convert_tokens_to_ids(t) for t in ("<|vision_start|>", "<|vision_end|>", "<|image_pad|>",
                                                         "<|video_pad|>")}
    config = Qwen3VLConfig(
        text_config={"hidden_size": dim, "intermediate_size": 64, "num_hidden_layers": layers, "head_dim": 16,
                     "num_attention_heads": 2, "num_key_value_heads": 1, "vocab_size": 300, "rms_norm_eps": 1e-6,
                     "rope_scaling": {"rope_type": "default", "mrope_section": [2, 3, 3], "mrope_interleaved": True},
                     "rope_theta": 5000000, "tie_word_embeddings": True},
        vision_config={"depth": 18, "hidden_size": 64, "intermediate_size": 32, "num_heads": 16, "out_hidden_size": dim,
                       "patch_size": 16, "deepstack_visual_indexes": [5, 11, 17], "num_position_embeddings": 64},
        image_token_id=ids["<|image_pad|>"], video_token_id=ids["<|video_pad|>"],
        vision_start_token_id=ids["<|vision_start|>"], vision_end_token_id=ids["<|vision_end|>"],
        tie_word_embeddings=True)
    return (Qwen3VLForConditionalGeneration if generating else Qwen3VLModel)(config)


def krea2_transformer(width: int = 32, real_heads: bool = False):
    from diffusers import Krea2Transformer2DModel

    heads = dict(attention_head_dim=128, num_attention_heads=1, num_key_value_heads=1, axes_dims_rope=(32, 48, 48)) \
        if real_heads else dict(attention_head_dim=16, num_attention_heads=2, num_key_value_heads=1,
                                axes_dims_rope=(4, 6, 6))
    return Krea2Transformer2DModel(in_channels=64, num_layers=1, intermediate_size=64, timestep_embed_dim=32,
                                   text_hidden_dim=width, num_text_layers=12, text_num_attention_heads=2,
                                   text_num_key_value_heads=2, text_intermediate_size=64, num_layerwise_text_blocks=1,
                                   num_refiner_text_blocks=1, **heads)


def build_krea2(folder: Path, *, seed: int = 0, real_heads: bool = False, distilled: bool = False) -> Path:
    import torch
    from diffusers import FlowMatchEulerDiscreteScheduler, Krea2Pipeline
    from tiny_flow import _randomize_zero_inits, qwen_image_vae, qwen_tokenizer

    torch.manual_seed(seed)
    tokenizer = qwen_tokenizer(folder / "tokenizer", vision=True)
    transformer = krea2_transformer(real_heads=real_heads)
    _randomize_zero_inits(transformer)
    pipe = Krea2Pipeline(scheduler=FlowMatchEulerDiscreteScheduler(**KREA2_SCHEDULER),
                         vae=qwen_image_vae(4 if real_heads else 2), text_encoder=qwen3_vl(tokenizer),
                         tokenizer=tokenizer, transformer=transformer, is_distilled=distilled)
    pipe.save_pretrained(folder)
    return folder


#: diffusers' Krea 2 names -> the original ones (ComfyUI's files): the inverse of diffusers' converter.
_PREFIXES = (("img_in.", "first."), ("time_embed.linear_1.", "tmlp.0."), ("time_embed.linear_2.", "tmlp.2."),
             ("time_mod_proj.", "tproj.1."), ("txt_in.norm.weight", "txtmlp.0.scale"),
             ("txt_in.linear_1.", "txtmlp.1."), ("txt_in.linear_2.", "txtmlp.3."), ("text_fusion.", "txtfusion."),
             ("transformer_blocks.", "blocks."),
             ("final_layer.linear.", "last.linear."), ("final_layer.norm.weight", "last.norm.scale"),
             ("final_layer.scale_shift_table", "last.modulation.lin"))
_BLOCKS = ((".attn.to_q.", ".attn.wq."), (".attn.to_k.", ".attn.wk."), (".attn.to_v.", ".attn.wv."),
           (".attn.to_out.0.", ".attn.wo."), (".attn.to_gate.", ".attn.gate."),
           (".attn.norm_q.weight", ".attn.qknorm.qnorm.scale"), (".attn.norm_k.weight", ".attn.qknorm.knorm.scale"),
           (".ff.", ".mlp."), (".norm1.weight", ".prenorm.scale"), (".norm2.weight", ".postnorm.scale"),
           (".scale_shift_table", ".mod.lin"))


def original_krea2_state(state: dict) -> dict:
    """A Krea2Transformer2DModel's state in the original key names under ComfyUI's wrapper prefix
    (each block's six modulation rows flattened into one vector, as the original keeps them)."""
    out = {}
    for key, value in state.items():
        new = next((b + key[len(a):] for a, b in _PREFIXES if key.startswith(a)), key)
        if not new.startswith("last."):
            for a, b in _BLOCKS:
                new = new.replace(a, b)
        if new.startswith("blocks.") and new.endswith(".mod.lin"):
            value = value.reshape(-1)
        out["model.diffusion_model." + new] = value.contiguous()
    return out
