"""A tiny random Wan 2.1 image-to-video model (an image embedder reading CLIP vision tokens) as a
WanImageToVideoPipeline folder with its CLIP vision image encoder, and that encoder as the single
file ComfyUI users keep in models/clip_vision (transformers' checkpoint names, `vision_model.` first, as
clip_vision_h.safetensors)."""

from __future__ import annotations

from pathlib import Path

#: The tiny tower: 32 wide (the transformer's image_dim), 2 layers, 28 px pictures in 14 px patches.
TOWER = dict(hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=16, image_size=28,
             patch_size=14, hidden_act="gelu", layer_norm_eps=1e-5)


def clip_tower():
    from transformers import CLIPVisionConfig, CLIPVisionModel

    return CLIPVisionModel(CLIPVisionConfig(**TOWER)).eval()


def build_wan21(folder: Path, *, seed: int = 0, first_last: bool = False) -> tuple[Path, Path]:
    """(the pipeline folder, the CLIP vision file): a WanImageToVideoPipeline whose transformer has Wan
    2.1's image embedder (image_dim: the tower's width; added_kv_proj_dim: its own width) and one head of
    the real 128 width (a lone file of it loads with the shipped config; ChronoEdit's rotary split is
    Wan's only for such widths). `first_last`: Wan 2.1 FLF2V's, whose image embedder places the start and
    end pictures' tokens (pos_embed_seq_len: twice the tower's 5)."""
    import torch
    from diffusers import FlowMatchEulerDiscreteScheduler, WanImageToVideoPipeline, WanTransformer3DModel
    from safetensors.torch import save_file
    from tiny_wan import WAN_SCHEDULER, umt5_encoder, umt5_tokenizer, wan_vae
    from transformers import CLIPImageProcessor

    torch.manual_seed(seed)
    transformer = WanTransformer3DModel(patch_size=(1, 2, 2), in_channels=36, out_channels=16, text_dim=32,
                                        freq_dim=32, ffn_dim=64, num_layers=1, rope_max_seq_len=32,
                                        num_attention_heads=1, attention_head_dim=128, image_dim=TOWER["hidden_size"],
                                        added_kv_proj_dim=128, pos_embed_seq_len=10 if first_last else None)
    tower = clip_tower()
    processor = CLIPImageProcessor(size={"shortest_edge": TOWER["image_size"]},
                                   crop_size={"height": TOWER["image_size"], "width": TOWER["image_size"]})
    pipe = WanImageToVideoPipeline(tokenizer=umt5_tokenizer(folder / "tokenizer"), text_encoder=umt5_encoder(),
                                   vae=wan_vae(), scheduler=FlowMatchEulerDiscreteScheduler(**WAN_SCHEDULER),
                                   transformer=transformer, image_encoder=tower, image_processor=processor)
    pipe.save_pretrained(folder)
    tower_file = folder / "clip_vision_tiny.safetensors"
    save_file({f"vision_model.{k}": v.contiguous() for k, v in tower.state_dict().items()}, tower_file)
    return folder, tower_file
