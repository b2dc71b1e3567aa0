"""Train NodeFlow's built-in tiny diffusion model on procedurally drawn shapes (CPU, under an hour).

Not imported by the app. Produces a diffusers folder that StableDiffusionPipeline loads offline:

    resources/models/tiny-shapes/
        model_index.json   unet/  vae/  text_encoder/  tokenizer/  scheduler/  README.md

Everything is a stock diffusers/transformers class (AutoencoderKL, UNet2DConditionModel,
CLIPTextModel, CLIPTokenizer, EulerDiscreteScheduler); only the sizes are small. The tokenizer is
word-level: its vocab.json/merges.txt are written here from the caption grammar of
`tools/shapes_dataset.py`, so each grammar word is one token.

Stages (each resumable from `--work`, default build/train/):
  1. data     render the pictures (seeded), cached as data.npz
  2. vae      train the AutoencoderKL (64x64x3 -> 16x16x4)
  3. latents  encode every picture once (mean and std of the latent distribution)
  4. unet     train UNet + text encoder on the cached latents: v-prediction, zero-terminal-SNR,
              10% empty captions (classifier-free guidance), EMA weights
  5. export   write the diffusers folder

`--minutes` is the whole budget: the VAE gets 14% of it, the UNet 79%, the decoder fine-tune 6%;
when a stage's time is up it stops cleanly and the script goes on to export. Checkpoints are
written every `--save-minutes`; running the same command again resumes where it stopped (Ctrl-C
also saves).

    .venv/bin/python tools/train_tiny_model.py                 # full run (~120 min on 2 idle cores)
    .venv/bin/python tools/train_tiny_model.py --minutes 55    # under an hour, lower scores
    .venv/bin/python tools/train_tiny_model.py --minutes 1.5 --images 512 --work build/smoke \\
        --out build/smoke/model                                # smoke run
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import signal
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

ROOT = Path(__file__).resolve().parent.parent
MAX_TOKENS = 16  # longest caption is 11 words + start + end

VAE_CONFIG = dict(
    in_channels=3,
    out_channels=3,
    down_block_types=("DownEncoderBlock2D",) * 3,
    up_block_types=("UpDecoderBlock2D",) * 3,
    block_out_channels=(16, 32, 32),
    layers_per_block=1,
    latent_channels=4,
    norm_num_groups=8,
    sample_size=shapes.IMAGE_SIZE,
)
UNET_CONFIG = dict(
    sample_size=shapes.IMAGE_SIZE // 4,
    in_channels=4,
    out_channels=4,
    # Cross-attention at 8x8 and 4x4 only: a third faster per step than attending at 16x16 too,
    # and the coarse levels are where the caption decides what goes where.
    down_block_types=("DownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D"),
    up_block_types=("CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "UpBlock2D"),
    block_out_channels=(32, 64, 96),
    layers_per_block=1,
    cross_attention_dim=64,
    attention_head_dim=4,
    norm_num_groups=16,
)
TEXT_CONFIG = dict(
    hidden_size=64,
    intermediate_size=128,
    num_hidden_layers=2,
    num_attention_heads=4,
    max_position_embeddings=MAX_TOKENS,
    hidden_act="quick_gelu",
)
SCHEDULER_CONFIG = dict(
    num_train_timesteps=1000,
    beta_start=0.00085,
    beta_end=0.012,
    beta_schedule="scaled_linear",
    prediction_type="v_prediction",
    rescale_betas_zero_snr=True,
    timestep_spacing="trailing",
    steps_offset=1,
)


# --------------------------------------------------------------------------------------- tokenizer
def _bpe(word: str, ranks: dict[tuple[str, str], int]) -> list[str]:
    """CLIP's BPE on one word (last symbol carries </w>)."""
    parts = list(word[:-1]) + [word[-1] + "</w>"]
    while len(parts) > 1:
        a, b = min(zip(parts, parts[1:]), key=lambda pair: ranks.get(pair, math.inf))
        if (a, b) not in ranks:
            break
        merged, i = [], 0
        while i < len(parts):
            if i + 1 < len(parts) and parts[i] == a and parts[i + 1] == b:
                merged.append(a + b)
                i += 2
            else:
                merged.append(parts[i])
                i += 1
        parts = merged
    return parts


