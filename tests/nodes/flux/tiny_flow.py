"""Tiny random flow-matching models (Flux, Flux Fill, Chroma, SD3) written as diffusers folders.

Shrunk from the published configs: one or two transformer blocks, 2-level 16-channel VAEs, 2-layer
CLIP and T5 encoders, a CLIP BPE tokenizer and a T5 Unigram tokenizer built here with `tokenizers`
(nothing comes from a hub). Big enough to exercise every code path of a family's pipeline, small
enough to sample in well under a second on a CPU.
"""

from __future__ import annotations

from pathlib import Path

T5_LENGTH = 512  # FluxPipeline's max_sequence_length default; the tiny T5 is cheap enough for it
FLUX_DEV_SCHEDULER = dict(base_image_seq_len=256, base_shift=0.5, max_image_seq_len=4096, max_shift=1.15,
                          num_train_timesteps=1000, shift=3.0, use_dynamic_shifting=True)
SCHNELL_SCHEDULER = dict(num_train_timesteps=1000, shift=1.0, use_dynamic_shifting=False)
SD3_SCHEDULER = dict(num_train_timesteps=1000, shift=3.0)


def t5_tokenizer(folder: Path | None = None):
    """A T5 tokenizer over letters and a few words (Unigram + Metaspace, as T5's sentencepiece)."""
    from tiny_tokenizers import unigram_t5_tokenizer

    return unigram_t5_tokenizer(T5_LENGTH, folder)


def clip_tokenizer(folder: Path):
    from tiny_sd import write_tokenizer
    from transformers import CLIPTokenizer

    write_tokenizer(folder)
    return CLIPTokenizer.from_pretrained(folder)


def t5_encoder(dim: int = 32, max_distance: int = 16):
    """A 2-layer T5 encoder `dim` wide (gated GELU, as T5 v1.1)."""
    from transformers import T5Config, T5EncoderModel

    return T5EncoderModel(T5Config(vocab_size=128, d_model=dim, d_ff=64, d_kv=8, num_heads=4, num_layers=2,
                                   feed_forward_proj="gated-gelu", relative_attention_num_buckets=8,
                                   relative_attention_max_distance=max_distance, dropout_rate=0.0,
                                   decoder_start_token_id=0, pad_token_id=0, eos_token_id=1))


def clip_encoder(dim: int = 32, projection: bool = False, projection_dim: int = 32, heads: int = 4,
                 act: str = "quick_gelu"):
    from transformers import CLIPTextConfig, CLIPTextModel, CLIPTextModelWithProjection

    config = CLIPTextConfig(vocab_size=128, hidden_size=dim, intermediate_size=64, num_hidden_layers=2,
                            num_attention_heads=heads, max_position_embeddings=32, projection_dim=projection_dim,
                            bos_token_id=0, eos_token_id=1, pad_token_id=1, hidden_act=act)
    return CLIPTextModelWithProjection(config) if projection else CLIPTextModel(config)


def vae16(shift: float = 0.1159, scaling: float = 0.3611, levels: int = 2):
    """An AutoencoderKL with 16 latent channels (Flux's and SD3's VAE, shrunk): 2 levels (scale 2),
    or 4 (scale 8, as the real one: Flux Fill's mask channels depend on it)."""
    from diffusers import AutoencoderKL

    blocks = (16, 32) if levels == 2 else (8, 16, 16, 16)
    return AutoencoderKL(in_channels=3, out_channels=3, latent_channels=16, block_out_channels=blocks,
                         down_block_types=("DownEncoderBlock2D",) * levels,
                         up_block_types=("UpDecoderBlock2D",) * levels,
                         layers_per_block=1, norm_num_groups=8, sample_size=32, scaling_factor=scaling,
                         shift_factor=shift, use_quant_conv=False, use_post_quant_conv=False)


def flux_transformer(guidance: bool = True, in_channels: int = 64, head_dim: int = 16):
    from diffusers import FluxTransformer2DModel

    rope = {16: (4, 4, 8), 128: (16, 56, 56)}[head_dim]
    return FluxTransformer2DModel(patch_size=1, in_channels=in_channels, out_channels=64, num_layers=1,
                                  num_single_layers=1, attention_head_dim=head_dim, num_attention_heads=2,
                                  joint_attention_dim=32, pooled_projection_dim=32, guidance_embeds=guidance,
                                  axes_dims_rope=rope)


