"""A tiny random Qwen Image 2.1 written as a QwenImage21Pipeline folder, and that pipeline to compare with.

A 1-block single-stream transformer (two 16-wide heads), a 2-layer Qwen3-VL with a 1-block vision
tower, the RGBA video VAE shrunk to 8 channels wide but keeping its 16x reduction (the pipeline
assumes 16), the byte-level BPE of `tiny_flow` with a chat template that renders multimodal
messages (the system turn the pipeline counts), and Qwen3-VL's picture settings as NodeFlow ships
them. `save_pretrained` cannot write a processor without a video part (torchvision), so the
parts are written one by one, as the pipeline's folder has them.
"""

from __future__ import annotations

import json
from pathlib import Path

from tiny_flow import QWEN_IMAGE_SCHEDULER, _randomize_zero_inits, qwen_tokenizer

#: Qwen's chat template, shortened: each message's text parts between its role's markers.
MULTIMODAL_CHAT = ("{%- for message in messages %}{{ '<|im_start|>' + message['role'] + '\\n' }}"
                   "{%- if message['content'] is string %}{{ message['content'] }}{%- else %}"
                   "{%- for part in message['content'] %}{%- if part['type'] == 'text' %}{{ part['text'] }}"
                   "{%- endif %}{%- endfor %}{%- endif %}{{ '<|im_end|>\\n' }}{%- endfor %}"
                   "{%- if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{%- endif %}")


def qwen3_vl_encoder(tokenizer, dim: int = 32, real: bool = False):
    """A 2-layer Qwen3-VL; with `real` its vision tower as deep as Qwen3-VL-8B's and with its heads,
    position table and taps (64 wide), so a lone file of it loads with the shipped config."""
    from transformers import Qwen3VLConfig, Qwen3VLForConditionalGeneration

    ids = {t: tokenizer.convert_tokens_to_ids(t) for t in ("<|vision_start|>", "<|vision_end|>", "<|image_pad|>",
                                                         "<|video_pad|>")}
    rope = {"rope_type": "default", "rope_theta": 5000000.0, "mrope_section": [2, 3, 3], "mrope_interleaved": True}
    vision = dict(depth=27, hidden_size=64, intermediate_size=32, num_heads=16, num_position_embeddings=2304,
                  deepstack_visual_indexes=[8, 16, 24]) if real else \
        dict(depth=1, hidden_size=16, intermediate_size=32, num_heads=2, num_position_embeddings=16,
             deepstack_visual_indexes=[0])
    config = Qwen3VLConfig(
        text_config=dict(hidden_size=dim, intermediate_size=64, num_hidden_layers=2, num_attention_heads=2,
                         num_key_value_heads=1, head_dim=16, vocab_size=300, rope_parameters=rope),
        vision_config=dict(out_hidden_size=dim, **vision),
        image_token_id=ids["<|image_pad|>"], video_token_id=ids["<|video_pad|>"],
        vision_start_token_id=ids["<|vision_start|>"], vision_end_token_id=ids["<|vision_end|>"])
    return Qwen3VLForConditionalGeneration(config)


def build_qwen_image21(folder: Path, *, seed: int = 0, real: bool = False) -> Path:
    """With `real`: one transformer head of the real 128 width and rope axes on the real 64 latent
    channels, the VAE's real levels, blocks and statistics (8 wide), the vision tower of
    `qwen3_vl_encoder(real=True)`: lone files of each load with the shipped configs."""
    import torch
    from diffusers import AutoencoderKLQwenImage21, FlowMatchEulerDiscreteScheduler, QwenImage21Transformer2DModel

    torch.manual_seed(seed)
    tokenizer = qwen_tokenizer(None, vision=True)
    tokenizer.chat_template = MULTIMODAL_CHAT
    heads = dict(attention_head_dim=128, num_attention_heads=1, axes_dims_rope=(16, 56, 56)) if real else \
        dict(attention_head_dim=16, num_attention_heads=2, axes_dims_rope=(4, 6, 6))
    channels = 64 if real else 16
    transformer = QwenImage21Transformer2DModel(in_channels=channels, out_channels=channels, num_layers=1,
                                                context_in_dim=32, **heads)
    _randomize_zero_inits(transformer)
    if real:
        vae = AutoencoderKLQwenImage21(base_dim=8, decoder_base_dim=8)
    else:
        vae = AutoencoderKLQwenImage21(base_dim=8, decoder_base_dim=8, z_dim=16, dim_mult=[1, 2, 2, 2, 2],
                                       num_res_blocks=1, latents_mean=[0.1 * i - 0.8 for i in range(16)],
                                       latents_std=[1.0 + 0.05 * i for i in range(16)])
    parts = {"transformer": transformer, "vae": vae, "text_encoder": qwen3_vl_encoder(tokenizer, real=real),
             "scheduler": FlowMatchEulerDiscreteScheduler(**QWEN_IMAGE_SCHEDULER)}
    index = {"_class_name": "QwenImage21Pipeline", "_diffusers_version": "0.42.1", "sample_sigmas": None,
             "processor": ["transformers", "Qwen3VLProcessor"]}
    for name, part in parts.items():
        part.save_pretrained(folder / name)
        index[name] = ["diffusers" if name != "text_encoder" else "transformers", type(part).__name__]
    tokenizer.save_pretrained(folder / "processor")
    (folder / "model_index.json").write_text(json.dumps(index, indent=2), "utf-8")
    return folder


def reference_pipeline(folder: Path):
    """QwenImage21Pipeline on the folder's parts, with the Qwen3-VL processor NodeFlow builds."""
    from diffusers import (
        AutoencoderKLQwenImage21,
        FlowMatchEulerDiscreteScheduler,
        QwenImage21Pipeline,
        QwenImage21Transformer2DModel,
    )
    from pipelines import settled
    from transformers import Qwen2TokenizerFast, Qwen3VLForConditionalGeneration

    from nodes.qwen_image21._prompt import processor_for

    tokenizer = Qwen2TokenizerFast.from_pretrained(folder / "processor")
    index = json.loads((folder / "model_index.json").read_text("utf-8"))
    pipe = QwenImage21Pipeline(sample_sigmas=index.get("sample_sigmas"),
        scheduler=FlowMatchEulerDiscreteScheduler.from_pretrained(folder / "scheduler"),
        vae=AutoencoderKLQwenImage21.from_pretrained(folder / "vae"),
        text_encoder=Qwen3VLForConditionalGeneration.from_pretrained(folder / "text_encoder"),
        processor=processor_for(tokenizer),
        transformer=QwenImage21Transformer2DModel.from_pretrained(folder / "transformer"))
    pipe = settled(pipe)
    pipe.set_progress_bar_config(disable=True)
    return pipe
