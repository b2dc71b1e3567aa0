"""Tiny random LTX-2 parts, built from configs: the audio VAE and vocoder (16 mel bins, 4 latent
channels, so a packed audio token has the 16 features its statistics cover, as the real 8 x 16 = 128)."""

from __future__ import annotations

AUDIO_VAE = dict(base_channels=16, output_channels=2, ch_mult=(1, 2, 4), num_res_blocks=1, in_channels=2,
                 latent_channels=4, mel_bins=16, sample_rate=16000, mel_hop_length=160)
VOCODER = dict(in_channels=32, hidden_channels=16, out_channels=2, upsample_kernel_sizes=[4, 4],
               upsample_factors=[2, 2], resnet_kernel_sizes=[3], resnet_dilations=[[1, 3]],
               output_sampling_rate=24000)


def audio_parts(seed: int = 0):
    """(AutoencoderKLLTX2Audio, LTX2Vocoder), random, in eval mode, with non-trivial latent statistics."""
    import torch
    from diffusers import AutoencoderKLLTX2Audio
    from diffusers.pipelines.ltx2.vocoder import LTX2Vocoder

    torch.manual_seed(seed)
    vae = AutoencoderKLLTX2Audio(**AUDIO_VAE).eval()
    with torch.no_grad():
        vae.latents_mean.copy_(torch.randn_like(vae.latents_mean) * 0.1)
        vae.latents_std.copy_(torch.rand_like(vae.latents_std) + 0.5)
    return vae, LTX2Vocoder(**VOCODER).eval()


def audio_vae(seed: int = 0):
    """The parts as NodeFlow's AudioVae value (CPU, float32)."""
    import torch

    from nodes.values import AudioVae

    vae, vocoder = audio_parts(seed)
    return AudioVae(vae, vocoder, "cpu", torch.float32)


#: The tiny parts' architecture as LTX-2's files record it in their `config` metadata (ComfyUI's reading).
AUDIO_FILE_CONFIG = {
    "audio_vae": {"model": {"params": {"sampling_rate": 16000,
                                       "ddconfig": {"mel_bins": 16, "causality_axis": "height"}}},
                  "preprocessing": {"stft": {"hop_length": 160}}},
    "vocoder": {"upsample_rates": [2, 2], "upsample_kernel_sizes": [4, 4], "resblock_kernel_sizes": [3],
                "resblock_dilation_sizes": [[1, 3]], "upsample_initial_channel": 16, "stereo": True,
                "output_sample_rate": 24000},
}


def original_audio_state(vae, vocoder) -> dict:
    """The parts' weights as an LTX-2 checkpoint keeps them (original names under audio_vae. / vocoder.)."""
    state = {}
    for key, value in vae.state_dict().items():
        key = key.replace("latents_mean", "per_channel_statistics.mean-of-means")
        state["audio_vae." + key.replace("latents_std", "per_channel_statistics.std-of-means")] = value
    names = (("conv_in.", "conv_pre."), ("conv_out.", "conv_post."), ("upsamplers.", "ups."),
             ("resnets.", "resblocks."))
    for key, value in vocoder.state_dict().items():
        for new, old in names:
            key = old + key[len(new):] if key.startswith(new) else key
        state["vocoder." + key] = value
    return {k: v.contiguous().clone() for k, v in state.items()}


def write_audio_file(path, seed: int = 0, metadata: bool = True):
    """An LTX-2-style .safetensors holding the tiny audio VAE and vocoder; returns (path, vae, vocoder)."""
    import json

    from safetensors.torch import save_file

    vae, vocoder = audio_parts(seed)
    save_file(original_audio_state(vae, vocoder), str(path),
              metadata={"config": json.dumps(AUDIO_FILE_CONFIG)} if metadata else None)
    return path, vae, vocoder



#: LTX-2's video VAE with its real 32x / 8x compression and 128 latent channels, its levels 4 to 32 wide.
VIDEO_VAE = dict(latent_channels=128, block_out_channels=(4, 8, 16, 32), decoder_block_out_channels=(8, 16, 32),
                 layers_per_block=(1, 1, 1, 1, 1), decoder_layers_per_block=(1, 1, 1, 1),
                 spatial_compression_ratio=32, temporal_compression_ratio=8, decoder_causal=False)
