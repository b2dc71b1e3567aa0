"""Tiny random Wan 2.1 / 2.2 models written as diffusers folders (nothing comes from a hub).

One transformer block of two 16-wide heads (or one head of the real 128 width, so a lone file of it
loads with the shipped config), a 2-layer UMT5 with a Unigram tokenizer built here, and a 4-level
AutoencoderKLWan 8 wide that keeps the real one's 8x and 4-frames-per-latent-frame compression (or
the Wan 2.2 VAE's 16x, 48-channel layout for Wan 2.2 5B). Five 32x32 frames are two latent frames
of 4x4 cells: each call of the pipeline takes well under a second on a CPU.
"""

from __future__ import annotations

from pathlib import Path

WAN_SCHEDULER = dict(num_train_timesteps=1000, shift=5.0, use_dynamic_shifting=False)
LENGTH = 512  # WanPipeline's max_sequence_length default


def umt5_tokenizer(folder: Path | None = None):
    """A T5-style Unigram tokenizer over letters and a few words (UMT5's is a bigger sentencepiece)."""
    from tiny_tokenizers import unigram_t5_tokenizer

    return unigram_t5_tokenizer(LENGTH, folder)


def umt5_encoder(dim: int = 32):
    from transformers import UMT5Config, UMT5EncoderModel

    return UMT5EncoderModel(UMT5Config(vocab_size=128, d_model=dim, d_ff=64, d_kv=8, num_heads=4, num_layers=2,
                                       feed_forward_proj="gated-gelu", relative_attention_num_buckets=8,
                                       relative_attention_max_distance=16, dropout_rate=0.0,
                                       decoder_start_token_id=0, pad_token_id=0, eos_token_id=1))


def wan_vae():
    """AutoencoderKLWan 8 wide: 3 spatial halvings (8x) and 2 temporal ones (4 frames a latent frame)."""
    from diffusers import AutoencoderKLWan

    return AutoencoderKLWan(base_dim=8, z_dim=16, dim_mult=[1, 1, 1, 1], num_res_blocks=1,
                            temperal_downsample=[False, True, True])


def wan22_vae():
    """The Wan 2.2 VAE's layout 8 wide: 48 channels, 2x2 patches inside (12 channels in and out), 16x in
    space, 4 frames a latent frame, residual down and up blocks; made-up per-channel statistics."""
    from diffusers import AutoencoderKLWan

    return AutoencoderKLWan(base_dim=8, decoder_base_dim=8, z_dim=48, dim_mult=[1, 1, 1, 1], num_res_blocks=1,
                            temperal_downsample=[False, True, True], is_residual=True, in_channels=12,
                            out_channels=12, patch_size=2, scale_factor_spatial=16,
                            latents_mean=[0.1 * ((i * 7) % 11 - 5) for i in range(48)],
                            latents_std=[0.8 + 0.05 * (i % 9) for i in range(48)])


def wan_transformer(in_channels: int = 16, real_heads: bool = False):
    from diffusers import WanTransformer3DModel

    heads = dict(num_attention_heads=1, attention_head_dim=128) if real_heads else \
        dict(num_attention_heads=2, attention_head_dim=16)
    return WanTransformer3DModel(patch_size=(1, 2, 2), in_channels=in_channels,
                                 out_channels=48 if in_channels == 48 else 16, text_dim=32,
                                 freq_dim=32, ffn_dim=64, num_layers=1, rope_max_seq_len=32, **heads)


def build_wan(folder: Path, *, seed: int = 0, i2v: bool = False, real_heads: bool = False,
              ti2v: bool = False) -> Path:
    """Write a tiny WanPipeline (text-to-video) or WanImageToVideoPipeline (Wan 2.2's image-to-video:
    36 input channels, no image encoder) folder; `ti2v`: Wan 2.2 5B's WanPipeline with expand_timesteps
    (48 channels in and out on the Wan 2.2 VAE, text- and image-to-video)."""
    import torch
    from diffusers import FlowMatchEulerDiscreteScheduler, WanImageToVideoPipeline, WanPipeline

    torch.manual_seed(seed)
    parts = dict(tokenizer=umt5_tokenizer(folder / "tokenizer"), text_encoder=umt5_encoder(),
                 vae=wan22_vae() if ti2v else wan_vae(), scheduler=FlowMatchEulerDiscreteScheduler(**WAN_SCHEDULER),
                 transformer=wan_transformer(48 if ti2v else 36 if i2v else 16, real_heads))
    if ti2v:
        pipe = WanPipeline(**parts, expand_timesteps=True)
    elif i2v:
        pipe = WanImageToVideoPipeline(**parts, image_encoder=None, image_processor=None)
    else:
        pipe = WanPipeline(**parts)
    pipe.save_pretrained(folder)
    return folder



#: diffusers' WanTransformer3DModel names -> Wan's original ones (the files ComfyUI users have): the
#: inverse of diffusers' single-file converter, applied in order (norm2 and norm3 swap).
_ORIGINAL_NAMES = (
    ("condition_embedder.time_embedder.linear_1", "time_embedding.0"),
    ("condition_embedder.time_embedder.linear_2", "time_embedding.2"),
    ("condition_embedder.text_embedder.linear_1", "text_embedding.0"),
    ("condition_embedder.text_embedder.linear_2", "text_embedding.2"),
    ("condition_embedder.time_proj", "time_projection.1"), ("attn1", "self_attn"), ("attn2", "cross_attn"),
    (".to_out.0.", ".o."), (".to_q.", ".q."), (".to_k.", ".k."), (".to_v.", ".v."), ("ffn.net.0.proj", "ffn.0"),
    ("ffn.net.2", "ffn.2"), ("proj_out", "head.head"), ("norm2", "norm__swap"), ("norm3", "norm2"),
    ("norm__swap", "norm3"),
)


def original_names(state: dict) -> dict:
    """A WanTransformer3DModel state dict in Wan's original key names."""
    out = {}
    for key, value in state.items():
        new = key
        for old, original in _ORIGINAL_NAMES:
            new = new.replace(old, original)
        new = "head.modulation" if new == "scale_shift_table" else new.replace(".scale_shift_table", ".modulation")
        out[new] = value.contiguous()
    return out
