"""A tiny Stable Audio 3 (StableAudio3Pipeline folder): a 1-block DiT of two 16-wide heads, a 2-layer
T5Gemma encoder (one head of the real 64 width) with the tiny Gemma tokenizer of `tiny_lumina2`, the duration
embedder and a small SAME autoencoder (16 latent channels, 64 samples a step at 16 kHz, stereo)."""

from __future__ import annotations

from pathlib import Path


def build_stable_audio3(folder: Path, *, seed: int = 0, stochastic: bool = True) -> Path:
    """Write the pipeline folder; `stochastic`: the distilled Medium's ping-pong scheduler, else the Base's Euler."""
    import torch
    from diffusers import AutoencoderSAME, FlowMatchEulerDiscreteScheduler, StableAudio3DiTModel, StableAudio3Pipeline
    from diffusers.pipelines.stable_audio_3.modeling_stable_audio_3 import StableAudio3DurationEmbedder
    from tiny_flow import _randomize_zero_inits
    from tiny_lumina2 import gemma_tokenizer
    from transformers import T5GemmaConfig, T5GemmaEncoderModel
    from transformers.models.t5gemma.configuration_t5gemma import T5GemmaModuleConfig

    torch.manual_seed(seed)
    tokenizer = gemma_tokenizer(folder / "tokenizer")
    # one head of T5Gemma-b's real width, scale and window, so a lone file loads with the shipped config
    module = dict(vocab_size=len(tokenizer), hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                  num_attention_heads=1, num_key_value_heads=1, head_dim=64, query_pre_attn_scalar=64,
                  sliding_window=4096)
    config = T5GemmaConfig(encoder=T5GemmaModuleConfig(**module), decoder=T5GemmaModuleConfig(**module),
                           vocab_size=len(tokenizer), is_encoder_decoder=False)
    encoder = T5GemmaEncoderModel(config).eval()
    transformer = StableAudio3DiTModel(io_channels=16, embed_dim=32, depth=1, num_heads=2, cond_token_dim=32,
                                       global_cond_dim=32, local_add_cond_dim=17, timestep_features_dim=16,
                                       num_memory_tokens=4)
    vae = AutoencoderSAME(patch_size=16, encoder_channels=16, encoder_c_mults=(2,), encoder_strides=(4,),
                          encoder_transformer_depths=(1,), latent_dim=16, dim_heads=8, sampling_rate=16000)
    _randomize_zero_inits(transformer)
    _randomize_zero_inits(vae)
    pipe = StableAudio3Pipeline(vae=vae, text_encoder=encoder, tokenizer=tokenizer,
                                duration_embedder=StableAudio3DurationEmbedder(output_dim=32, fourier_dim=16),
                                transformer=transformer,
                                scheduler=FlowMatchEulerDiscreteScheduler(num_train_timesteps=1,
                                                                          stochastic_sampling=stochastic))
    pipe.save_pretrained(folder)
    return folder