#: LTX-2's published scheduler (FlowMatchEulerDiscreteScheduler with its dynamic shift).
SCHEDULER = dict(num_train_timesteps=1000, shift=1.0, use_dynamic_shifting=True, base_shift=0.95, max_shift=2.05,
                 base_image_seq_len=1024, max_image_seq_len=4096, shift_terminal=0.1, time_shift_type="exponential")
GEMMA_WIDTH, GEMMA_LAYERS, GEMMA_VOCAB = 128, 2, 320
LENGTH = 32  # the tokenizer's window (the pipeline's max_sequence_length is capped by it in the tests)


def video_vae(seed: int = 0):
    """AutoencoderKLLTX2Video, random, with non-trivial latent statistics."""
    import torch
    from diffusers import AutoencoderKLLTX2Video

    torch.manual_seed(seed)
    vae = AutoencoderKLLTX2Video(**VIDEO_VAE).eval()
    with torch.no_grad():
        vae.latents_mean.copy_(torch.randn_like(vae.latents_mean) * 0.1)
        vae.latents_std.copy_(torch.rand_like(vae.latents_std) + 0.5)
    return vae


def gemma_tokenizer(folder=None):
    """A Gemma-style tokenizer (BPE over bytes of letters and a few words; <bos> first, left padding)."""
    import string

    from tokenizers import Tokenizer, models, pre_tokenizers, processors
    from transformers import GemmaTokenizerFast

    words = ["<pad>", "<eos>", "<bos>", "<unk>"] + list(string.ascii_lowercase + string.digits + " ,.!?'-")
    words += ["\u2581" + c for c in string.ascii_lowercase]
    vocab = {w: i for i, w in enumerate(words)}
    model = Tokenizer(models.WordPiece(vocab, unk_token="<unk>", max_input_chars_per_word=100))
    model.pre_tokenizer = pre_tokenizers.Split("", "isolated")
    model.post_processor = processors.TemplateProcessing(single="<bos> $A", pair="<bos> $A $B",
                                                         special_tokens=[("<bos>", 2)])
    tokenizer = GemmaTokenizerFast(tokenizer_object=model, bos_token="<bos>", eos_token="<eos>",
                                   unk_token="<unk>", pad_token="<pad>", model_max_length=LENGTH,
                                   padding_side="left")
    if folder is not None:
        tokenizer.save_pretrained(folder)
    return tokenizer


def gemma(width: int = GEMMA_WIDTH):
    """Gemma3ForConditionalGeneration: a 2-layer language model 32 wide with Gemma 3 12B's rope, norms and
    attention pattern (the shipped config's), and a 1-layer vision tower."""
    import json

    from transformers import Gemma3Config, Gemma3ForConditionalGeneration

    from nodeflow.core.paths import RESOURCES

    text = json.loads((RESOURCES / "configs" / "ltx2" / "text_encoder" / "config.json").read_text("utf-8"))
    text |= dict(vocab_size=GEMMA_VOCAB, hidden_size=width, intermediate_size=64, num_hidden_layers=GEMMA_LAYERS,
                 num_attention_heads=2, num_key_value_heads=1, head_dim=16,
                 layer_types=text["layer_types"][:GEMMA_LAYERS])
    for key in ("architectures", "model_type", "_name_or_path"):
        text.pop(key, None)
    vision = dict(hidden_size=16, intermediate_size=32, num_hidden_layers=1, num_attention_heads=2, image_size=28,
                  patch_size=14)
    config = Gemma3Config(text_config=text, vision_config=vision, mm_tokens_per_image=4,
                          image_token_index=GEMMA_VOCAB - 1, boi_token_index=GEMMA_VOCAB - 2,
                          eoi_token_index=GEMMA_VOCAB - 3)
    return Gemma3ForConditionalGeneration(config).eval()


def write_gemma_file(model, path):
    """The language model of a Gemma3ForConditionalGeneration as ComfyUI's text encoder files keep it (the
    original model.* names) with a SentencePiece model as `spiece_model`; returns the path."""
    import importlib.util
    from pathlib import Path

    import torch
    from safetensors.torch import save_file

    # the tiny Gemma SentencePiece model the Lumina 2 tests make (tests/nodes/flux/tiny_lumina2.py)
    source = Path(__file__).parents[1] / "flux" / "tiny_lumina2.py"
    found = importlib.util.spec_from_file_location("tiny_lumina2", source)
    lumina2 = importlib.util.module_from_spec(found)
    found.loader.exec_module(lumina2)
    state = {"model." + k: v.contiguous().clone() for k, v in model.model.language_model.state_dict().items()}
    state["spiece_model"] = torch.frombuffer(bytearray(lumina2.gemma_sentencepiece()), dtype=torch.uint8).clone()
    save_file(state, str(path))
    return path


