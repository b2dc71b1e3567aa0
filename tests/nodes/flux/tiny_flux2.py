"""A tiny random Flux.2 Klein written as a Flux2KleinPipeline folder.

A 1+1-block Flux2 transformer, a 2-level AutoencoderKLFlux2 (its batch-normalised 2x2-patched
latents), and a Qwen3ForCausalLM deep enough for the pipeline's hidden states 9, 18 and 27 (28
layers, 32 wide). With `real_heads` the transformer has one head of the real 128 width and rope
axes and the VAE the real 4 levels, so a lone file of it loads with the shipped configs.
"""

from __future__ import annotations

from pathlib import Path

#: FLUX.2 [klein]'s scheduler: dynamic shifting, mu given by the pipeline (compute_empirical_mu).
FLUX2_SCHEDULER = dict(base_image_seq_len=256, base_shift=0.5, max_image_seq_len=4096, max_shift=1.15,
                       num_train_timesteps=1000, shift=3.0, use_dynamic_shifting=True, time_shift_type="exponential")


def qwen3_lm(dim: int = 32, layers: int = 28):
    from transformers import Qwen3Config, Qwen3ForCausalLM

    return Qwen3ForCausalLM(Qwen3Config(hidden_size=dim, intermediate_size=64, num_hidden_layers=layers,
                                        num_attention_heads=2, num_key_value_heads=1, head_dim=16, vocab_size=300,
                                        max_position_embeddings=1024, rope_theta=1000000.0, rms_norm_eps=1e-6,
                                        tie_word_embeddings=True))


def flux2_vae(levels: int = 2):
    """AutoencoderKLFlux2 shrunk: 32 latent channels (patched 2x2 to the model's 128), 2 levels (2x)
    or 4 (8x, the real layout), running statistics of its batch norm made non-trivial."""
    import torch
    from diffusers import AutoencoderKLFlux2

    blocks = (16, 32) if levels == 2 else (32,) * 4
    vae = AutoencoderKLFlux2(block_out_channels=blocks, down_block_types=("DownEncoderBlock2D",) * levels,
                             up_block_types=("UpDecoderBlock2D",) * levels, layers_per_block=1,
                             norm_num_groups=8 if levels == 2 else 32, sample_size=32)
    with torch.no_grad():
        vae.bn.running_mean.normal_(0, 0.3)
        vae.bn.running_var.uniform_(0.5, 2.0)
    return vae


def flux2_transformer(width: int, real_heads: bool = False, guidance: bool = False):
    from diffusers import Flux2Transformer2DModel

    heads = dict(attention_head_dim=128, num_attention_heads=1, axes_dims_rope=(32, 32, 32, 32)) if real_heads \
        else dict(attention_head_dim=16, num_attention_heads=2, axes_dims_rope=(4, 4, 4, 4))
    return Flux2Transformer2DModel(patch_size=1, in_channels=128, num_layers=1, num_single_layers=1,
                                   joint_attention_dim=3 * width, timestep_guidance_channels=16,
                                   guidance_embeds=guidance, **heads)


#: A chat template in Mistral's shape for a system and a user message with typed contents.
MISTRAL_CHAT = ("{{ bos_token }}{% for message in messages %}{% if message['role'] == 'system' %}"
                "[SYSTEM_PROMPT]{{ message['content'][0]['text'] }}[/SYSTEM_PROMPT]{% else %}"
                "[INST]{{ message['content'][0]['text'] }}[/INST]{% endif %}{% endfor %}")


