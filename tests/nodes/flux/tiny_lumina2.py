"""A tiny random Lumina 2 written as a Lumina2Pipeline folder, and as ComfyUI keeps its files.

A 1+1-layer Lumina2 transformer with the real head width and rope axes (two 96-wide query heads, one
key/value head: the fused qkv of the original names is uneven, as the real one), a 2-layer Gemma 2
32 wide with the real 256-wide heads (what a lone file's tensors cannot say) and the real 8x
16-channel VAE at 32 channels a level (Lumina2Pipeline assumes an 8x VAE). The Gemma tokenizer is a
tiny BPE with Gemma's special tokens and byte fallback, built with `tokenizers`: Gemma's own is not
free to ship.
"""

from __future__ import annotations

from pathlib import Path

#: Lumina-Image 2.0's scheduler: a constant shift of 6.
LUMINA2_SCHEDULER = dict(num_train_timesteps=1000, shift=6.0, use_dynamic_shifting=False)
SYSTEM = "You are an assistant designed to generate superior images with the superior degree of image-text alignment"


def gemma_tokenizer(folder: Path | None = None):
    """A BPE over "▁"-joined words with byte fallback, <bos> first, Gemma's special token ids (pad 0,
    eos 1, bos 2, unk 3)."""
    from tokenizers import Tokenizer, decoders, models, normalizers, processors, trainers
    from transformers import GemmaTokenizer

    bpe = Tokenizer(models.BPE(byte_fallback=True, unk_token="<unk>"))
    bpe.normalizer = normalizers.Replace(" ", "\u2581")
    bpe.decoder = decoders.Sequence([decoders.Replace("\u2581", " "), decoders.ByteFallback(), decoders.Fuse()])
    trainer = trainers.BpeTrainer(vocab_size=300, special_tokens=["<pad>", "<eos>", "<bos>", "<unk>"])
    bpe.train_from_iterator([SYSTEM, "a red circle on a blue background <Prompt Start> a green square"], trainer)
    bpe.post_processor = processors.TemplateProcessing(single="<bos> $A", pair="<bos> $A <bos> $B",
                                                       special_tokens=[("<bos>", 2)])
    tokenizer = GemmaTokenizer(tokenizer_object=bpe, bos_token="<bos>", eos_token="<eos>", pad_token="<pad>",
                               unk_token="<unk>")
    if folder is not None:
        tokenizer.save_pretrained(folder)
    return tokenizer


def gemma_sentencepiece(vocab: int = 300) -> bytes:
    """A tiny SentencePiece BPE model as Gemma's is made (byte fallback, digits split, whitespace kept,
    ids pad 0, eos 1, bos 2, unk 3): what ComfyUI's Gemma files carry as their `spiece_model` tensor."""
    import io

    import sentencepiece

    model = io.BytesIO()
    sentencepiece.SentencePieceTrainer.train(
        sentence_iterator=iter([SYSTEM, "a red circle on a blue background <Prompt Start> a green square"] * 4),
        model_writer=model, model_type="bpe", vocab_size=vocab, hard_vocab_limit=False, byte_fallback=True,
        split_digits=True, allow_whitespace_only_pieces=True, remove_extra_whitespaces=False, add_dummy_prefix=False,
        normalization_rule_name="identity", pad_id=0, eos_id=1, bos_id=2, unk_id=3, pad_piece="<pad>",
        eos_piece="<eos>", bos_piece="<bos>", unk_piece="<unk>", minloglevel=2)
    return model.getvalue()


def with_sentencepiece(source: Path, target: Path, key: str) -> bytes:
    """`source` (a safetensors file) copied to `target` with a SentencePiece model added under `key`, as
    ComfyUI's files keep it; returns the model."""
    import torch
    from safetensors.torch import load_file, save_file

    model = gemma_sentencepiece()
    state = load_file(str(source))
    state[key] = torch.frombuffer(bytearray(model), dtype=torch.uint8).clone()
    target.parent.mkdir(parents=True, exist_ok=True)
    save_file(state, str(target))
    return model


def gemma2_encoder(dim: int = 32, layers: int = 2):
    """A Gemma2Model with Gemma 2 2B's heads, norms, rope and soft-capping (the shipped config's)."""
    from transformers import Gemma2Config, Gemma2Model

    return Gemma2Model(Gemma2Config(hidden_size=dim, intermediate_size=64, num_hidden_layers=layers,
                                    num_attention_heads=2, num_key_value_heads=1, head_dim=256, vocab_size=300,
                                    hidden_activation="gelu_pytorch_tanh", max_position_embeddings=8192,
                                    rms_norm_eps=1e-6, rope_theta=10000.0, query_pre_attn_scalar=256,
                                    sliding_window=4096, final_logit_softcapping=30.0, attn_logit_softcapping=50.0,
                                    pad_token_id=0, eos_token_id=1, bos_token_id=2))