def connectors():
    """LTX-2.0's text connectors over the tiny Gemma's stacked states (layers + embeddings): one head of the
    real 128 width each, so a file of them loads with the shipped head widths."""
    from diffusers.pipelines.ltx2.connectors import LTX2TextConnectors

    return LTX2TextConnectors(caption_channels=GEMMA_WIDTH, text_proj_in_factor=GEMMA_LAYERS + 1,
                              video_connector_num_attention_heads=1, video_connector_attention_head_dim=128,
                              video_connector_num_layers=1, video_connector_num_learnable_registers=8,
                              audio_connector_num_attention_heads=1, audio_connector_attention_head_dim=128,
                              audio_connector_num_layers=1, audio_connector_num_learnable_registers=8,
                              rope_type="split").eval()


def transformer():
    """LTX2VideoTransformer3DModel: one block, one video head of the real 128 width and one audio head of 64,
    real channel counts (so a file of it loads with the shipped head widths)."""
    from diffusers import LTX2VideoTransformer3DModel

    return LTX2VideoTransformer3DModel(in_channels=128, out_channels=128, num_attention_heads=1, attention_head_dim=128,
                                       cross_attention_dim=128, audio_in_channels=16, audio_out_channels=16,
                                       audio_num_attention_heads=1, audio_attention_head_dim=64,
                                       audio_cross_attention_dim=64, num_layers=1, caption_channels=GEMMA_WIDTH,
                                       audio_sampling_rate=16000, audio_hop_length=160, rope_type="split").eval()


#: LTX-2.3's text side: Gemma 3 12B's width (which its per-stream projections are made for), 1 layer of each.
GEMMA_23_WIDTH = 3840


def connectors_23():
    """LTX-2.3's text connectors: a projection per stream (with biases) from Gemma's real width, gated
    attention, one head of the real 128 (video) and 64 (sound) widths."""
    from diffusers.pipelines.ltx2.connectors import LTX2TextConnectors

    return LTX2TextConnectors(caption_channels=GEMMA_23_WIDTH, text_proj_in_factor=GEMMA_LAYERS + 1,
                              video_connector_num_attention_heads=1, video_connector_attention_head_dim=128,
                              video_connector_num_layers=1, video_connector_num_learnable_registers=8,
                              video_gated_attn=True, audio_connector_num_attention_heads=1,
                              audio_connector_attention_head_dim=64, audio_connector_num_layers=1,
                              audio_connector_num_learnable_registers=8, audio_gated_attn=True,
                              per_modality_projections=True, video_hidden_dim=128, audio_hidden_dim=64,
                              proj_bias=True, rope_type="split").eval()


def transformer_23():
    """LTX-2.3's transformer: gated attention and prompt modulation in both streams, no caption projection."""
    from diffusers import LTX2VideoTransformer3DModel

    return LTX2VideoTransformer3DModel(in_channels=128, out_channels=128, num_attention_heads=1, attention_head_dim=128,
                                       cross_attention_dim=128, audio_in_channels=16, audio_out_channels=16,
                                       audio_num_attention_heads=1, audio_attention_head_dim=64,
                                       audio_cross_attention_dim=64, num_layers=1, gated_attn=True,
                                       cross_attn_mod=True, audio_gated_attn=True, audio_cross_attn_mod=True,
                                       use_prompt_embeddings=False, audio_sampling_rate=16000, audio_hop_length=160,
                                       rope_type="split").eval()