def tokenizer_files(words: list[str]) -> tuple[dict[str, int], list[str]]:
    """A vocab and merge list under which CLIP's BPE turns every word into one token.

    Merges are added word by word (left to right) only when the merges so far leave the word in
    pieces; a merge added later has lower priority, so it never changes an earlier word.
    """
    merges: list[tuple[str, str]] = []
    ranks: dict[tuple[str, str], int] = {}
    for word in words:
        while len(parts := _bpe(word, ranks)) > 1:
            pair = (parts[0], parts[1])
            ranks[pair] = len(merges)
            merges.append(pair)
    vocab = ["<|startoftext|>", "<|endoftext|>"]
    letters = sorted(set("".join(words)) | set("abcdefghijklmnopqrstuvwxyz"))
    vocab += letters + [c + "</w>" for c in letters]
    vocab += [a + b for a, b in merges if a + b not in vocab]
    return {token: i for i, token in enumerate(vocab)}, [f"{a} {b}" for a, b in merges]


def write_tokenizer(folder: Path):
    from transformers import CLIPTokenizer

    folder.mkdir(parents=True, exist_ok=True)
    words = shapes.vocabulary()
    vocab, merges = tokenizer_files(words)
    tokenizer = CLIPTokenizer(vocab=vocab, merges=[tuple(m.split()) for m in merges],
                              model_max_length=MAX_TOKENS)
    tokenizer.save_pretrained(folder)
    # Also the classic files, so any CLIPTokenizer implementation (fast or slow) can load it.
    (folder / "vocab.json").write_text(json.dumps(vocab, ensure_ascii=False))
    (folder / "merges.txt").write_text("#version: 0.2\n" + "\n".join(merges) + "\n")
    tokenizer = CLIPTokenizer.from_pretrained(folder)
    for word in words:
        ids = tokenizer(word)["input_ids"]
        token = word + "</w>"
        assert ids == [tokenizer.bos_token_id, vocab[token], tokenizer.eos_token_id], (word, ids)
    assert tokenizer.model_max_length == MAX_TOKENS
    return tokenizer


# ------------------------------------------------------------------------------------- checkpoints
def save_atomic(obj, path: Path):
    tmp = path.with_suffix(path.suffix + ".tmp")
    torch.save(obj, tmp)
    os.replace(tmp, path)


def load(path: Path):
    return torch.load(path, map_location="cpu", weights_only=False) if path.exists() else None


class Stop:
    """Set by SIGINT/SIGTERM: the running stage saves a checkpoint and the script exits."""

    requested = False

    @classmethod
    def install(cls):
        def handler(signum, frame):
            cls.requested = True

        signal.signal(signal.SIGINT, handler)
        signal.signal(signal.SIGTERM, handler)


def optimiser_step(loss, opt, params, ema: EMA | None = None, step: int = 0) -> None:
    """One step as every stage takes it: gradients clipped to norm 1 (a bad batch cannot throw the
    weights far), then the EMA, where the stage keeps one, follows the new weights."""
    opt.zero_grad(set_to_none=True)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(params, 1.0)
    opt.step()
    if ema is not None:
        ema.update(step)


def reconstruction_loss(y: torch.Tensor, x: torch.Tensor, edge_weight: float = 0.0) -> torch.Tensor:
    """MSE + L1/2 between decoded `y` and picture `x` (both in [-1, 1]). With `edge_weight` > 0, the
    pixels within one pixel of a colour edge of `x` count 1 + edge_weight times: a small star's points
    are a few dozen pixels of a 4,096-pixel picture, so a plain mean lets the decoder round them off
    (measured: small stars were most of the shapes the tiny-shapes-flow VAE lost)."""
    error = (y - x) ** 2 + 0.5 * (y - x).abs()
    if edge_weight <= 0:
        return error.mean()
    step = torch.zeros_like(x[:, :1])
    step[..., 1:, :] += (x[..., 1:, :] - x[..., :-1, :]).abs().sum(1, keepdim=True)
    step[..., :, 1:] += (x[..., :, 1:] - x[..., :, :-1]).abs().sum(1, keepdim=True)
    weight = 1.0 + edge_weight * (F.max_pool2d(step, 3, 1, 1) > 0.1).float()
    return (weight * error).mean() / weight.mean()


