"""A tiny random HiDream-I1 written as a HiDreamImagePipeline folder: a 1+1-block mixture-of-experts
transformer, CLIP-L and CLIP-G with projections and 128 positions, a 2-layer T5, a Llama built from a config
(32 layers, as HiDream's; one 128-wide head, so a lone file of it loads with the
shipped Llama 3.1 config), tokenizers built here with the `tokenizers` package (no Llama vocabulary is
shipped or fetched), Flux's 16-channel VAE shrunk."""

from __future__ import annotations

from pathlib import Path

from tiny_flow import _randomize_zero_inits, clip_tokenizer, t5_encoder, t5_tokenizer, vae16

SCHEDULER = dict(num_train_timesteps=1000, shift=6.0, use_dynamic_shifting=False)


def llama_tokenizer(folder: Path):
    """A byte-level BPE with Llama 3's begin and end of text tokens, <|begin_of_text|> put first."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers
    from transformers import PreTrainedTokenizerFast

    bpe = Tokenizer(models.BPE())
    bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    bpe.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=300, special_tokens=["<|begin_of_text|>", "<|end_of_text|>"],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    bpe.train_from_iterator(["a red circle on a blue background", "a green square"], trainer)
    bpe.post_processor = processors.TemplateProcessing(single="<|begin_of_text|> $A",
                                                       special_tokens=[("<|begin_of_text|>", 0)])
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=bpe, bos_token="<|begin_of_text|>",
                                        eos_token="<|end_of_text|>", model_max_length=131072)
    tokenizer.save_pretrained(folder)
    return tokenizer


def llama(layers: int = 32):
    from transformers import LlamaConfig, LlamaForCausalLM

    return LlamaForCausalLM(LlamaConfig(vocab_size=300, hidden_size=32, intermediate_size=64, num_hidden_layers=layers,
                                        num_attention_heads=1, num_key_value_heads=1, head_dim=128,
                                        rope_theta=500000.0, bos_token_id=0, eos_token_id=1))


def clip(dim: int, projection: int, act: str):
    """A 2-layer CLIP with its projection and 128 positions (HiDream reads 128 tokens), 64-wide heads and the
    activation of the shipped config it stands for (CLIP-L's quick GELU, CLIP-G's GELU)."""
    from transformers import CLIPTextConfig, CLIPTextModelWithProjection

    return CLIPTextModelWithProjection(CLIPTextConfig(vocab_size=128, hidden_size=dim, intermediate_size=64,
                                                      num_hidden_layers=2, num_attention_heads=max(1, dim // 64),
                                                      max_position_embeddings=128, projection_dim=projection,
                                                      hidden_act=act, bos_token_id=0, eos_token_id=1, pad_token_id=1))


def build_hidream(folder: Path, *, seed: int = 0, vae_levels: int = 2) -> Path:
    """Write the folder: heads of the real 128 width and rope axes, two experts each token takes both of (the
    shipped config's number), its blocks reading Llama's layers 0 and 16 (the first double and single blocks'
    of the shipped config), so a lone transformer file loads with the shipped config; CLIP widths 64 and 128
    (CLIP-L and CLIP-G are told apart by width). `vae_levels` 4: the real VAE's 8x (lone files assume it)."""
    import torch
    from diffusers import FlowMatchEulerDiscreteScheduler, HiDreamImagePipeline, HiDreamImageTransformer2DModel

    torch.manual_seed(seed)
    transformer = HiDreamImageTransformer2DModel(
        patch_size=2, in_channels=16, out_channels=16, num_layers=1, num_single_layers=1, attention_head_dim=128,
        num_attention_heads=1, caption_channels=[32, 32], text_emb_dim=64, num_routed_experts=2,
        num_activated_experts=2, axes_dims_rope=(64, 32, 32), max_resolution=(128, 128), llama_layers=[0, 16])
    _randomize_zero_inits(transformer)
    pipe = HiDreamImagePipeline(
        scheduler=FlowMatchEulerDiscreteScheduler(**SCHEDULER), vae=vae16(levels=vae_levels),
        text_encoder=clip(64, 32, "quick_gelu"), tokenizer=clip_tokenizer(folder / "tokenizer"),
        text_encoder_2=clip(128, 32, "gelu"), tokenizer_2=clip_tokenizer(folder / "tokenizer_2"),
        text_encoder_3=t5_encoder(), tokenizer_3=t5_tokenizer(folder / "tokenizer_3"),
        text_encoder_4=llama(), tokenizer_4=llama_tokenizer(folder / "tokenizer_4"), transformer=transformer)
    pipe.save_pretrained(folder)
    return folder
