"""A tiny random LongCat-Image written as a LongCatImagePipeline folder: a 1+1-block transformer, a
2-layer Qwen2.5-VL with a 1-block vision tower and Qwen's tokenizer with its picture tokens (both from
`tiny_flow`, built with the `tokenizers` package), Flux's 16-channel VAE shrunk."""

from __future__ import annotations

from pathlib import Path

from tiny_flow import FLUX_DEV_SCHEDULER, _randomize_zero_inits, qwen25_vl_encoder, qwen_tokenizer, vae16


def build_longcat(folder: Path, *, seed: int = 0, real_heads: bool = False) -> Path:
    """Write the folder (no text_processor: NodeFlow ships Qwen2.5-VL's picture settings, and the
    reference pipelines are given them). `real_heads`: one head of the real 128 width and rope axes,
    the real 8x VAE, so lone files of it load with the shipped configs."""
    import torch
    from diffusers import FlowMatchEulerDiscreteScheduler, LongCatImagePipeline, LongCatImageTransformer2DModel

    torch.manual_seed(seed)
    tokenizer = qwen_tokenizer(folder / "tokenizer", vision=True)
    heads = dict(attention_head_dim=128, num_attention_heads=1, axes_dims_rope=[16, 56, 56]) if real_heads else \
        dict(attention_head_dim=16, num_attention_heads=2, axes_dims_rope=[4, 6, 6])
    width = 128 if real_heads else 32
    transformer = LongCatImageTransformer2DModel(patch_size=1, in_channels=64, num_layers=1, num_single_layers=1,
                                                 joint_attention_dim=width, pooled_projection_dim=width, **heads)
    _randomize_zero_inits(transformer)
    pipe = LongCatImagePipeline(scheduler=FlowMatchEulerDiscreteScheduler(**FLUX_DEV_SCHEDULER),
                                vae=vae16(levels=4 if real_heads else 2),
                                text_encoder=qwen25_vl_encoder(tokenizer, width, real_heads), tokenizer=tokenizer,
                                text_processor=None, transformer=transformer)
    pipe.save_pretrained(folder)
    return folder


def reference(name: str, folder: Path):
    """diffusers' `name` pipeline (LongCatImagePipeline or LongCatImageEditPipeline) on the folder, with
    the picture processor NodeFlow uses, its weights laid out as NodeFlow's loaders lay them out."""
    import diffusers
    from pipelines import settled
    from transformers import Qwen2TokenizerFast

    from nodes.qwen_image._edit import picture_processor_for

    processor = picture_processor_for(Qwen2TokenizerFast.from_pretrained(folder / "tokenizer"))
    pipe = settled(getattr(diffusers, name).from_pretrained(folder, text_processor=processor,
                                                            local_files_only=True))
    pipe.set_progress_bar_config(disable=True)
    return pipe


def bfl_state(state: dict) -> dict:
    """A LongCatImageTransformer2DModel's weights in BFL's Flux names, as ComfyUI's LongCat-Image file keeps
    them (fused q/k/v, the final modulation's halves in (shift, scale) order), written here independently of
    NodeFlow's reading of them."""
    import torch

    out, blocks = {}, {}
    flat = {"time_embed.timestep_embedder.linear_1.": "time_in.in_layer.",
            "time_embed.timestep_embedder.linear_2.": "time_in.out_layer.", "context_embedder.": "txt_in.",
            "x_embedder.": "img_in.", "proj_out.": "final_layer.linear."}
    double = {"norm1.linear.": "img_mod.lin.", "norm1_context.linear.": "txt_mod.lin.",
              "attn.norm_q.weight": "img_attn.norm.query_norm.scale",
              "attn.norm_k.weight": "img_attn.norm.key_norm.scale",
              "attn.norm_added_q.weight": "txt_attn.norm.query_norm.scale",
              "attn.norm_added_k.weight": "txt_attn.norm.key_norm.scale", "ff.net.0.proj.": "img_mlp.0.",
              "ff.net.2.": "img_mlp.2.", "ff_context.net.0.proj.": "txt_mlp.0.", "ff_context.net.2.": "txt_mlp.2.",
              "attn.to_out.0.": "img_attn.proj.", "attn.to_add_out.": "txt_attn.proj."}
    single = {"norm.linear.": "modulation.lin.", "attn.norm_q.weight": "norm.query_norm.scale",
              "attn.norm_k.weight": "norm.key_norm.scale", "proj_out.": "linear2."}
    for key, value in state.items():
        if key.startswith(("transformer_blocks.", "single_transformer_blocks.")):
            kind, index, name = key.split(".", 2)
            double_block = kind == "transformer_blocks"
            prefix = f"{'double_blocks' if double_block else 'single_blocks'}.{index}."
            fused = [("attn.to_", "img_attn.qkv."), ("attn.add_", "txt_attn.qkv.")] if double_block else \
                [("attn.to_", "linear1."), ("proj_mlp.", "linear1.")]
            part = next(((src, dst) for src, dst in fused if name.startswith(src) and not name.startswith("attn.to_out")
                         and not name.startswith("attn.to_add_out")), None)
            if part is not None:
                blocks.setdefault(prefix + part[1] + name.rsplit(".", 1)[1], {})[name] = value
                continue
            table = double if double_block else single
            found = next(k for k in table if name.startswith(k))
            out[prefix + table[found] + name[len(found):]] = value
        elif key.startswith("norm_out.linear."):
            scale, shift = value.chunk(2, dim=0)
            out["final_layer.adaLN_modulation.1." + key.rsplit(".", 1)[1]] = torch.cat([shift, scale], dim=0)
        else:
            found = next(k for k in flat if key.startswith(k))
            out[flat[found] + key[len(found):]] = value
    order = ("to_q", "to_k", "to_v", "add_q_proj", "add_k_proj", "add_v_proj", "proj_mlp")
    for target, parts in blocks.items():
        ranked = sorted(parts.items(), key=lambda kv: next(i for i, o in enumerate(order) if o in kv[0]))
        out[target] = torch.cat([v for _, v in ranked], dim=0)
    return {k: v.contiguous() for k, v in out.items()}
