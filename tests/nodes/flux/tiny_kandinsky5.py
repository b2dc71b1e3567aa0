"""A tiny random Kandinsky 5 Image written as a Kandinsky5T2IPipeline folder.

A 1+1-block Kandinsky5 transformer (64 wide, two 32-wide heads), a 2-layer Qwen2.5-VL and a 2-layer CLIP-L
(32 wide), the 16-channel VAE at the real 8x (the pipeline's latent size is fixed at 1/8) with Flux's shift
in its config (which the pipeline leaves out when decoding), and its scheduler's constant shift.
"""

from __future__ import annotations

from pathlib import Path

#: The published pipeline's scheduler: Euler with a constant shift of 3 (no dynamic shifting).
KANDINSKY5_SCHEDULER = dict(num_train_timesteps=1000, shift=3.0, use_dynamic_shifting=False)


def build_kandinsky5(folder: Path, *, seed: int = 0) -> Path:
    import torch
    from diffusers import FlowMatchEulerDiscreteScheduler, Kandinsky5T2IPipeline, Kandinsky5Transformer3DModel
    from tiny_flow import clip_tokenizer, qwen25_vl_encoder, qwen_tokenizer, vae16
    from transformers import CLIPTextConfig, CLIPTextModel

    torch.manual_seed(seed)
    tokenizer = qwen_tokenizer(folder / "tokenizer", vision=True)
    transformer = Kandinsky5Transformer3DModel(in_visual_dim=16, out_visual_dim=16, in_text_dim=32, in_text_dim2=32,
                                               time_dim=32, model_dim=64, ff_dim=128, num_text_blocks=1,
                                               num_visual_blocks=1, axes_dims=(8, 12, 12))
    with torch.no_grad():  # the zero-initialised modulations would leave the blocks silent
        for name, p in transformer.named_parameters():
            if "modulation" in name:
                p.normal_(0, 0.1)
    # CLIP at its real 77 positions: the pipeline pads its prompt to 77 tokens whatever the tokenizer says
    clip = CLIPTextModel(CLIPTextConfig(vocab_size=128, hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                                        num_attention_heads=4, max_position_embeddings=77, bos_token_id=0,
                                        eos_token_id=1, pad_token_id=1, hidden_act="quick_gelu"))
    pipe = Kandinsky5T2IPipeline(transformer=transformer, vae=vae16(levels=4),
                                 text_encoder=qwen25_vl_encoder(tokenizer), tokenizer=tokenizer,
                                 text_encoder_2=clip, tokenizer_2=clip_tokenizer(folder / "tokenizer_2"),
                                 scheduler=FlowMatchEulerDiscreteScheduler(**KANDINSKY5_SCHEDULER))
    pipe.save_pretrained(folder)
    return folder