def build_flux(folder: Path, *, guidance: bool = True, scheduler: dict | None = None, fill: bool = False,
               seed: int = 0, vae_levels: int = 2, control: bool = False) -> Path:
    """Write a tiny Flux.1 (dev-like with guidance, schnell-like without; Fill with 384 inputs, a
    Canny/Depth-style control model with 128)."""
    import torch
    from diffusers import FlowMatchEulerDiscreteScheduler, FluxFillPipeline, FluxPipeline

    torch.manual_seed(seed)
    pipeline = FluxFillPipeline if fill else FluxPipeline
    pipe = pipeline(
        transformer=flux_transformer(guidance, in_channels=384 if fill else 128 if control else 64),
        vae=vae16(levels=4 if fill else vae_levels),
        text_encoder=clip_encoder(),
        tokenizer=clip_tokenizer(folder / "tokenizer"),
        text_encoder_2=t5_encoder(),
        tokenizer_2=t5_tokenizer(folder / "tokenizer_2"),
        scheduler=FlowMatchEulerDiscreteScheduler(**(scheduler or FLUX_DEV_SCHEDULER)),
    )
    _randomize_zero_inits(pipe.transformer)
    pipe.save_pretrained(folder)
    return folder


def _randomize_zero_inits(transformer) -> None:
    """diffusers zero-initialises some output layers (AdaLN, proj_out); a random model whose output
    ignores its input would make every parity test pass vacuously."""
    import torch

    with torch.no_grad():
        for param in transformer.parameters():
            if param.abs().sum() == 0:
                param.normal_(0, 0.05)


def build_sd3(folder: Path, *, scheduler: dict | None = None, seed: int = 0) -> Path:
    """Write a tiny SD3: CLIP-L (16 wide) + CLIP-G (32 wide) + T5 (64 wide, so the CLIP states are
    zero-padded as in the real model), a 2-block MMDiT with patch 2, the 16-channel 8x VAE."""
    import torch
    from diffusers import FlowMatchEulerDiscreteScheduler, SD3Transformer2DModel, StableDiffusion3Pipeline

    torch.manual_seed(seed)
    transformer = SD3Transformer2DModel(sample_size=16, patch_size=2, in_channels=16, out_channels=16, num_layers=2,
                                        attention_head_dim=8, num_attention_heads=4, joint_attention_dim=64,
                                        caption_projection_dim=32, pooled_projection_dim=48, pos_embed_max_size=32)
    _randomize_zero_inits(transformer)
    pipe = StableDiffusion3Pipeline(
        transformer=transformer,
        vae=vae16(shift=0.0609, scaling=1.5305, levels=4),
        text_encoder=clip_encoder(16, projection=True, projection_dim=16),
        tokenizer=clip_tokenizer(folder / "tokenizer"),
        text_encoder_2=clip_encoder(32, projection=True, projection_dim=32),
        tokenizer_2=clip_tokenizer(folder / "tokenizer_2"),
        text_encoder_3=t5_encoder(64),
        tokenizer_3=t5_tokenizer(folder / "tokenizer_3"),
        scheduler=FlowMatchEulerDiscreteScheduler(**(scheduler or SD3_SCHEDULER)),
    )
    pipe.save_pretrained(folder)
    return folder


def build_chroma(folder: Path, *, seed: int = 0) -> Path:
    """Write a tiny Chroma (T5 only; a Flux-shaped transformer with its modulation approximator)."""
    import torch
    from diffusers import ChromaPipeline, ChromaTransformer2DModel, FlowMatchEulerDiscreteScheduler

    torch.manual_seed(seed)
    transformer = ChromaTransformer2DModel(patch_size=1, in_channels=64, num_layers=1, num_single_layers=1,
                                           attention_head_dim=16, num_attention_heads=2, joint_attention_dim=32,
                                           axes_dims_rope=(4, 4, 8), approximator_num_channels=16,
                                           approximator_hidden_dim=32, approximator_layers=1)
    _randomize_zero_inits(transformer)
    pipe = ChromaPipeline(transformer=transformer, vae=vae16(), text_encoder=t5_encoder(),
                          tokenizer=t5_tokenizer(folder / "tokenizer"),
                          scheduler=FlowMatchEulerDiscreteScheduler(**FLUX_DEV_SCHEDULER))
    pipe.save_pretrained(folder)
    return folder


