"""The video model families (Wan, MiniMax H3, LTX-2, ...), each declared once, as `_declared` does
for the picture families: their latents have a frame axis ([batch, channels, frames, height,
width]; `LatentFormat.temporal`, `nodes.latent._frames`) and their own VAEs. `FAMILIES` in
`_declared` lists these after the picture families."""

from __future__ import annotations

import dataclasses

from nodes.families._spec import Family, LatentFormat, TextEncoder

WAN = Family(
    name="wan",
    title="Wan 2.1 / 2.2",
    denoiser="WanTransformer3DModel",
    encoders=(TextEncoder("text_encoder", "UMT5EncoderModel", "AutoTokenizer", 512,
                          "last hidden states of the prompt's tokens, the padding zeroed", "umt5_xxl"),),
    # Wan 2.1's VAE (Wan 2.2 14B's too): 16 channels normalised per channel (Vae.raw), 8x, 4 frames a latent frame
    latent=LatentFormat(channels=16, scaling_factor=1.0, downscale=8, patch=2, temporal=4),
    prediction="flow",
    pipeline="WanPipeline",
    config="wan",
    adapter="nodes.wan._adapter",
    cfg="separate",
    vae="AutoencoderKLWan",
    sigmas="scheduler",
    comfy_clip_types=("wan",),
    comfy_shift=8.0,
    native_side=832,
    lora_loader="WanLoraLoaderMixin",
    notes=("the diffusers convention samples with FlowMatchEulerDiscreteScheduler at the folder's shift (a "
           "published folder's UniPC flow_shift, nodes.wan._adapter.folder_scheduler)",),
)

WAN22 = dataclasses.replace(
    WAN,
    name="wan22",
    title="Wan 2.2 5B (TI2V)",
    # the Wan 2.2 VAE: 48 channels normalised per channel, 16x (2x2 patches inside the VAE), 4 frames a latent frame
    latent=LatentFormat(channels=48, scaling_factor=1.0, downscale=16, patch=2, temporal=4),
    config="wan22",
    native_side=1280,
    mask_keeps_clean=True,
    notes=("text- and image-to-video in one model: a start picture's latent frames are kept clean and the "
           "transformer is told each token's timestep (t, 0 where kept), as WanPipeline / "
           "WanImageToVideoPipeline do with expand_timesteps",
           "shipped configs: Wan 2.2 TI2V-5B's transformer (sizes read off a file's tensors) and the Wan 2.2 VAE"),
)

MINIMAX_H3 = Family(
    name="minimax-h3",
    title="MiniMax H3 (video + audio)",
    denoiser="MiniMaxH3Transformer3DModel",
    encoders=(TextEncoder("text_encoder", "Qwen3VLModel", "Qwen2Tokenizer", 0,
                          "hidden state 50 of Qwen3-VL, the prompt verbatim (no template, no special tokens)",
                          "qwen3vl_32b"),),
    # a frame axis: each 17-frame VAE chunk makes 5 latent frames (the first of one frame, then four of 4)
    latent=LatentFormat(channels=24, scaling_factor=1.0, downscale=16, patch=2, temporal=4),
    prediction="flow",
    pipeline="MiniMaxH3ModularPipeline",
    config="minimax-h3",
    adapter="nodes.minimax_h3._family",
    vae="AutoencoderKLMiniMaxH3",
    sigmas="linspace",
    comfy_clip_types=("minimax",),
    comfy_shift=12.0,
    native_side=768,
    lora_loader="MiniMaxH3LoraLoaderMixin",
    pixel_stats=((0.485, 0.456, 0.406), (0.229, 0.224, 0.225)),
    audio_vae="AutoencoderKLMiniMaxH3Audio",
    notes=("guidance-distilled: one model call per step, no negative prompt",
           "one packed sequence [text | keyframes | audio | video]; video and audio step down their own "
           "schedules (shift 12 and 3), see nodes.minimax_h3._adapter"),
)

LTX2 = Family(
    name="ltx2",
    title="LTX-2",
    denoiser="LTX2VideoTransformer3DModel",
    encoders=(TextEncoder("text_encoder", "Gemma3ForConditionalGeneration", "GemmaTokenizerFast", 1024,
                          "every layer's hidden states of the left-padded prompt, stacked (the text connectors, "
                          "which the transformer carries, make the video's and the soundtrack's prompts of them)",
                          "gemma3_12b"),),
    # LTX-2's video VAE: 128 channels normalised per channel, 32x in space, 8 frames a latent frame
    latent=LatentFormat(channels=128, scaling_factor=1.0, downscale=32, patch=1, temporal=8),
    prediction="flow",
    pipeline="LTX2Pipeline",
    config="ltx2",
    adapter="nodes.ltx2._adapter",
    cfg="batched",
    vae="AutoencoderKLLTX2Video",
    sigmas="linspace",
    native_side=768,
    lora_loader="LTX2LoraLoaderMixin",
    mask_keeps_clean=True,
    # the video VAE's first decoder block, the vocoder's (LTX-2.0's, LTX-2.3's two-stage one): ComfyUI's tests
    vae_file_keys=("decoder.up_blocks.0.res_blocks.0.conv1.conv.weight", "vocoder.resblocks.0.convs1.0.weight"),
    # LTX-2.5's text encoder file (Gemma 4 with LTX's text projection), which Load CLIP reads by type ltxv
    comfy_clip_types=("ltxv",),
    notes=("the video and its soundtrack are denoised together (nodes.latent._streams); the diffusers "
           "convention follows LTX2Pipeline with one guidance scale for both, no STG, modality guidance or "
           "guidance rescale",),
)

VIDEO_FAMILIES: tuple[Family, ...] = (WAN, WAN22, MINIMAX_H3, LTX2)
