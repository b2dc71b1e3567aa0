"""Tiny random LTX-2.5 parts and the split files ComfyUI's LTX-2.5 templates load: the transformer (LTX-2.3's with
LTX-2.5's keyframe marker and no video feed-forward biases) with its text connectors, Gemma 4 (transformers'
Gemma4Unified at Gemma 4 12B's width and attention pattern: five sliding-window layers, then a full one that
shares keys and values) with LTX's text projection beside it, the video VAE, the audio VAE with its vocoder."""

from __future__ import annotations

from pathlib import Path

#: Gemma 4's layers in the tiny model (its real pattern's first period) and the width its projections take.
LAYERS, WIDTH = 6, 3840


def gemma4(vocab: int, seed: int = 0):
    """Gemma4UnifiedForConditionalGeneration (text only): the shipped Gemma 4 12B text config, 6 layers of 2 heads
    16 wide (the full-attention layer's 32 wide), feed-forward 64 wide, random weights."""
    import json

    import torch
    from transformers import Gemma4UnifiedConfig, Gemma4UnifiedForConditionalGeneration

    from nodeflow.core.paths import RESOURCES

    text = json.loads((RESOURCES / "configs" / "ltx2" / "text_encoder_gemma4" / "config.json").read_text("utf-8"))
    for key in ("architectures", "model_type"):
        text.pop(key)
    text |= dict(vocab_size=vocab, vocab_size_per_layer_input=vocab, hidden_size=WIDTH, intermediate_size=64,
                 num_hidden_layers=LAYERS, num_attention_heads=2, num_key_value_heads=1, head_dim=16,
                 global_head_dim=32, num_global_key_value_heads=1, layer_types=text["layer_types"][:LAYERS])
    torch.manual_seed(seed)
    return Gemma4UnifiedForConditionalGeneration(Gemma4UnifiedConfig(text_config=text)).eval()


def connectors():
    """LTX-2.3's (and 2.5's) text connectors over the tiny Gemma 4's stacked states."""
    from diffusers.pipelines.ltx2.connectors import LTX2TextConnectors
    from tiny_ltx2 import connectors_23

    config = {k: v for k, v in connectors_23().config.items() if not k.startswith("_")}
    return LTX2TextConnectors(**config | {"text_proj_in_factor": LAYERS + 1}).eval()


def transformer():
    """LTX-2.5's transformer: LTX-2.3's, no biases in the video feed-forward, the keyframe marker (random here)."""
    import torch
    from diffusers import LTX2VideoTransformer3DModel
    from tiny_ltx2 import transformer_23

    config = {k: v for k, v in transformer_23().config.items() if not k.startswith("_")}
    model = LTX2VideoTransformer3DModel(**config | {"ff_bias": False, "use_keyframes_abs_pos_embedding": True}).eval()
    with torch.no_grad():
        model.keyframes_abs_pos_embedding.normal_()
    return model


def build(folder: Path, seed: int = 0) -> Path:
    """A tiny LTX-2.5 LTX2Pipeline folder (the reference); returns it."""
    import torch
    from diffusers import FlowMatchEulerDiscreteScheduler, LTX2Pipeline
    from tiny_gemma3 import gemma_tokenizer
    from tiny_ltx2 import SCHEDULER, audio_parts, video_vae

    tokenizer = gemma_tokenizer()
    audio, vocoder = audio_parts(seed)
    text_encoder = gemma4(len(tokenizer), seed)
    torch.manual_seed(seed)
    LTX2Pipeline(scheduler=FlowMatchEulerDiscreteScheduler(**SCHEDULER), vae=video_vae(seed), audio_vae=audio,
                 tokenizer=tokenizer, vocoder=vocoder, text_encoder=text_encoder, connectors=connectors(),
                 transformer=transformer()).save_pretrained(folder)
    return folder


def write_files(folder: Path, root: Path, embed_tokenizer: bool = False) -> dict[str, Path]:
    """The pipeline's parts as ComfyUI's LTX-2.5 files: the transformer with its connectors (no projection), Gemma 4
    with LTX's text projection (its tokenizer beside it in tokenizer/, or carried as `tokenizer_json`), the video
    VAE (original names, no prefix) and the audio VAE with its vocoder."""
    import json

    import torch
    from diffusers import LTX2Pipeline
    from safetensors.torch import save_file
    from tiny_ltx2 import AUDIO_FILE_CONFIG, _original_transformer_key, _original_vae_key, original_audio_state

    pipe = LTX2Pipeline.from_pretrained(folder, local_files_only=True)
    transformer = {"model.diffusion_model." + _original_transformer_key(k): v
                   for k, v in pipe.transformer.state_dict().items()}
    text = {"model." + k: v for k, v in pipe.text_encoder.model.language_model.state_dict().items()}
    for key, value in pipe.connectors.state_dict().items():
        if key.startswith(("video_text_proj_in.", "audio_text_proj_in.")):
            stream, rest = key.split("_text_proj_in.")
            text[f"text_embedding_projection.{stream}_aggregate_embed.{rest}"] = value
            continue
        key = key.replace("video_connector.", "video_embeddings_connector.")
        key = key.replace("audio_connector.", "audio_embeddings_connector.").replace("transformer_blocks.",
                                                                                     "transformer_1d_blocks.")
        transformer["model.diffusion_model." + key.replace("norm_q", "q_norm").replace("norm_k", "k_norm")] = value
    encoders = root / "text_encoders"
    encoders.mkdir(parents=True, exist_ok=True)
    if embed_tokenizer:
        pipe.tokenizer.save_pretrained(root / "tokenizer_source")
        data = (root / "tokenizer_source" / "tokenizer.json").read_bytes()
        text["tokenizer_json"] = torch.frombuffer(bytearray(data), dtype=torch.uint8)
    else:
        pipe.tokenizer.save_pretrained(encoders / "tokenizer")
    files = {"unet": root / "ltx-2.5-tiny-transformer.safetensors",
             "clip": encoders / "gemma4-tiny-with-proj.safetensors",
             "video_vae": root / "ltx-2.5-tiny-video-vae.safetensors",
             "audio_vae": root / "ltx-2.5-tiny-audio-vae.safetensors"}
    for name, state in (("unet", transformer), ("clip", text),
                        ("video_vae", {_original_vae_key(k): v for k, v in pipe.vae.state_dict().items()}),
                        ("audio_vae", original_audio_state(pipe.audio_vae, pipe.vocoder))):
        save_file({k: v.contiguous().clone() for k, v in state.items()}, str(files[name]),
                  metadata={"config": json.dumps(AUDIO_FILE_CONFIG)} if name == "audio_vae" else None)
    return files