def add_edge_arguments(parser, vae: float, decoder: float) -> None:
    """--vae-edge and --decoder-edge: `reconstruction_loss`'s edge weight in the VAE and decoder stages."""
    parser.add_argument("--vae-edge", type=float, default=vae, help="extra weight of pixels at colour edges (VAE)")
    parser.add_argument("--decoder-edge", type=float, default=decoder,
                        help="extra weight of pixels at colour edges (decoder fine-tuning)")


def lr_factor(progress: float, step: int, warmup: int) -> float:
    """Linear warm-up, then cosine decay to 5% as `progress` goes 0 -> 1."""
    warm = min(1.0, (step + 1) / warmup)
    return warm * (0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * min(1.0, progress))))


# ------------------------------------------------------------------------------------------ stages
def stage_data(work: Path, count: int) -> tuple[np.ndarray, list[dict]]:
    path = work / "data.npz"
    labels = [shapes.labels_for_seed(seed) for seed in range(count)]
    if path.exists():
        images = np.load(path)["images"]
        if len(images) == count:
            return images, labels
    images = np.stack([np.asarray(shapes.render(lab)) for lab in tqdm(labels, desc="data", ncols=90, mininterval=5)])
    np.savez(path, images=images)
    return images, labels


def _to_tensor(images: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(images).permute(0, 3, 1, 2).float().div(127.5).sub(1.0)


def stage_vae(work: Path, images: np.ndarray, args, config: dict | None = None):
    """Train the AutoencoderKL of `config` (default tiny-shapes' own, VAE_CONFIG)."""
    from diffusers import AutoencoderKL

    path = work / "vae.pt"
    state = load(path)
    vae = AutoencoderKL(**(config or VAE_CONFIG))
    opt = torch.optim.AdamW(vae.parameters(), lr=args.vae_lr, weight_decay=0.0)
    step, elapsed = 0, 0.0
    budget = args.minutes * 60 * args.vae_share
    if state:
        vae.load_state_dict(state["model"])
        opt.load_state_dict(state["opt"])
        step, elapsed = state["step"], state["elapsed"]
        if state.get("done"):
            if not args.more_vae or step >= args.vae_steps or elapsed >= budget - 30:
                return vae.eval()
            # --more-vae with a bigger budget: train on; what was built on the old VAE is stale.
            print(f"vae: continuing from step {step} ({elapsed / 60:.1f} of {budget / 60:.1f} min); "
                  "dropping cached latents and UNet", flush=True)
            for stale in ("latents.pt", "unet.pt"):
                (work / stale).unlink(missing_ok=True)
    data = _to_tensor(images)
    gen = torch.Generator().manual_seed(args.seed + step)
    vae.train()
    bar = tqdm(desc="vae", total=args.vae_steps, initial=step, ncols=90, mininterval=5)
    start, last_save = time.time() - elapsed, time.time()
    while step < args.vae_steps and time.time() - start < budget and not Stop.requested:
        progress = max(step / args.vae_steps, (time.time() - start) / budget)
        for group in opt.param_groups:
            group["lr"] = args.vae_lr * lr_factor(progress, step, 50)
        idx = torch.randint(0, len(data), (args.vae_batch,), generator=gen)
        x = data[idx]
        posterior = vae.encode(x).latent_dist
        z = posterior.mean + posterior.std * torch.randn(posterior.mean.shape, generator=gen)
        y = vae.decode(z).sample
        rec = reconstruction_loss(y, x, args.vae_edge)
        kl = posterior.kl().mean() / x[0].numel()
        loss = rec + args.vae_kl * kl
        optimiser_step(loss, opt, vae.parameters())
        step += 1
        rmse = F.mse_loss(y.detach(), x).sqrt().item() * 127.5
        bar.update(1)
        bar.set_postfix(rmse=f"{rmse:.1f}/255", kl=f"{kl.item():.2f}")
        if time.time() - last_save > args.save_minutes * 60:
            save_atomic({"model": vae.state_dict(), "opt": opt.state_dict(), "step": step,
                         "elapsed": time.time() - start}, path)
            last_save = time.time()
    bar.close()
    done = not Stop.requested
    save_atomic({"model": vae.state_dict(), "opt": opt.state_dict(), "step": step,
                 "elapsed": time.time() - start, "done": done}, path)
    if not done:
        sys.exit("stopped; run the same command again to resume")
    print(f"vae: {step} steps, {(time.time() - start) / 60:.1f} min", flush=True)
    return vae.eval()


@torch.no_grad()
def stage_latents(work: Path, vae, images: np.ndarray):
    path = work / "latents.pt"
    state = load(path)
    if state and len(state["mean"]) == len(images):
        return state
    means, stds, sq_err = [], [], 0.0
    for i in tqdm(range(0, len(images), 256), desc="latents", ncols=90, mininterval=5):
        x = _to_tensor(images[i : i + 256])
        posterior = vae.encode(x).latent_dist
        means.append(posterior.mean)
        stds.append(posterior.std)
        if i < 1024:  # reconstruction error on the first 1024 pictures
            sq_err += F.mse_loss(vae.decode(posterior.mean).sample.clamp(-1, 1), x, reduction="sum").item()
    mean, std = torch.cat(means), torch.cat(stds)
    rmse = math.sqrt(sq_err / images[:1024].size) * 127.5
    scale = 1.0 / (mean.std().item() + 1e-6)
    state = {"mean": mean, "std": std, "scaling_factor": scale, "vae_rmse": rmse}
    save_atomic(state, path)
    print(f"latents: {tuple(mean.shape)}, latent std {mean.std().item():.3f} -> scaling_factor {scale:.4f}; "
          f"VAE RMSE {rmse:.2f}/255", flush=True)
    return state


class EMA:
    def __init__(self, params, decay: float):
        self.params = list(params)
        self.shadow = [p.detach().clone() for p in self.params]
        self.decay = decay

    @torch.no_grad()
    def update(self, step: int):
        d = min(self.decay, (1 + step) / (10 + step))
        torch._foreach_lerp_(self.shadow, [p.detach() for p in self.params], 1 - d)

    @torch.no_grad()
    def copy_to(self, params):
        for p, s in zip(params, self.shadow):
            p.copy_(s)


def build_text_encoder(tokenizer):
    from transformers import CLIPTextConfig, CLIPTextModel

    config = CLIPTextConfig(
        vocab_size=len(tokenizer.get_vocab()),
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        **TEXT_CONFIG,
    )
    return CLIPTextModel(config)


def stage_unet(work: Path, latents: dict, labels: list[dict], tokenizer, args):
    from diffusers import DDPMScheduler, UNet2DConditionModel

    torch.manual_seed(args.seed)
    unet = UNet2DConditionModel(**UNET_CONFIG)
    text_encoder = build_text_encoder(tokenizer)
    params = list(unet.parameters()) + list(text_encoder.parameters())
    opt = torch.optim.AdamW(params, lr=args.unet_lr, weight_decay=0.01)
    ema = EMA(params, args.ema)
    path = work / "unet.pt"
    state = load(path)
    step, elapsed = 0, 0.0
    if state:
        unet.load_state_dict(state["unet"])
        text_encoder.load_state_dict(state["text_encoder"])
        opt.load_state_dict(state["opt"])
        ema.shadow = state["ema"]
        step, elapsed = state["step"], state["elapsed"]
    scheduler = DDPMScheduler(**SCHEDULER_CONFIG)
    mean, std, scale = latents["mean"], latents["std"], latents["scaling_factor"]
    budget = args.minutes * 60 * args.unet_share

    def checkpoint(done: bool):
        save_atomic({"unet": unet.state_dict(), "text_encoder": text_encoder.state_dict(),
                     "opt": opt.state_dict(), "ema": ema.shadow, "step": step,
                     "elapsed": time.time() - start, "done": done}, path)

    unet.train()
    text_encoder.train()
    bar = tqdm(desc="unet", total=args.unet_steps, initial=step, ncols=90, mininterval=5)
    start, last_save = time.time() - elapsed, time.time()
    smooth = None
    while (not (state and state.get("done")) and step < args.unet_steps
           and time.time() - start < budget and not Stop.requested):
        progress = max(step / args.unet_steps, (time.time() - start) / budget)
        for group in opt.param_groups:
            group["lr"] = args.unet_lr * lr_factor(progress, step, 100)
        gen = torch.Generator().manual_seed(args.seed * 1_000_003 + step)
        rng = random.Random(args.seed * 1_000_003 + step)
        idx = torch.randint(0, len(mean), (args.unet_batch,), generator=gen)
        captions = [
            "" if rng.random() < args.empty_captions else shapes.caption_for(labels[i], rng)
            for i in idx.tolist()
        ]
        ids = tokenizer(captions, padding="max_length", max_length=MAX_TOKENS, truncation=True,
                        return_tensors="pt").input_ids
        z = (mean[idx] + std[idx] * torch.randn(mean[idx].shape, generator=gen)) * scale
        noise = torch.randn(z.shape, generator=gen)
        t = torch.randint(0, scheduler.config.num_train_timesteps, (len(z),), generator=gen)
        noisy = scheduler.add_noise(z, noise, t)
        target = scheduler.get_velocity(z, noise, t)
        pred = unet(noisy, t, text_encoder(ids)[0]).sample
        loss = F.mse_loss(pred, target)
        optimiser_step(loss, opt, params, ema, step)
        step += 1
        smooth = loss.item() if smooth is None else 0.98 * smooth + 0.02 * loss.item()
        bar.update(1)
        bar.set_postfix(loss=f"{smooth:.4f}", min=f"{(time.time() - start) / 60:.1f}")
        if time.time() - last_save > args.save_minutes * 60:
            checkpoint(done=False)
            last_save = time.time()
    bar.close()
    if not (state and state.get("done")):
        checkpoint(done=not Stop.requested)
        if Stop.requested:
            sys.exit("stopped; run the same command again to resume")
        print(f"unet: {step} steps, {(time.time() - start) / 60:.1f} min, loss {smooth}", flush=True)
    ema.copy_to(params)
    return unet.eval(), text_encoder.eval(), {"steps": step, "minutes": (time.time() - start) / 60
                                               if not (state and state.get("done")) else state["elapsed"] / 60}


def stage_decoder(work: Path, vae, latents: dict, images: np.ndarray, args, sampled: dict | None = None):
    """Fine-tune the VAE decoder alone on the cached latents.

    The encoder, and so the latent space the UNet learnt, stay as they are; only the pictures
    decoded from latents get sharper (small stars and rings keep their outline). `sampled` adds
    latents a denoiser produced ({"latents": raw VAE latents, "index": the picture each should decode
    to}), drawn for `args.decoder_sampled_share` of every batch: the decoder then also learns to draw
    the clean picture from the slightly-off latents sampling ends on."""
    path = work / "decoder.pt"
    state = load(path)
    parts = torch.nn.ModuleList([vae.post_quant_conv, vae.decoder])
    opt = torch.optim.AdamW(parts.parameters(), lr=args.decoder_lr, weight_decay=0.0)
    step, elapsed = 0, 0.0
    if state:
        parts.load_state_dict(state["model"])
        opt.load_state_dict(state["opt"])
        step, elapsed = state["step"], state["elapsed"]
        if state.get("done"):
            return vae.eval(), state
    budget = args.minutes * 60 * args.decoder_share
    mean, std, data = latents["mean"], latents["std"], _to_tensor(images)
    vae.train()
    bar = tqdm(desc="decoder", total=args.vae_steps, initial=step, ncols=90, mininterval=5)
    start, last_save = time.time() - elapsed, time.time()

    def checkpoint(done: bool):
        save_atomic({"model": parts.state_dict(), "opt": opt.state_dict(), "step": step,
                     "elapsed": time.time() - start, "done": done, "rmse_255": rmse}, path)

    rmse = None
    while step < args.vae_steps and time.time() - start < budget and not Stop.requested:
        progress = max(step / args.vae_steps, (time.time() - start) / budget)
        for group in opt.param_groups:
            group["lr"] = args.decoder_lr * lr_factor(progress, step, 20)
        gen = torch.Generator().manual_seed(args.seed * 7919 + step)
        idx = torch.randint(0, len(data), (args.vae_batch,), generator=gen)
        z = mean[idx] + std[idx] * torch.randn(mean[idx].shape, generator=gen)
        x = data[idx]
        if sampled is not None:
            count = round(args.vae_batch * args.decoder_sampled_share)
            pick = torch.randint(0, len(sampled["index"]), (count,), generator=gen)
            z = torch.cat([z[count:], sampled["latents"][pick]])
            x = torch.cat([x[count:], data[sampled["index"][pick]]])
        y = vae.decode(z).sample
        loss = reconstruction_loss(y, x, args.decoder_edge)
        optimiser_step(loss, opt, parts.parameters())
        step += 1
        err = F.mse_loss(y.detach(), x).sqrt().item() * 127.5
        rmse = err if rmse is None else 0.95 * rmse + 0.05 * err
        bar.update(1)
        bar.set_postfix(rmse=f"{rmse:.1f}/255")
        if time.time() - last_save > args.save_minutes * 60:
            checkpoint(done=False)
            last_save = time.time()
    bar.close()
    vae.eval()
    if not Stop.requested:  # reconstruction error on the first 1024 pictures, as in stage_latents
        with torch.no_grad():
            sq = sum(F.mse_loss(vae.decode(mean[i : i + 256]).sample.clamp(-1, 1), data[i : i + 256],
                                reduction="sum").item() for i in range(0, min(1024, len(data)), 256))
        rmse = math.sqrt(sq / data[:1024].numel()) * 127.5
    checkpoint(done=not Stop.requested)
    if Stop.requested:
        sys.exit("stopped; run the same command again to resume")
    print(f"decoder: {step} steps, {(time.time() - start) / 60:.1f} min, VAE RMSE now {rmse:.2f}/255", flush=True)
    return vae.eval(), load(path)


def param_count(model) -> int:
    return sum(p.numel() for p in model.parameters())


def stage_export(out: Path, vae, unet, text_encoder, tokenizer_dir: Path, latents: dict, info: dict):
    import shutil

    from diffusers import EulerDiscreteScheduler, StableDiffusionPipeline

    vae.register_to_config(scaling_factor=latents["scaling_factor"])
    scheduler = EulerDiscreteScheduler(**SCHEDULER_CONFIG)
    from transformers import CLIPTokenizer

    tokenizer = CLIPTokenizer.from_pretrained(tokenizer_dir)
    pipe = StableDiffusionPipeline(vae=vae, text_encoder=text_encoder, tokenizer=tokenizer, unet=unet,
                                   scheduler=scheduler, safety_checker=None, feature_extractor=None,
                                   requires_safety_checker=False)
    tmp = out.with_name(out.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    pipe.save_pretrained(tmp, safe_serialization=True)
    # The tokenizer folder exactly as written and verified by write_tokenizer().
    shutil.rmtree(tmp / "tokenizer")
    shutil.copytree(tokenizer_dir, tmp / "tokenizer")
    scores = ""
    card = out / "README.md"
    if card.exists():  # keep the scores section (written by evaluate_tiny_model.py --update-card)
        old = card.read_text()
        if "<!-- scores -->" in old and "<!-- /scores -->" in old:
            scores = old[old.index("<!-- scores -->"): old.index("<!-- /scores -->") + len("<!-- /scores -->")]
    (tmp / "README.md").write_text(model_card(info, scores))
    (tmp / "training.json").write_text(json.dumps(info, indent=2) + "\n")
    shutil.rmtree(out, ignore_errors=True)
    os.replace(tmp, out)
    size = sum(f.stat().st_size for f in out.rglob("*") if f.is_file())
    print(f"exported {out} ({size / 1e6:.1f} MB)", flush=True)


def model_card(info: dict, scores: str = "") -> str:
    p = info["params"]
    words = shapes.vocabulary()
    d = info.get("decoder")
    decoder_line = (f"- VAE decoder fine-tuned alone on the cached latents (encoder frozen): {d['steps']} steps,\n"
                    f"  {d['minutes']} min; reconstruction RMSE then {d['rmse_255']}/255.\n") if d else ""
    NOT_EVALUATED = "<!-- scores -->\n(not evaluated yet)\n<!-- /scores -->"
    return f"""# tiny-shapes: NodeFlow's built-in diffusion model

A very small Stable-Diffusion-shaped model (diffusers format) that NodeFlow ships so that every
workflow, test and benchmark runs for real on a CPU without downloading weights. It draws one
coloured shape on a background from a caption. It is a test and demo model, not an art model.

Load it like any SD 1.x folder:

```python
from diffusers import StableDiffusionPipeline
pipe = StableDiffusionPipeline.from_pretrained("resources/models/tiny-shapes", safety_checker=None,
                                               requires_safety_checker=False)
image = pipe("a red circle on a blue background", num_inference_steps=20, guidance_scale=5).images[0]
```

## Data
{info["images"]} pictures of 64x64 pixels drawn with Pillow by `tools/shapes_dataset.py` (seeded, no
download): one {", ".join(shapes.SHAPES)} in one of {len(shapes.COLOURS)} colours
({", ".join(shapes.COLOURS)}), small or large, at the {", ".join(shapes.POSITIONS)}, on a plain or
two-colour background. Captions come from a small grammar, e.g. "a red circle", "a small blue square
on the left", "a yellow triangle on a black background": colour and shape are always named; size,
position and (plain) background colour {shapes.P_SIZE:.0%}, {shapes.P_POSITION:.0%} and {shapes.P_BACKGROUND:.0%} of the time, re-drawn at every
training step.
{round(100 * info.get("empty_captions", 0.1))}% of captions are empty (for classifier-free guidance).

## Architecture (stock diffusers / transformers classes)
| part | class | parameters | notes |
|---|---|---|---|
| VAE | `AutoencoderKL` | {p["vae"]:,} | channels {list(VAE_CONFIG["block_out_channels"])}, 64x64x3 -> 16x16x4 (factor 4), scaling_factor {info["vae"]["scaling_factor"]:.4f} |
| UNet | `UNet2DConditionModel` | {p["unet"]:,} | channels {list(UNET_CONFIG["block_out_channels"])}, 1 layer per block, cross-attention (dim {UNET_CONFIG["cross_attention_dim"]}, {UNET_CONFIG["attention_head_dim"]} heads) at 8x8 and 4x4, sample size 16 |
| text encoder | `CLIPTextModel` | {p["text_encoder"]:,} | {TEXT_CONFIG["num_hidden_layers"]} layers, width {TEXT_CONFIG["hidden_size"]}, {TEXT_CONFIG["num_attention_heads"]} heads, {MAX_TOKENS} tokens |
| tokenizer | `CLIPTokenizer` | - | word-level BPE vocab (vocab.json/merges.txt) built from the {len(words)} grammar words; each word is one token |
| scheduler | `EulerDiscreteScheduler` | - | v-prediction, zero terminal SNR (`rescale_betas_zero_snr`), `trailing` spacing, scaled_linear 0.00085-0.012, 1000 steps |

Weights are float32 safetensors (CPU inference runs in float32; the whole folder is small anyway).

## Training
`tools/train_tiny_model.py` (seed {info["seed"]}, torch {info["torch"]}, {info["threads"]} CPU threads, on a
2-core machine):
- VAE: {info["vae"]["steps"]} steps of batch 32, {info["vae"]["minutes"]} min; reconstruction RMSE
  {info["vae"]["rmse_255"]}/255 on training pictures.
{decoder_line}- UNet + text encoder, on cached latents: {info["unet"]["steps"]} steps of batch {info["unet"]["batch"]},
  {info["unet"]["minutes"]} min; AdamW, cosine learning rate, EMA weights exported.

## Scores
Measured by `tools/evaluate_tiny_model.py` from pixels (`tools/shape_scoring.py`): colour of the
shape, shape class (nearest-neighbour on masks of generator pictures), background colour,
position and size, each counted only when the prompt names it.

{scores or NOT_EVALUATED}

## Limits
One shape per picture, 64x64 only, the grammar's words only (other words map to the unknown token).
Small stars often lose their points (the VAE alone turns 19 of 31 into rounded blobs:
its 16x16x4 latent is coarse for a 20-pixel star); large stars keep them.
"""


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=ROOT / "resources/models/tiny-shapes")
    parser.add_argument("--work", type=Path, default=ROOT / "build/train")
    parser.add_argument("--minutes", type=float, default=120.0, help="total budget (VAE + UNet + decoder)")
    parser.add_argument("--vae-share", type=float, default=0.14)
    parser.add_argument("--unet-share", type=float, default=0.79)
    parser.add_argument("--decoder-share", type=float, default=0.06,
                        help="share of --minutes for fine-tuning the VAE decoder on the cached latents")
    parser.add_argument("--more-vae", action="store_true",
                        help="continue a finished VAE up to its (bigger) budget; drops latents and UNet")
    parser.add_argument("--images", type=int, default=16000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--save-minutes", type=float, default=3.0)
    parser.add_argument("--vae-steps", type=int, default=2000)
    parser.add_argument("--vae-batch", type=int, default=32)
    parser.add_argument("--vae-lr", type=float, default=2e-3)
    parser.add_argument("--vae-kl", type=float, default=1e-5)
    parser.add_argument("--decoder-lr", type=float, default=5e-4)
    add_edge_arguments(parser, vae=0.0, decoder=0.0)
    parser.add_argument("--unet-steps", type=int, default=20000)
    parser.add_argument("--unet-batch", type=int, default=32)
    parser.add_argument("--unet-lr", type=float, default=1e-3)
    parser.add_argument("--ema", type=float, default=0.999)
    parser.add_argument("--empty-captions", type=float, default=0.1)
    args = parser.parse_args(argv)

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    Stop.install()
    args.work.mkdir(parents=True, exist_ok=True)
    t0 = time.time()
    tokenizer_dir = args.work / "tokenizer"
    tokenizer = write_tokenizer(tokenizer_dir)
    images, labels = stage_data(args.work, args.images)
    vae = stage_vae(args.work, images, args)
    latents = stage_latents(args.work, vae, images)
    unet, text_encoder, unet_info = stage_unet(args.work, latents, labels, tokenizer, args)
    vae_state = load(args.work / "vae.pt")
    decoder_state = None
    if args.decoder_share > 0:
        vae, decoder_state = stage_decoder(args.work, vae, latents, images, args)
    info = {
        "images": args.images,
        "seed": args.seed,
        "params": {"vae": param_count(vae), "unet": param_count(unet), "text_encoder": param_count(text_encoder)},
        "vae": {"steps": vae_state["step"], "minutes": round(vae_state["elapsed"] / 60, 1),
                "rmse_255": round(latents["vae_rmse"], 2), "scaling_factor": latents["scaling_factor"]},
        "unet": {"steps": unet_info["steps"], "minutes": round(unet_info["minutes"], 1),
                 "batch": args.unet_batch},
        "decoder": ({"steps": decoder_state["step"], "minutes": round(decoder_state["elapsed"] / 60, 1),
                     "rmse_255": round(decoder_state["rmse_255"], 2)} if decoder_state else None),
        "threads": args.threads,
        "empty_captions": args.empty_captions,
        "torch": torch.__version__,
    }
    stage_export(args.out, vae, unet, text_encoder, tokenizer_dir, latents, info)
    print(json.dumps(info), flush=True)
    print(f"total (this invocation): {(time.time() - t0) / 60:.1f} min", flush=True)


if __name__ == "__main__":
    main()
