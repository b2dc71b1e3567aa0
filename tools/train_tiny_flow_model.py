"""Train NodeFlow's second built-in model, tiny-shapes-flow: a Flux-shaped flow-matching transformer
on the procedural shapes of `tools/shapes_dataset.py` (CPU, under 2 hours on 2 cores).

Not imported by the app. Produces a diffusers folder that FluxPipeline (text to image, image to
image) and FluxKontextPipeline (editing with a reference picture) load offline, the same weights:

    resources/models/tiny-shapes-flow/
        model_index.json  transformer/  vae/  text_encoder/  tokenizer/  text_encoder_2/  tokenizer_2/
        scheduler/  README.md  training.json

Stock classes only: FluxTransformer2DModel (no guidance embedding: true classifier-free guidance
with an empty negative prompt), AutoencoderKL (16 latent channels at factor 4), CLIPTextModel and
its tokenizer from tiny-shapes (fine-tuned here), a small T5EncoderModel with a word-level
T5TokenizerFast built with `tokenizers` from the caption grammar, FlowMatchEulerDiscreteScheduler.
Both tokenizers stop at 16 tokens, so the pipelines are called with `max_sequence_length=16`.

Stages (each resumable from `--work`, default build/train-flow/), sharing train_tiny_model's:
  1. data     pictures 0..N/2 and their "recoloured twins" (same picture, another shape colour)
  2. vae      AutoencoderKL 64x64x3 -> 16x16x16 (train_tiny_model.stage_vae with this config)
  3. latents  every picture encoded once; scaling and shift factors from their statistics
  4. flow     transformer + both text encoders: x_t = (1 - t) x0 + t noise, target noise - x0,
              t logit-normal with a uniform share; 10% empty captions; a share of the steps are
              Kontext edits (the twin as reference, the caption of the picture to draw); EMA weights
  5. samples  latents the finished transformer denoises itself: pictures noised to a level of the
              20-step schedule at or below --sample-t, then Euler steps to 0 at cfg 5, as sampling ends
  6. decoder  the VAE decoder fine-tuned alone (train_tiny_model's) on the cached latents and those
              samples, colour edges weighted: it learns to draw clean shapes from sampling's latents
  7. export   the diffusers folder

    .venv/bin/python tools/train_tiny_flow_model.py                # the shipped recipe's first run, about 2 hours
    .venv/bin/python tools/train_tiny_flow_model.py --minutes 2 --images 512 --decoder-samples 64 --work build/flow-smoke \\
        --out build/flow-smoke/model                           # smoke run
    .venv/bin/python tools/train_tiny_flow_model.py --init-from resources/models/tiny-shapes-flow --work build/train-flow-2 \\
        --minutes 100 --vae-share 0 --flow-share 0.9 --decoder-share 0.08 --lr 5e-4  # train the shipped model on
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import sys
import time
from pathlib import Path

os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
os.environ.setdefault("DIFFUSERS_VERBOSITY", "error")

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from tqdm import tqdm  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
import shapes_dataset as shapes  # noqa: E402
import train_tiny_model as base  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
TINY_SHAPES = ROOT / "resources/models/tiny-shapes"
Stop = base.Stop  # one stop flag for every stage (SIGINT/SIGTERM: save, then exit)
MAX_TOKENS = base.MAX_TOKENS  # both tokenizers: the longest caption is 11 words + end (+ start for CLIP)

VAE_CONFIG = {**base.VAE_CONFIG, "latent_channels": 16}
HEAD_DIM = 32
TRANSFORMER_CONFIG = dict(
    patch_size=1,
    in_channels=64,  # 16 latent channels x 2x2 cells per token (FluxPipeline._pack_latents)
    out_channels=64,
    num_layers=2,
    num_single_layers=2,
    attention_head_dim=HEAD_DIM,
    num_attention_heads=4,
    joint_attention_dim=64,  # the T5's width
    pooled_projection_dim=64,  # the CLIP's width
    guidance_embeds=False,
    axes_dims_rope=(8, 12, 12),  # (reference index, row, column): sums to HEAD_DIM
)
T5_CONFIG = dict(d_model=64, d_ff=128, d_kv=16, num_heads=4, num_layers=2, feed_forward_proj="gated-gelu",
                 relative_attention_num_buckets=8, relative_attention_max_distance=MAX_TOKENS, dropout_rate=0.0,
                 decoder_start_token_id=0, pad_token_id=0, eos_token_id=1)
# 64 tokens per picture: no resolution-dependent shift. A constant shift 2 (as SD3's 3) spends more of the
# 20 Euler steps at high noise, where the picture's layout is decided: on the shipped weights, 240 pictures
# at cfg 5, background 100% (shift 1: 98.3%) and shape 90.4% (89.6%); shift 3 drew fewer shapes right.
SCHEDULER_CONFIG = dict(num_train_timesteps=1000, shift=2.0, use_dynamic_shifting=False)


# --------------------------------------------------------------------------------------- tokenizers
def write_t5_tokenizer(folder: Path):
    """A T5TokenizerFast (Unigram over Metaspace pieces, as T5's sentencepiece) in which every grammar
    word is one piece; other words fall back to letters. `</s>` ends every text, as in T5."""
    import string

    from transformers import T5TokenizerFast

    words = shapes.vocabulary()
    vocab = [("<pad>", 0.0), ("</s>", 0.0), ("<unk>", 0.0)]
    vocab += [("\u2581" + w, -1.0) for w in words]
    vocab += [("\u2581" + c, -4.0) for c in string.ascii_lowercase if c not in words]
    vocab += [(c, -5.0) for c in string.ascii_lowercase + string.digits]
    tokenizer = T5TokenizerFast(vocab=vocab, extra_ids=0, model_max_length=MAX_TOKENS)
    tokenizer.save_pretrained(folder)
    tokenizer = T5TokenizerFast.from_pretrained(folder)
    for i, word in enumerate(words):
        assert tokenizer(word).input_ids == [3 + i, 1], (word, tokenizer(word).input_ids)
    return tokenizer


def tokenizers(work: Path):
    """(CLIP tokenizer folder, T5 tokenizer folder) in `work`: tiny-shapes' CLIP one, the T5 one built here."""
    from transformers import CLIPTokenizer

    clip_dir, t5_dir = work / "tokenizer", work / "tokenizer_2"
    shutil.rmtree(clip_dir, ignore_errors=True)
    shutil.copytree(TINY_SHAPES / "tokenizer", clip_dir)
    return CLIPTokenizer.from_pretrained(clip_dir), write_t5_tokenizer(t5_dir), clip_dir, t5_dir


# --------------------------------------------------------------------------------------------- data
def twin_labels(labels: dict, seed: int) -> dict:
    """The same picture with the shape in another colour that still stands out from the background."""
    rng = random.Random(f"twin-{seed}")
    backgrounds = [labels["background"], labels["background2"]]
    options = [c for c in shapes.COLOURS if c != labels["colour"]
               and all(b is None or shapes._contrasts(c, b) for b in backgrounds)]
    return {**labels, "colour": rng.choice(options)}


def stage_data(work: Path, count: int) -> tuple[np.ndarray, list[dict]]:
    """`count` pictures: seeds 0..count/2 and then their twins (picture i + count/2 is i's twin)."""
    half = count // 2
    originals = [shapes.labels_for_seed(seed) for seed in range(half)]
    labels = originals + [twin_labels(lab, seed) for seed, lab in enumerate(originals)]
    path = work / "data.npz"
    if path.exists():
        images = np.load(path)["images"]
        if len(images) == len(labels):
            return images, labels
    images = np.stack([np.asarray(shapes.render(lab)) for lab in tqdm(labels, desc="data", ncols=90, mininterval=5)])
    np.savez(path, images=images)
    return images, labels


# ------------------------------------------------------------------------------------------- models
def build_models(t5_tokenizer):
    from diffusers import FluxTransformer2DModel
    from transformers import CLIPTextModel, T5Config, T5EncoderModel

    transformer = zero_init(FluxTransformer2DModel(**TRANSFORMER_CONFIG))
    clip = CLIPTextModel.from_pretrained(TINY_SHAPES / "text_encoder")
    t5 = T5EncoderModel(T5Config(vocab_size=len(t5_tokenizer.get_vocab()), **T5_CONFIG))
    return transformer, clip, t5


def zero_init(transformer):
    """adaLN-Zero (DiT): every block's gates and the output layer start at zero, so each block starts as
    the identity and the model's first prediction is 0; a stock Flux transformer starts with random
    gates, which on this budget cost the first thousands of steps."""
    with torch.no_grad():
        for block in (*transformer.transformer_blocks, *transformer.single_transformer_blocks):
            for norm in (getattr(block, "norm1", None), getattr(block, "norm1_context", None),
                         getattr(block, "norm", None)):
                if norm is not None:
                    norm.linear.weight.zero_()
                    norm.linear.bias.zero_()
        for layer in (transformer.norm_out.linear, transformer.proj_out):
            layer.weight.zero_()
            layer.bias.zero_()
    return transformer


def load_exported(model: Path, transformer, clip, t5) -> None:
    """Start from an exported model's transformer and text encoders (`--init-from`)."""
    from diffusers import FluxTransformer2DModel
    from transformers import CLIPTextModel, T5EncoderModel

    for module, cls, part in ((transformer, FluxTransformer2DModel, "transformer"), (clip, CLIPTextModel, "text_encoder"),
                              (t5, T5EncoderModel, "text_encoder_2")):
        module.load_state_dict(cls.from_pretrained(model / part).state_dict())


def is_exported_flow_model(model: Path) -> bool:
    """Whether `model` is a folder this script exported (what `--init-from` can start from)."""
    try:
        index = json.loads((model / "model_index.json").read_text())
    except (OSError, ValueError):
        return False
    parts = ("transformer", "vae", "text_encoder", "text_encoder_2")
    return index.get("_class_name") == "FluxPipeline" and all((model / p / "config.json").is_file() for p in parts)


def seed_vae_stage(work: Path, model: Path) -> None:
    """`--init-from`: the exported model's VAE (its encoder, so the latent space its transformer learnt,
    and its fine-tuned decoder) becomes the finished VAE stage; the decoder stage tunes on from it."""
    from diffusers import AutoencoderKL

    if (work / "vae.pt").exists():
        return
    vae = AutoencoderKL(**VAE_CONFIG)
    vae.load_state_dict(AutoencoderKL.from_pretrained(model / "vae").state_dict())
    base.save_atomic({"model": vae.state_dict(), "opt": torch.optim.AdamW(vae.parameters()).state_dict(),
                      "step": 0, "elapsed": 0.0, "done": True}, work / "vae.pt")


def pack(latents: torch.Tensor) -> torch.Tensor:
    from diffusers import FluxPipeline

    b, c, h, w = latents.shape
    return FluxPipeline._pack_latents(latents, b, c, h, w)


def token_ids(h: int, w: int, index: int = 0) -> torch.Tensor:
    """Position ids of a picture's tokens (FluxPipeline's; reference pictures have first id 1, as Kontext)."""
    from diffusers import FluxPipeline

    ids = FluxPipeline._prepare_latent_image_ids(1, h // 2, w // 2, "cpu", torch.float32)
    ids[..., 0] = index
    return ids


def encode_text(clip, t5, clip_tok, t5_tok, captions: list[str]) -> tuple[torch.Tensor, torch.Tensor]:
    """(T5 states, CLIP pooled vector) as FluxPipeline.encode_prompt computes them at 16 tokens."""
    ids = clip_tok(captions, padding="max_length", max_length=MAX_TOKENS, truncation=True,
                   return_tensors="pt").input_ids
    pooled = clip(ids, output_hidden_states=False).pooler_output
    ids = t5_tok(captions, padding="max_length", max_length=MAX_TOKENS, truncation=True,
                 return_tensors="pt").input_ids
    return t5(ids, output_hidden_states=False)[0], pooled


def sample_t(count: int, uniform_share: float, gen: torch.Generator) -> torch.Tensor:
    """Noise levels: logit-normal(0, 1), which trains the middle where shapes form, with a share drawn
    uniformly. On 64 tokens a background colour is read from the noisy latent below t of about 0.97, so
    the first Euler step (t = 1) decides it; logit-normal alone almost never trains t > 0.97 (0.03%)
    and the model falls back on the most common background."""
    logit_normal = torch.sigmoid(torch.randn(count, generator=gen))
    uniform = torch.rand(count, generator=gen)
    return torch.where(torch.rand(count, generator=gen) < uniform_share, uniform, logit_normal)


def stage_flow(work: Path, latents: dict, labels: list[dict], clip_tok, t5_tok, args):
    torch.manual_seed(args.seed)
    transformer, clip, t5 = build_models(t5_tok)
    path = work / "flow.pt"
    state = base.load(path)
    if not state and args.init_from:
        load_exported(args.init_from, transformer, clip, t5)
    params = [p for m in (transformer, clip, t5) for p in m.parameters()]
    opt = torch.optim.AdamW(params, lr=args.lr, betas=(0.9, 0.99), weight_decay=0.01)
    ema = base.EMA(params, args.ema)
    step, elapsed = 0, 0.0
    if state:
        for name, module in (("transformer", transformer), ("clip", clip), ("t5", t5)):
            module.load_state_dict(state[name])
        opt.load_state_dict(state["opt"])
        ema.shadow = state["ema"]
        step, elapsed = state["step"], state["elapsed"]
    done_before = bool(state and state.get("done"))
    mean, std = latents["mean"], latents["std"]
    scale, shift = latents["scaling_factor"], latents["shift_factor"]
    half = len(mean) // 2
    size = mean.shape[-1]
    ids = token_ids(size, size)
    ref_ids = torch.cat([ids, token_ids(size, size, index=1)])
    text_ids = torch.zeros(MAX_TOKENS, 3)
    budget = args.minutes * 60 * args.flow_share

    def checkpoint(done: bool):
        base.save_atomic({"transformer": transformer.state_dict(), "clip": clip.state_dict(), "t5": t5.state_dict(),
                          "opt": opt.state_dict(), "ema": ema.shadow, "step": step,
                          "elapsed": time.time() - start, "done": done}, path)

    for module in (transformer, clip, t5):
        module.train()
    bar = tqdm(desc="flow", total=args.flow_steps, initial=step, ncols=90, mininterval=10)
    start, last_save = time.time() - elapsed, time.time()
    smooth = None
    while not done_before and step < args.flow_steps and time.time() - start < budget and not Stop.requested:
        progress = max(step / args.flow_steps, (time.time() - start) / budget)
        for group in opt.param_groups:
            group["lr"] = args.lr * base.lr_factor(progress, step, 200)
        gen = torch.Generator().manual_seed(args.seed * 1_000_003 + step)
        rng = random.Random(args.seed * 1_000_003 + step)
        idx = torch.randint(0, len(mean), (args.batch,), generator=gen)
        captions = ["" if rng.random() < args.empty_captions else shapes.caption_for(labels[i], rng)
                    for i in idx.tolist()]
        embeds, pooled = encode_text(clip, t5, clip_tok, t5_tok, captions)
        x0 = (mean[idx] + std[idx] * torch.randn(mean[idx].shape, generator=gen) - shift) * scale
        noise = torch.randn(x0.shape, generator=gen)
        t = sample_t(len(x0), args.uniform_t, gen)
        tb = t[:, None, None, None]
        hidden = pack((1 - tb) * x0 + tb * noise)
        img_ids = ids
        if rng.random() < args.edit_share:  # Kontext: the twin (its encoder mean, as the pipeline encodes) as reference
            twin = (idx + half) % (2 * half)
            hidden = torch.cat([hidden, pack((mean[twin] - shift) * scale)], dim=1)
            img_ids = ref_ids
        out = transformer(hidden_states=hidden, timestep=t, encoder_hidden_states=embeds, pooled_projections=pooled,
                          txt_ids=text_ids, img_ids=img_ids, return_dict=False)[0]
        loss = F.mse_loss(out[:, : ids.shape[0]], pack(noise - x0))
        base.optimiser_step(loss, opt, params, ema, step)
        step += 1
        smooth = loss.item() if smooth is None else 0.98 * smooth + 0.02 * loss.item()
        bar.update(1)
        bar.set_postfix(loss=f"{smooth:.4f}", min=f"{(time.time() - start) / 60:.1f}")
        if time.time() - last_save > args.save_minutes * 60:
            checkpoint(done=False)
            if args.snapshot:
                export_snapshot(work, transformer, clip, t5, ema, params)
            last_save = time.time()
    bar.close()
    if not done_before:
        checkpoint(done=not Stop.requested)
        if Stop.requested:
            sys.exit("stopped; run the same command again to resume")
        print(f"flow: {step} steps, {(time.time() - start) / 60:.1f} min, loss {smooth}", flush=True)
    minutes = (state["elapsed"] if done_before else time.time() - start) / 60
    ema.copy_to(params)
    for module in (transformer, clip, t5):
        module.eval()
    return transformer, clip, t5, {"steps": step, "minutes": round(minutes, 1), "batch": args.batch}


def export_snapshot(work: Path, transformer, clip, t5, ema, params):
    """The EMA weights so far, for looking at while training goes on (work/snapshot.pt)."""
    live = [p.detach().clone() for p in params]
    ema.copy_to(params)
    base.save_atomic({"transformer": transformer.state_dict(), "clip": clip.state_dict(), "t5": t5.state_dict()},
                     work / "snapshot.pt")
    with torch.no_grad():
        for p, v in zip(params, live):
            p.copy_(v)


# ------------------------------------------------------------------------------------------ samples
@torch.no_grad()
def stage_samples(work: Path, transformer, clip, t5, clip_tok, t5_tok, latents: dict, labels: list[dict], args) -> dict:
    """{"latents": raw VAE latents, "index": picture index, "minutes"}: `args.decoder_samples` training
    pictures noised to a level of the 20-step Euler schedule at or below `args.sample_t` and denoised by
    the transformer at true CFG 5 with their caption, as FluxPipeline samples. Below that level the
    noisy latent already fixes the picture's layout, so each result still belongs to its picture and
    the decoder can learn to draw that picture from what sampling actually ends on."""
    from diffusers import FlowMatchEulerDiscreteScheduler, FluxPipeline

    path = work / "samples.pt"
    state = base.load(path)
    if state and len(state["index"]) == args.decoder_samples:
        return state
    start = time.time()
    mean, std = latents["mean"], latents["std"]
    scale, shift = latents["scaling_factor"], latents["shift_factor"]
    size = mean.shape[-1]
    scheduler = FlowMatchEulerDiscreteScheduler(**SCHEDULER_CONFIG)
    scheduler.set_timesteps(sigmas=np.linspace(1.0, 1.0 / 20, 20))  # FluxPipeline's 20 steps
    sigmas = scheduler.sigmas.tolist()  # shifted, ending in 0
    first = next(k for k, sigma in enumerate(sigmas) if sigma <= args.sample_t)
    ids, text_ids = token_ids(size, size), torch.zeros(MAX_TOKENS, 3)
    gen = torch.Generator().manual_seed(args.seed * 31 + 17)
    rng = random.Random(args.seed * 31 + 17)
    empty, empty_pooled = encode_text(clip, t5, clip_tok, t5_tok, [""])
    results, indices = [], []
    for _ in tqdm(range(0, args.decoder_samples, 64), desc="samples", ncols=90, mininterval=10):
        idx = torch.randint(0, len(mean), (64,), generator=gen)
        embeds, pooled = encode_text(clip, t5, clip_tok, t5_tok, [shapes.caption_for(labels[i], rng) for i in idx.tolist()])
        x0 = (mean[idx] + std[idx] * torch.randn(mean[idx].shape, generator=gen) - shift) * scale
        k = rng.randrange(first, 20)
        x = pack((1 - sigmas[k]) * x0 + sigmas[k] * torch.randn(x0.shape, generator=gen))
        for j in range(k, 20):
            t = torch.full((len(idx),), sigmas[j])
            call = dict(hidden_states=x, timestep=t, txt_ids=text_ids, img_ids=ids, return_dict=False)
            cond = transformer(**call, encoder_hidden_states=embeds, pooled_projections=pooled)[0]
            uncond = transformer(**call, encoder_hidden_states=empty.expand(len(idx), -1, -1),
                                 pooled_projections=empty_pooled.expand(len(idx), -1))[0]
            x = x + (sigmas[j + 1] - sigmas[j]) * (uncond + args.sample_cfg * (cond - uncond))
        results.append(FluxPipeline._unpack_latents(x, size * 4, size * 4, 4) / scale + shift)
        indices.append(idx)
    state = {"latents": torch.cat(results)[: args.decoder_samples], "index": torch.cat(indices)[: args.decoder_samples],
             "minutes": round((time.time() - start) / 60, 1)}
    base.save_atomic(state, path)
    print(f"samples: {len(state['index'])} in {state['minutes']} min", flush=True)
    return state


# ------------------------------------------------------------------------------------------- export
def stage_export(out: Path, vae, transformer, clip, t5, clip_dir: Path, t5_dir: Path, latents: dict, info: dict):
    from diffusers import FlowMatchEulerDiscreteScheduler, FluxPipeline
    from transformers import CLIPTokenizer, T5TokenizerFast

    vae.register_to_config(scaling_factor=latents["scaling_factor"], shift_factor=latents["shift_factor"])
    pipe = FluxPipeline(scheduler=FlowMatchEulerDiscreteScheduler(**SCHEDULER_CONFIG), vae=vae, text_encoder=clip,
                        tokenizer=CLIPTokenizer.from_pretrained(clip_dir), text_encoder_2=t5,
                        tokenizer_2=T5TokenizerFast.from_pretrained(t5_dir), transformer=transformer)
    tmp = out.with_name(out.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    pipe.save_pretrained(tmp, safe_serialization=True)
    for part, folder in (("tokenizer", clip_dir), ("tokenizer_2", t5_dir)):  # exactly as written and checked
        shutil.rmtree(tmp / part)
        shutil.copytree(folder, tmp / part)
    for kept in ("README.md", "samples.png"):  # the card (scores) and samples evaluate_tiny_model.py wrote
        if (out / kept).exists():
            shutil.copy2(out / kept, tmp / kept)
    (tmp / "training.json").write_text(json.dumps(info, indent=2) + "\n")
    shutil.rmtree(out, ignore_errors=True)
    os.replace(tmp, out)
    size = sum(f.stat().st_size for f in out.rglob("*") if f.is_file())
    print(f"exported {out} ({size / 1e6:.1f} MB)", flush=True)


def export_from_snapshot(args) -> None:
    """Export the latest snapshot (EMA weights of a run still going on) with the VAE as it is now, to
    look at and test against while training goes on; trains nothing."""
    from diffusers import AutoencoderKL

    clip_tok, t5_tok, clip_dir, t5_dir = tokenizers(args.work / "snapshot-tokenizers")
    vae = AutoencoderKL(**VAE_CONFIG)
    vae.load_state_dict(base.load(args.work / "vae.pt")["model"])
    decoder = base.load(args.work / "decoder.pt")
    if decoder:
        torch.nn.ModuleList([vae.post_quant_conv, vae.decoder]).load_state_dict(decoder["model"])
    latents = base.load(args.work / "latents.pt")
    latents["shift_factor"] = latents["mean"].mean().item()
    transformer, clip, t5 = build_models(t5_tok)
    snapshot = base.load(args.work / "snapshot.pt")
    for name, module in (("transformer", transformer), ("clip", clip), ("t5", t5)):
        module.load_state_dict(snapshot[name])
    flow = base.load(args.work / "flow.pt")
    info = {"snapshot": True, "flow": {"steps": flow["step"], "minutes": round(flow["elapsed"] / 60, 1)}}
    stage_export(args.out, vae.eval(), transformer.eval(), clip.eval(), t5.eval(), clip_dir, t5_dir, latents, info)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=ROOT / "resources/models/tiny-shapes-flow")
    parser.add_argument("--work", type=Path, default=ROOT / "build/train-flow")
    # The shipped model's stage times: VAE 12 min, transformer 94.5, samples 1.1, decoder 10.2.
    parser.add_argument("--minutes", type=float, default=118.0,
                        help="total budget (VAE + transformer + decoder; the samples stage adds about a minute)")
    parser.add_argument("--vae-share", type=float, default=0.10)
    parser.add_argument("--flow-share", type=float, default=0.80)
    parser.add_argument("--decoder-share", type=float, default=0.085)
    parser.add_argument("--images", type=int, default=16000, help="half of them recoloured twins of the others")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--save-minutes", type=float, default=3.0)
    parser.add_argument("--snapshot", action="store_true", help="also save the EMA weights at every checkpoint")
    parser.add_argument("--export-snapshot", action="store_true",
                        help="only export the latest snapshot of a run in progress to --out")
    parser.add_argument("--vae-steps", type=int, default=2000)
    parser.add_argument("--vae-batch", type=int, default=32)
    parser.add_argument("--vae-lr", type=float, default=2e-3)
    parser.add_argument("--vae-kl", type=float, default=1e-5)
    parser.add_argument("--decoder-lr", type=float, default=5e-4)
    base.add_edge_arguments(parser, vae=0.0, decoder=8.0)
    parser.add_argument("--decoder-samples", type=int, default=2048,
                        help="latents the transformer denoises for the decoder stage (0: none)")
    parser.add_argument("--decoder-sampled-share", type=float, default=0.5,
                        help="share of each decoder batch drawn from those samples")
    parser.add_argument("--sample-t", type=float, default=0.7, help="highest noise level the samples start from")
    parser.add_argument("--sample-cfg", type=float, default=5.0)
    parser.add_argument("--flow-steps", type=int, default=30000)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--ema", type=float, default=0.999)
    parser.add_argument("--uniform-t", type=float, default=0.4,
                        help="share of noise levels drawn uniformly instead of logit-normal")
    parser.add_argument("--empty-captions", type=float, default=0.1)
    parser.add_argument("--init-from", type=Path,
                        help="train on from an exported model: its VAE is the finished VAE stage, its transformer "
                             "and text encoders start the flow stage (fresh optimiser and learning-rate schedule)")
    parser.add_argument("--edit-share", type=float, default=0.25, help="share of steps that train Kontext editing")
    args = parser.parse_args(argv)
    if args.init_from and not is_exported_flow_model(args.init_from):
        parser.error(f"--init-from {args.init_from}: not an exported tiny-shapes-flow folder "
                     "(FluxPipeline's model_index.json with transformer/, vae/, text_encoder/, text_encoder_2/)")
    args.more_vae = False  # train_tiny_model.stage_vae's option; a finished VAE here is final

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    Stop.install()
    args.work.mkdir(parents=True, exist_ok=True)
    if args.export_snapshot:
        return export_from_snapshot(args)
    t0 = time.time()
    clip_tok, t5_tok, clip_dir, t5_dir = tokenizers(args.work)
    images, labels = stage_data(args.work, args.images)
    if args.init_from:
        seed_vae_stage(args.work, args.init_from)
    vae = base.stage_vae(args.work, images, args, VAE_CONFIG)
    latents = base.stage_latents(args.work, vae, images)
    # Flux's convention: latents = (raw - shift) * scaling, so the cached means have mean 0 and std 1.
    latents["shift_factor"] = latents["mean"].mean().item()
    transformer, clip, t5, flow_info = stage_flow(args.work, latents, labels, clip_tok, t5_tok, args)
    vae_state = base.load(args.work / "vae.pt")
    decoder_state, samples = None, None
    if args.decoder_share > 0:
        if args.decoder_samples:
            samples = stage_samples(args.work, transformer, clip, t5, clip_tok, t5_tok, latents, labels, args)
        vae, decoder_state = base.stage_decoder(args.work, vae, latents, images, args, samples)
    info = {
        "images": args.images,
        "seed": args.seed,
        "params": {name: base.param_count(m) for name, m in
                   (("vae", vae), ("transformer", transformer), ("text_encoder", clip), ("text_encoder_2", t5))},
        "vae": {"steps": vae_state["step"], "minutes": round(vae_state["elapsed"] / 60, 1),
                "rmse_255": round(latents["vae_rmse"], 2), "scaling_factor": latents["scaling_factor"],
                "shift_factor": latents["shift_factor"]},
        "flow": flow_info,
        "samples": ({"count": len(samples["index"]), "max_t": args.sample_t, "cfg": args.sample_cfg,
                     "scheduler_shift": SCHEDULER_CONFIG["shift"], "minutes": samples["minutes"]} if samples else None),
        "decoder": ({"steps": decoder_state["step"], "minutes": round(decoder_state["elapsed"] / 60, 1),
                     "rmse_255": round(decoder_state["rmse_255"], 2), "edge_weight": args.decoder_edge,
                     "sampled_share": args.decoder_sampled_share if samples else 0} if decoder_state else None),
        "threads": args.threads,
        "empty_captions": args.empty_captions,
        "uniform_t": args.uniform_t,
        "edit_share": args.edit_share,
        "lr": args.lr,
        "init_from": (json.loads((args.init_from / "training.json").read_text())
                      if args.init_from and (args.init_from / "training.json").exists() else None),
        "torch": torch.__version__,
    }
    stage_export(args.out, vae, transformer, clip, t5, clip_dir, t5_dir, latents, info)
    print(json.dumps(info), flush=True)
    print(f"total (this invocation): {(time.time() - t0) / 60:.1f} min", flush=True)


if __name__ == "__main__":
    main()