def build_ltx2(folder, seed: int = 0, version: str = "2.0"):
    """Write a tiny LTX2Pipeline folder of LTX-2.0's or LTX-2.3's transformer and text side; returns it."""
    import torch
    from diffusers import FlowMatchEulerDiscreteScheduler, LTX2Pipeline

    torch.manual_seed(seed)
    audio, vocoder = audio_parts(seed)
    torch.manual_seed(seed)
    pipe = LTX2Pipeline(scheduler=FlowMatchEulerDiscreteScheduler(**SCHEDULER), vae=video_vae(seed),
                        audio_vae=audio, tokenizer=gemma_tokenizer(), vocoder=vocoder,
                        **(dict(text_encoder=gemma(), connectors=connectors(), transformer=transformer())
                           if version == "2.0" else
                           dict(text_encoder=gemma(GEMMA_23_WIDTH), connectors=connectors_23(),
                                transformer=transformer_23())))
    pipe.save_pretrained(folder)
    return folder


def write_upsampler_file(path, seed: int = 0, metadata: bool = False):
    """A tiny x2 LTX-2 latent upscaler (128 channels, 32 wide, one block a stage) as ComfyUI keeps it:
    a .safetensors without the fixed blur kernel; returns (path, model)."""
    import json

    import torch
    from diffusers.pipelines.ltx2.latent_upsampler import LTX2LatentUpsamplerModel
    from safetensors.torch import save_file

    torch.manual_seed(seed)
    model = LTX2LatentUpsamplerModel(in_channels=128, mid_channels=32, num_blocks_per_stage=1).eval()
    state = {k: v.contiguous().clone() for k, v in model.state_dict().items() if not k.endswith("blur_down.kernel")}
    save_file(state, str(path), metadata={"config": json.dumps({"rational_spatial_scale": 2.0})} if metadata else None)
    return path, model


#: diffusers' transformer names -> LTX-2's original ones (the inverse of diffusers' single-file converter).
_TRANSFORMER_ORIGINAL = (("av_cross_attn_video_scale_shift", "av_ca_video_scale_shift_adaln_single"),
                         ("av_cross_attn_video_a2v_gate", "av_ca_a2v_gate_adaln_single"),
                         ("av_cross_attn_audio_scale_shift", "av_ca_audio_scale_shift_adaln_single"),
                         ("av_cross_attn_audio_v2a_gate", "av_ca_v2a_gate_adaln_single"),
                         ("video_a2v_cross_attn_scale_shift_table", "scale_shift_table_a2v_ca_video"),
                         ("audio_a2v_cross_attn_scale_shift_table", "scale_shift_table_a2v_ca_audio"),
                         ("norm_q", "q_norm"), ("norm_k", "k_norm"),
                         ("audio_prompt_adaln.", "audio_prompt_adaln_single."))
_TOP_ORIGINAL = (("audio_proj_in.", "audio_patchify_proj."), ("proj_in.", "patchify_proj."),
                 ("audio_time_embed.", "audio_adaln_single."), ("time_embed.", "adaln_single."))


def _original_transformer_key(key: str) -> str:
    key = "prompt_adaln_single." + key[len("prompt_adaln."):] if key.startswith("prompt_adaln.") else key
    for new, old in _TOP_ORIGINAL:
        if key.startswith(new):
            key = old + key[len(new):]
            break
    for new, old in _TRANSFORMER_ORIGINAL:
        key = key.replace(new, old)
    return key


def _original_vae_key(key: str) -> str:
    """diffusers' video VAE names -> LTX-2's (levels and their resamplers numbered in one sequence)."""
    import re

    rules = ((r"^encoder\.down_blocks\.(\d+)\.downsamplers\.0\.", lambda i: f"encoder.down_blocks.{2 * i + 1}."),
             (r"^encoder\.down_blocks\.(\d+)\.", lambda i: f"encoder.down_blocks.{2 * i}."),
             (r"^encoder\.mid_block\.", lambda i: "encoder.down_blocks.8."),
             (r"^decoder\.mid_block\.", lambda i: "decoder.up_blocks.0."),
             (r"^decoder\.up_blocks\.(\d+)\.upsamplers\.0\.", lambda i: f"decoder.up_blocks.{2 * i + 1}."),
             (r"^decoder\.up_blocks\.(\d+)\.", lambda i: f"decoder.up_blocks.{2 * i + 2}."))
    for pattern, name in rules:
        found = re.match(pattern, key)
        if found:
            key = name(int(found[1]) if found.groups() else 0) + key[found.end():]
            break
    key = key.replace(".resnets.", ".res_blocks.").replace("latents_mean", "per_channel_statistics.mean-of-means")
    return key.replace("latents_std", "per_channel_statistics.std-of-means")