def mistral_tokenizer(folder: Path):
    """A byte-level BPE with Mistral's control tokens and a chat template of its shape."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    bpe = Tokenizer(models.BPE())
    bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    bpe.decoder = decoders.ByteLevel()
    special = ["<unk>", "<s>", "</s>", "<pad>", "[INST]", "[/INST]", "[SYSTEM_PROMPT]", "[/SYSTEM_PROMPT]", "[IMG]"]
    trainer = trainers.BpeTrainer(vocab_size=300, special_tokens=special,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    bpe.train_from_iterator(["a red circle on a blue background", "You are an AI that reasons about image"], trainer)
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=bpe, bos_token="<s>", eos_token="</s>", unk_token="<unk>",
                                        pad_token="<pad>", chat_template=MISTRAL_CHAT)
    tokenizer.save_pretrained(folder)
    return tokenizer


def mistral3(dim: int = 32, layers: int = 31):
    """Mistral 3 (a Pixtral vision tower, unused by text prompts) deep enough for states 10, 20, 30, its
    heads as wide as the real ones (128, and the tower's 64), so a lone file of it loads with the shipped config."""
    from transformers import Mistral3Config, Mistral3ForConditionalGeneration

    text = dict(model_type="mistral", hidden_size=dim, intermediate_size=64, num_hidden_layers=layers,
                num_attention_heads=1, num_key_value_heads=1, head_dim=128, vocab_size=300,
                max_position_embeddings=1024, rope_theta=1e9, rms_norm_eps=1e-5)
    vision = dict(model_type="pixtral", hidden_size=64, intermediate_size=32, num_hidden_layers=1,
                  num_attention_heads=1, head_dim=64, patch_size=14, image_size=1540)
    return Mistral3ForConditionalGeneration(Mistral3Config(text_config=text, vision_config=vision, image_token_index=8,
                                                           spatial_merge_size=2, multimodal_projector_bias=False))


def build_flux2_dev(folder: Path, *, seed: int = 0, real_heads: bool = False) -> Path:
    """A tiny FLUX.2 [dev]: Klein's tiny transformer with a guidance input, Mistral 3 as its encoder
    (`real_heads` as for Klein)."""
    import torch
    from diffusers import FlowMatchEulerDiscreteScheduler, Flux2Pipeline
    from tiny_flow import _randomize_zero_inits

    torch.manual_seed(seed)
    transformer = flux2_transformer(32, real_heads, guidance=True)
    _randomize_zero_inits(transformer)
    pipe = Flux2Pipeline(scheduler=FlowMatchEulerDiscreteScheduler(**FLUX2_SCHEDULER),
                         vae=flux2_vae(4 if real_heads else 2),
                         text_encoder=mistral3(), tokenizer=mistral_tokenizer(folder / "tokenizer"),
                         transformer=transformer)
    pipe.save_pretrained(folder)
    return folder


def build_flux2_klein(folder: Path, *, seed: int = 0, real_heads: bool = False) -> Path:
    import torch
    from diffusers import FlowMatchEulerDiscreteScheduler, Flux2KleinPipeline
    from tiny_flow import _randomize_zero_inits, qwen_tokenizer

    torch.manual_seed(seed)
    transformer = flux2_transformer(32, real_heads)
    _randomize_zero_inits(transformer)
    pipe = Flux2KleinPipeline(scheduler=FlowMatchEulerDiscreteScheduler(**FLUX2_SCHEDULER),
                              vae=flux2_vae(4 if real_heads else 2), text_encoder=qwen3_lm(),
                              tokenizer=qwen_tokenizer(folder / "tokenizer"), transformer=transformer)
    pipe.save_pretrained(folder)
    return folder


_BFL_NAMES = (("x_embedder.", "img_in."), ("context_embedder.", "txt_in."),
              ("time_guidance_embed.timestep_embedder.linear_1.", "time_in.in_layer."),
              ("time_guidance_embed.timestep_embedder.linear_2.", "time_in.out_layer."),
              ("time_guidance_embed.guidance_embedder.linear_1.", "guidance_in.in_layer."),
              ("time_guidance_embed.guidance_embedder.linear_2.", "guidance_in.out_layer."),
              ("double_stream_modulation_img.linear.", "double_stream_modulation_img.lin."),
              ("double_stream_modulation_txt.linear.", "double_stream_modulation_txt.lin."),
              ("single_stream_modulation.linear.", "single_stream_modulation.lin."),
              ("proj_out.", "final_layer.linear."))
_BFL_DOUBLE = {"attn.norm_q.weight": "img_attn.norm.query_norm.scale",
               "attn.norm_k.weight": "img_attn.norm.key_norm.scale",
               "attn.to_out.0.weight": "img_attn.proj.weight", "ff.linear_in.weight": "img_mlp.0.weight",
               "ff.linear_out.weight": "img_mlp.2.weight",
               "attn.norm_added_q.weight": "txt_attn.norm.query_norm.scale",
               "attn.norm_added_k.weight": "txt_attn.norm.key_norm.scale",
               "attn.to_add_out.weight": "txt_attn.proj.weight",
               "ff_context.linear_in.weight": "txt_mlp.0.weight", "ff_context.linear_out.weight": "txt_mlp.2.weight"}
_BFL_SINGLE = {"attn.to_qkv_mlp_proj.weight": "linear1.weight", "attn.to_out.weight": "linear2.weight",
               "attn.norm_q.weight": "norm.query_norm.scale", "attn.norm_k.weight": "norm.key_norm.scale"}


def bfl_flux2_state(state: dict) -> dict:
    """diffusers' Flux.2 names -> BFL's, which ComfyUI's files keep (fused qkv, `lin`, the final
    modulation as (shift, scale)): the inverse of diffusers' single-file converter."""
    import torch

    out = {}
    for key, value in state.items():
        block, _, rest = key.partition(".")
        if block == "transformer_blocks":
            index, _, name = rest.partition(".")
            if name in ("attn.to_q.weight", "attn.add_q_proj.weight"):
                stream = "img" if "to_q" in name else "txt"
                parts = [state[key.replace(q, x)] for q, x in (("q", "q"), ("q", "k"), ("q", "v"))]
                out[f"double_blocks.{index}.{stream}_attn.qkv.weight"] = torch.cat(parts)
            elif name in _BFL_DOUBLE:
                out[f"double_blocks.{index}.{_BFL_DOUBLE[name]}"] = value
        elif block == "single_transformer_blocks":
            index, _, name = rest.partition(".")
            out[f"single_blocks.{index}.{_BFL_SINGLE[name]}"] = value
        elif key == "norm_out.linear.weight":
            scale, shift = value.chunk(2, dim=0)
            out["final_layer.adaLN_modulation.1.weight"] = torch.cat([shift, scale])
        else:
            out[next((key.replace(a, b, 1) for a, b in _BFL_NAMES if key.startswith(a)), key)] = value
    return {"model.diffusion_model." + k: v.contiguous() for k, v in out.items()}