def lumina2_transformer():
    from diffusers import Lumina2Transformer2DModel

    return Lumina2Transformer2DModel(sample_size=8, patch_size=2, in_channels=16, hidden_size=192, num_layers=1,
                                     num_refiner_layers=1, num_attention_heads=2, num_kv_heads=1,
                                     axes_dim_rope=(32, 32, 32), axes_lens=(300, 512, 512), cap_feat_dim=32)


def build_lumina2(folder: Path, *, seed: int = 0, scheduler: dict | None = None) -> Path:
    import torch
    from diffusers import FlowMatchEulerDiscreteScheduler, Lumina2Pipeline
    from tiny_flow import _randomize_zero_inits, _vae32

    torch.manual_seed(seed)
    transformer = lumina2_transformer()
    _randomize_zero_inits(transformer)
    pipe = Lumina2Pipeline(transformer=transformer,
                           scheduler=FlowMatchEulerDiscreteScheduler(**(scheduler or LUMINA2_SCHEDULER)),
                           vae=_vae32(0.1159, 0.3611), text_encoder=gemma2_encoder(),
                           tokenizer=gemma_tokenizer(folder / "tokenizer"))
    pipe.save_pretrained(folder)
    return folder


def comfyui_transformer_state(state: dict) -> dict:
    """diffusers' Lumina 2 names -> the original ones ComfyUI's files keep (fused qkv, `out`, `w1`...)."""
    import torch

    names = (("time_caption_embed.caption_embedder.", "cap_embedder."),
             ("time_caption_embed.timestep_embedder.linear_1.", "t_embedder.mlp.0."),
             ("time_caption_embed.timestep_embedder.linear_2.", "t_embedder.mlp.2."),
             ("norm_out.linear_1.", "final_layer.adaLN_modulation.1."), ("norm_out.linear_2.", "final_layer.linear."),
             (".norm1.linear.", ".adaLN_modulation.1."), (".norm1.norm.", ".attention_norm1."),
             (".norm2.", ".attention_norm2."), (".attn.to_out.0.", ".attention.out."),
             (".attn.norm_q.", ".attention.q_norm."), (".attn.norm_k.", ".attention.k_norm."),
             (".feed_forward.linear_1.", ".feed_forward.w1."), (".feed_forward.linear_2.", ".feed_forward.w2."),
             (".feed_forward.linear_3.", ".feed_forward.w3."))
    out = {}
    for key, value in state.items():
        if ".attn.to_k." in key or ".attn.to_v." in key:
            continue
        new = key
        for a, b in names:
            new = new.replace(a, b)
        if "context_refiner." in key:  # its blocks have no modulation: a bare norm1
            new = new.replace(".norm1.", ".attention_norm1.")
        if ".attn.to_q." in key:
            value = torch.cat([value, state[key.replace("to_q", "to_k")], state[key.replace("to_q", "to_v")]])
            new = new.replace(".attn.to_q.", ".attention.qkv.")
        out[new] = value
    return out


def comfyui_files(folder: Path, out: Path) -> dict[str, Path]:
    """The tiny model as ComfyUI users hold it: diffusion_models/ (original names), text_encoders/ (Gemma 2
    in its checkpoint names, `model.` first, its tokenizer beside it) and the NetaYume-style all-in-one
    checkpoint (model.diffusion_model., text_encoders.gemma2_2b.transformer.model., vae. in the original
    names), its tokenizer beside it as <stem>.tokenizer."""
    import shutil

    import torch
    from diffusers import AutoencoderKL, Lumina2Transformer2DModel
    from ldm_format import _convert_vae
    from safetensors.torch import save_file
    from transformers import Gemma2Model

    transformer = comfyui_transformer_state(Lumina2Transformer2DModel.from_pretrained(folder / "transformer")
                                            .state_dict())
    encoder = {"model." + k: v for k, v in Gemma2Model.from_pretrained(folder / "text_encoder").state_dict().items()}
    vae = AutoencoderKL.from_pretrained(folder / "vae")
    files = {"unet": out / "diffusion_models" / "lumina_2_model.safetensors",
             "clip": out / "text_encoders" / "gemma_2_2b.safetensors",
             "checkpoint": out / "checkpoints" / "NetaYume_all_in_one.safetensors"}
    for path in files.values():
        path.parent.mkdir(parents=True, exist_ok=True)
    save_file({k: v.contiguous() for k, v in transformer.items()}, str(files["unet"]))
    save_file({k: v.contiguous() for k, v in encoder.items()}, str(files["clip"]))
    shutil.copytree(folder / "tokenizer", files["clip"].parent / "tokenizer")
    whole = {"model.diffusion_model." + k: v for k, v in transformer.items()}
    whole |= {"text_encoders.gemma2_2b.transformer." + k: v for k, v in encoder.items()}
    whole |= {"vae." + k.removeprefix("first_stage_model."): v
              for k, v in _convert_vae(vae.state_dict(), dict(vae.config)).items()}
    whole["text_encoders.gemma2_2b.logit_scale"] = torch.tensor(4.6055)
    save_file({k: v.contiguous() for k, v in whole.items()}, str(files["checkpoint"]))
    shutil.copytree(folder / "tokenizer", files["checkpoint"].parent / "NetaYume_all_in_one.tokenizer")
    return files