def write_checkpoint_file(folder, path):
    """The tiny pipeline folder's transformer, connectors, video VAE, audio VAE and vocoder as one LTX-2
    checkpoint in LTX-2's original names (ComfyUI's all-in-one layout); returns the path."""
    from diffusers import LTX2Pipeline
    from safetensors.torch import save_file

    pipe = LTX2Pipeline.from_pretrained(folder, local_files_only=True)
    state = {"model.diffusion_model." + _original_transformer_key(k): v
             for k, v in pipe.transformer.state_dict().items()}
    for key, value in pipe.connectors.state_dict().items():
        projection = {"text_proj_in.": "aggregate_embed.", "video_text_proj_in.": "video_aggregate_embed.",
                      "audio_text_proj_in.": "audio_aggregate_embed."}
        found = next((p for p in projection if key.startswith(p)), None)
        if found is not None:
            state["text_embedding_projection." + projection[found] + key[len(found):]] = value
            continue
        key = key.replace("video_connector.", "video_embeddings_connector.")
        key = key.replace("audio_connector.", "audio_embeddings_connector.").replace("transformer_blocks.",
                                                                                     "transformer_1d_blocks.")
        state["model.diffusion_model." + key.replace("norm_q", "q_norm").replace("norm_k", "k_norm")] = value
    state |= {"vae." + _original_vae_key(k): v for k, v in pipe.vae.state_dict().items()}
    state |= original_audio_state(pipe.audio_vae, pipe.vocoder)
    save_file({k: v.contiguous().clone() for k, v in state.items()}, str(path),
              metadata={"config": __import__("json").dumps(AUDIO_FILE_CONFIG)})
    return path


def write_lora_file(path, seed: int = 0):
    """A tiny LTX-2 LoRA as LTX-2's trainers and ComfyUI keep them (diffusion_model. prefix, lora_A / lora_B),
    on one video and one audio attention layer of the tiny transformer; returns (path, weights)."""
    import torch
    from safetensors.torch import save_file

    generator = torch.Generator().manual_seed(seed)
    layers = {"transformer_blocks.0.attn1.to_q": 128, "transformer_blocks.0.audio_attn1.to_k": 64}
    weights = {}
    for layer, width in layers.items():
        weights[f"diffusion_model.{layer}.lora_A.weight"] = torch.randn(4, width, generator=generator) * 0.1
        weights[f"diffusion_model.{layer}.lora_B.weight"] = torch.randn(width, 4, generator=generator) * 0.1
    save_file(weights, str(path))
    return path, weights


def build_ltx23_chat(folder):
    """A tiny LTX-2.3 pipeline folder whose Gemma can also chat (tiny_gemma3's tokenizer with Gemma's turn tokens
    and a vision tower, Gemma 3 12B's width that LTX-2.3's projections take), as LTX-2.3's templates use it to
    write their prompts; returns (folder, the Gemma model, its tokenizer)."""
    import torch
    from diffusers import FlowMatchEulerDiscreteScheduler, LTX2Pipeline
    from tiny_gemma3 import CONFIGS, VISION, gemma_tokenizer
    from transformers import Gemma3Config, Gemma3ForConditionalGeneration, Gemma3TextConfig

    tokenizer = gemma_tokenizer()
    text = Gemma3TextConfig.from_pretrained(CONFIGS / "ltx2" / "text_encoder")
    text.vocab_size, text.hidden_size, text.intermediate_size = len(tokenizer), GEMMA_23_WIDTH, 64
    text.num_hidden_layers, text.num_attention_heads, text.num_key_value_heads, text.head_dim = GEMMA_LAYERS, 2, 1, 16
    text.layer_types = text.layer_types[:GEMMA_LAYERS]
    torch.manual_seed(0)
    gemma_model = Gemma3ForConditionalGeneration(Gemma3Config(text_config=text.to_dict(), vision_config=VISION,
                                                               mm_tokens_per_image=256)).eval()
    audio, vocoder = audio_parts(0)
    LTX2Pipeline(scheduler=FlowMatchEulerDiscreteScheduler(**SCHEDULER), vae=video_vae(0), audio_vae=audio,
                 tokenizer=tokenizer, vocoder=vocoder, text_encoder=gemma_model, connectors=connectors_23(),
                 transformer=transformer_23()).save_pretrained(folder)
    return folder, gemma_model, tokenizer