Z_IMAGE_SCHEDULER = dict(num_train_timesteps=1000, shift=3.0, use_dynamic_shifting=False)
#: Qwen3's chat template for one user message (thinking on: nothing after the generation prompt).
QWEN_CHAT = ("{%- for message in messages %}"
             "{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>\\n' }}"
             "{%- endfor %}{%- if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}"
             "{%- if enable_thinking is defined and enable_thinking is false %}{{ '<think>\\n\\n</think>\\n\\n' }}"
             "{%- endif %}{%- endif %}")


def qwen_tokenizer(folder: Path | None = None, vision: bool = False):
    """A byte-level BPE with Qwen's special tokens and chat template (the `tokenizers` package);
    with `vision`, Qwen2.5-VL's picture tokens too."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import Qwen2TokenizerFast

    bpe = Tokenizer(models.BPE())
    bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    bpe.decoder = decoders.ByteLevel()
    special = ["<|endoftext|>", "<|im_start|>", "<|im_end|>", "<think>", "</think>"]
    if vision:
        special += ["<|vision_start|>", "<|vision_end|>", "<|image_pad|>", "<|video_pad|>"]
    trainer = trainers.BpeTrainer(vocab_size=300, special_tokens=special,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    bpe.train_from_iterator(["a red circle on a blue background", "a green square", "user assistant"], trainer)
    tokenizer = Qwen2TokenizerFast(tokenizer_object=bpe, eos_token="<|im_end|>", pad_token="<|endoftext|>",
                                   chat_template=QWEN_CHAT)
    if folder is not None:
        tokenizer.save_pretrained(folder)
    return tokenizer


def qwen3_encoder(dim: int = 32, layers: int = 2):
    from transformers import Qwen3Config, Qwen3Model

    # rope and norm settings are Qwen3-4B's (the shipped config a lone file is built from)
    return Qwen3Model(Qwen3Config(hidden_size=dim, intermediate_size=64, num_hidden_layers=layers,
                                  num_attention_heads=2, num_key_value_heads=1, head_dim=16, vocab_size=300,
                                  max_position_embeddings=1024, rope_theta=1000000.0, rms_norm_eps=1e-6))


def build_z_image(folder: Path, *, seed: int = 0, real_heads: bool = False) -> Path:
    """Write a tiny Z-Image: a 1+1-layer transformer (64 wide, or one head of the real 128 width and
    rope axes, with the real 8x VAE, so a lone file of it loads with the shipped configs), a 2-layer
    Qwen3 and the 16-channel VAE."""
    import torch
    from diffusers import FlowMatchEulerDiscreteScheduler, ZImagePipeline, ZImageTransformer2DModel

    torch.manual_seed(seed)
    heads = dict(dim=128, n_heads=1, n_kv_heads=1, axes_dims=[32, 48, 48]) if real_heads else \
        dict(dim=64, n_heads=2, n_kv_heads=2, axes_dims=[8, 12, 12])
    transformer = ZImageTransformer2DModel(all_patch_size=(2,), all_f_patch_size=(1,), in_channels=16, n_layers=1,
                                           n_refiner_layers=1, cap_feat_dim=32, axes_lens=[256, 32, 32], **heads)
    _randomize_zero_inits(transformer)
    pipe = ZImagePipeline(scheduler=FlowMatchEulerDiscreteScheduler(**Z_IMAGE_SCHEDULER),
                          vae=vae16(levels=4 if real_heads else 2),
                          text_encoder=qwen3_encoder(), tokenizer=qwen_tokenizer(folder / "tokenizer"),
                          transformer=transformer)
    pipe.save_pretrained(folder)
    return folder


def build_flux_file(folder: Path, seed: int = 4) -> tuple[Path, Path]:
    """A tiny Flux.1 dev as a diffusers folder and as one all-in-one .safetensors beside it (ComfyUI's
    checkpoint layout: model.diffusion_model., text_encoders.clip_l/t5xxl.transformer., first_stage_model.),
    with its tokenizers beside the file. Sizes a shipped config can be completed from: 128-wide heads,
    one 64-wide CLIP head, T5's relative positions up to 128, the VAE's 32 norm groups (what a file's
    tensors do not say)."""
    import torch
    from diffusers import FlowMatchEulerDiscreteScheduler, FluxPipeline

    torch.manual_seed(seed)
    pipe = FluxPipeline(transformer=_flux_wide(), vae=_vae32(0.1159, 0.3611),
                        text_encoder=clip_encoder(64, heads=1), tokenizer=clip_tokenizer(folder / "tokenizer"),
                        text_encoder_2=t5_encoder(max_distance=128), tokenizer_2=t5_tokenizer(folder / "tokenizer_2"),
                        scheduler=FlowMatchEulerDiscreteScheduler(**FLUX_DEV_SCHEDULER))
    pipe.save_pretrained(folder)
    return folder, _all_in_one(pipe, folder, {"text_encoder": "clip_l", "text_encoder_2": "t5xxl"})


def _vae32(shift: float, scaling: float):
    """A 4-level (8x) 16-channel VAE with 32 norm groups, as the real ones (what a file cannot say)."""
    from diffusers import AutoencoderKL

    return AutoencoderKL(in_channels=3, out_channels=3, latent_channels=16, block_out_channels=(32,) * 4,
                         down_block_types=("DownEncoderBlock2D",) * 4, up_block_types=("UpDecoderBlock2D",) * 4,
                         layers_per_block=1, norm_num_groups=32, sample_size=32, scaling_factor=scaling,
                         shift_factor=shift, use_quant_conv=False, use_post_quant_conv=False)


def _all_in_one(pipe, folder: Path, encoders: dict[str, str]) -> Path:
    """The pipeline's parts in one file (model.diffusion_model., text_encoders.<name>.transformer.,
    first_stage_model. with the VAE in its original names), tokenizers beside it as <stem>.tokenizer*."""
    import shutil

    from ldm_format import _convert_vae
    from safetensors.torch import save_file

    state = {"model.diffusion_model." + k: v for k, v in pipe.transformer.state_dict().items()}
    for part, name in encoders.items():
        state |= {f"text_encoders.{name}.transformer." + k: v for k, v in getattr(pipe, part).state_dict().items()
                  if k != "encoder.embed_tokens.weight"}  # T5's copy of shared.weight
        tokenizer = part.replace("text_encoder", "tokenizer")
        shutil.copytree(folder / tokenizer, folder.parent / f"{folder.name}.{tokenizer}")
    state |= _convert_vae(pipe.vae.state_dict(), dict(pipe.vae.config))
    file = folder.parent / f"{folder.name}.safetensors"
    save_file({k: v.contiguous() for k, v in state.items()}, str(file))
    return file


def build_sd3_file(folder: Path, seed: int = 5) -> tuple[Path, Path]:
    """A tiny SD3 as a diffusers folder and as one all-in-one .safetensors (SD3.5's layout), with sizes
    the shipped configs complete: 64-wide heads, CLIP-L 64 wide (1 head, quick GELU), CLIP-G 128 wide
    (2 heads, GELU), T5 256 wide with relative positions up to 128, the 32-group 8x VAE."""
    import torch
    from diffusers import FlowMatchEulerDiscreteScheduler, SD3Transformer2DModel, StableDiffusion3Pipeline

    torch.manual_seed(seed)
    transformer = SD3Transformer2DModel(sample_size=16, patch_size=2, in_channels=16, out_channels=16, num_layers=2,
                                        attention_head_dim=64, num_attention_heads=1, joint_attention_dim=256,
                                        caption_projection_dim=64, pooled_projection_dim=192, pos_embed_max_size=32)
    _randomize_zero_inits(transformer)
    pipe = StableDiffusion3Pipeline(
        transformer=transformer, vae=_vae32(0.0609, 1.5305),
        text_encoder=clip_encoder(64, projection=True, projection_dim=64, heads=1),
        tokenizer=clip_tokenizer(folder / "tokenizer"),
        text_encoder_2=clip_encoder(128, projection=True, projection_dim=128, heads=2, act="gelu"),
        tokenizer_2=clip_tokenizer(folder / "tokenizer_2"),
        text_encoder_3=t5_encoder(256, max_distance=128), tokenizer_3=t5_tokenizer(folder / "tokenizer_3"),
        scheduler=FlowMatchEulerDiscreteScheduler(**SD3_SCHEDULER))
    pipe.save_pretrained(folder)
    return folder, _all_in_one(pipe, folder, {"text_encoder": "clip_l", "text_encoder_2": "clip_g",
                                              "text_encoder_3": "t5xxl"})


def _flux_wide():
    """Flux with 128-wide heads (the shipped rope axes fit) and a 64-wide pooled CLIP input."""
    from diffusers import FluxTransformer2DModel

    model = FluxTransformer2DModel(patch_size=1, in_channels=64, out_channels=64, num_layers=1, num_single_layers=1,
                                   attention_head_dim=128, num_attention_heads=1, joint_attention_dim=32,
                                   pooled_projection_dim=64, guidance_embeds=True, axes_dims_rope=(16, 56, 56))
    _randomize_zero_inits(model)
    return model


QWEN_IMAGE_SCHEDULER = dict(base_image_seq_len=256, base_shift=0.5, invert_sigmas=False, max_image_seq_len=8192,
                            max_shift=0.9, num_train_timesteps=1000, shift=1.0, shift_terminal=0.02,
                            stochastic_sampling=False, time_shift_type="exponential", use_beta_sigmas=False,
                            use_dynamic_shifting=True, use_exponential_sigmas=False, use_karras_sigmas=False)


def qwen25_vl_encoder(tokenizer, dim: int = 32, real_heads: bool = False):
    """A 2-layer Qwen2.5-VL with a 1-block vision tower, its vision tokens from `tokenizer`; with
    `real_heads` one head of the real 128 width and rope sections (a lone file of it loads with the
    shipped 7B config)."""
    heads, mrope = (1, [16, 24, 24]) if real_heads else (2, [2, 3, 3])
    from transformers import Qwen2_5_VLConfig, Qwen2_5_VLForConditionalGeneration

    ids = {t: tokenizer.convert_tokens_to_ids(t) for t in ("<|vision_start|>", "<|vision_end|>", "<|image_pad|>",
                                                         "<|video_pad|>")}
    config = Qwen2_5_VLConfig(
        text_config={"hidden_size": dim, "intermediate_size": 64, "num_hidden_layers": 2,
                     "num_attention_heads": heads, "num_key_value_heads": 1, "vocab_size": 300, "rms_norm_eps": 1e-6,
                     "rope_theta": 1000000.0, "rope_scaling": {"type": "mrope", "mrope_section": mrope}},
        vision_config={"depth": 1, "hidden_size": 16, "intermediate_size": 32, "num_heads": 2, "out_hidden_size": dim,
                       "fullatt_block_indexes": [0], "window_size": 56},
        image_token_id=ids["<|image_pad|>"], video_token_id=ids["<|video_pad|>"],
        vision_start_token_id=ids["<|vision_start|>"], vision_end_token_id=ids["<|vision_end|>"])
    return Qwen2_5_VLForConditionalGeneration(config)


def qwen_image_vae(levels: int = 2):
    """Qwen-Image's video VAE shrunk: 2 levels (2x), or the real one's 4 levels and blocks (8x) at a
    sixth of its width; its real latent statistics."""
    from diffusers import AutoencoderKLQwenImage

    if levels == 4:
        return AutoencoderKLQwenImage(base_dim=16, z_dim=16)
    return AutoencoderKLQwenImage(base_dim=16, z_dim=16, dim_mult=[1, 2], num_res_blocks=1,
                                  temperal_downsample=[False])


def build_qwen_image(folder: Path, *, seed: int = 0, real_heads: bool = False) -> Path:
    """Write a tiny Qwen-Image: a 1-block transformer (two 16-wide heads, or one of the real 128 width
    and rope axes with the real 8x VAE, so a lone file of it loads with the shipped configs), a
    2-layer Qwen2.5-VL and the video VAE."""
    import torch
    from diffusers import FlowMatchEulerDiscreteScheduler, QwenImagePipeline, QwenImageTransformer2DModel

    torch.manual_seed(seed)
    tokenizer = qwen_tokenizer(folder / "tokenizer", vision=True)
    heads = dict(attention_head_dim=128, num_attention_heads=1, axes_dims_rope=(16, 56, 56)) if real_heads else \
        dict(attention_head_dim=16, num_attention_heads=2, axes_dims_rope=(4, 6, 6))
    width = 128 if real_heads else 32
    transformer = QwenImageTransformer2DModel(patch_size=2, in_channels=64, out_channels=16, num_layers=1,
                                              joint_attention_dim=width, **heads)
    _randomize_zero_inits(transformer)
    pipe = QwenImagePipeline(scheduler=FlowMatchEulerDiscreteScheduler(**QWEN_IMAGE_SCHEDULER),
                             vae=qwen_image_vae(4 if real_heads else 2),
                             text_encoder=qwen25_vl_encoder(tokenizer, width, real_heads), tokenizer=tokenizer,
                             transformer=transformer)
    pipe.save_pretrained(folder)
    return folder
