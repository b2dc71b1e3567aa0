"""Evaluate the built-in tiny model: does it draw what the prompt says?

For a fixed list of prompts and seeds, generates 64x64 pictures with diffusers'
StableDiffusionPipeline (EulerDiscreteScheduler from the model's own scheduler config) at cfg 1
and cfg 5, scores them from their pixels with `shape_scoring` (colour, shape, background,
position, size), prints a table, and writes build/eval/scores.json and build/eval/grid.png
(left panel cfg 1, right panel cfg 5, same prompts and seeds; captions in grid.txt).
Also times 20 steps of one picture at cfg 5.

    .venv/bin/python tools/evaluate_tiny_model.py [--model resources/models/tiny-shapes] [--update-card]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
os.environ.setdefault("DIFFUSERS_VERBOSITY", "error")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

sys.path.insert(0, str(Path(__file__).resolve().parent))
import shape_scoring  # noqa: E402
import shapes_dataset as shapes  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_MODEL = ROOT / "resources/models/tiny-shapes"
GOALS = {"colour": 0.95, "shape": 0.90, "background": 0.90, "position": 0.85, "size": 0.85}
SEEDS = (1000, 2000)


def prompt_list(count: int = 40) -> list[str]:
    """Fixed evaluation prompts: every colour x shape pair once (8 and 5 are coprime), with size,
    position and background named on a fixed pattern."""
    colours = list(shapes.COLOURS)
    prompts = []
    for i in range(count):
        colour, shape = colours[i % len(colours)], shapes.SHAPES[i % len(shapes.SHAPES)]
        words = [colour, shape]
        if i % 3 == 0:
            words.insert(0, shapes.SIZES[(i // 3) % 2])
        text = f"{'an' if words[0][0] in 'aeiou' else 'a'} {' '.join(words)}"
        if i % 2 == 0:
            text += " " + shapes.POSITION_PHRASES[shapes.POSITIONS[(i // 2) % len(shapes.POSITIONS)]]
        if i % 4 in (1, 3):
            k = (i + 1 + 2 * (i // len(colours))) % len(colours)
            while not shapes._contrasts(colours[k], colour):
                k = (k + 1) % len(colours)
            bg = colours[k]
            text += f" on {'an' if bg[0] in 'aeiou' else 'a'} {bg} background"
        prompts.append(text)
    return prompts


def load_pipeline(model: Path = DEFAULT_MODEL, threads: int = 2):
    import torch
    from diffusers import EulerDiscreteScheduler, StableDiffusionPipeline

    torch.set_num_threads(threads)
    pipe = StableDiffusionPipeline.from_pretrained(model, safety_checker=None, requires_safety_checker=False,
                                                   local_files_only=True)
    pipe.scheduler = EulerDiscreteScheduler.from_config(pipe.scheduler.config)
    pipe.set_progress_bar_config(disable=True)
    return pipe


def generate(pipe, prompt: str, seed: int, cfg: float, steps: int = 20):
    import torch

    generator = torch.Generator("cpu").manual_seed(seed)
    return pipe(prompt, num_inference_steps=steps, guidance_scale=cfg, generator=generator).images[0]


def evaluate(pipe, prompts, seeds=SEEDS, cfgs=(1.0, 5.0), steps: int = 20, progress: bool = False):
    """{cfg: {"accuracy": {...}, "items": [...]}} and the images, keyed (cfg, prompt index, seed)."""
    results, images = {}, {}
    total = len(prompts) * len(seeds) * len(cfgs)
    done = 0
    for cfg in cfgs:
        items = []
        for p, prompt in enumerate(prompts):
            for seed in seeds:
                image = generate(pipe, prompt, seed, cfg, steps)
                images[(cfg, p, seed)] = image
                s = shape_scoring.score(image, prompt)
                items.append({"prompt": prompt, "seed": seed, **s})
                done += 1
                if progress and done % 20 == 0:
                    print(f"  {done}/{total}", file=sys.stderr, flush=True)
        accuracy = shape_scoring.accuracy(items)
        accuracy["colour_share_mean"] = sum(it["colour_share"] for it in items) / len(items)
        results[cfg] = {"accuracy": accuracy, "items": items}
    return results, images


def time_sampling(pipe, repeats: int = 5, steps: int = 20, cfg: float = 5.0) -> float:
    generate(pipe, "a red circle", 0, cfg, steps)  # warm-up
    times = []
    for i in range(repeats):
        t = time.perf_counter()
        generate(pipe, "a blue star on the left", i, cfg, steps)
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def grid(images, prompts, seeds, cfgs, cols: int = 10):
    from PIL import Image

    size, gap = shapes.IMAGE_SIZE, 8
    order = [(p, s) for p in range(len(prompts)) for s in seeds]
    rows = -(-len(order) // cols)
    panel_w = cols * size
    out = Image.new("RGB", (len(cfgs) * panel_w + (len(cfgs) - 1) * gap, rows * size), (128, 128, 128))
    for c, cfg in enumerate(cfgs):
        for k, (p, s) in enumerate(order):
            out.paste(images[(cfg, p, s)], (c * (panel_w + gap) + (k % cols) * size, (k // cols) * size))
    lines = [f"row {k // cols} col {k % cols}: {prompts[p]} (seed {s})" for k, (p, s) in enumerate(order)]
    return out, "\n".join(lines) + "\n"


def table(results, cfgs) -> str:
    lines = [f"{'attribute':<11}" + "".join(f"{'cfg ' + format(c, 'g'):>10}" for c in cfgs) + f"{'goal':>8}{'n':>5}"]
    for a in shape_scoring.ATTRIBUTES:
        acc = [results[c]["accuracy"][a] for c in cfgs]
        n = results[cfgs[0]]["accuracy"][a + "_n"]
        lines.append(f"{a:<11}" + "".join(f"{x:>10.1%}" if x is not None else f"{'-':>10}" for x in acc) + f"{GOALS[a]:>8.0%}{n:>5}")
    lines.append(f"{'col. share':<11}" + "".join(f"{results[c]['accuracy']['colour_share_mean']:>10.1%}" for c in cfgs)
                 + "   (mean share of shape pixels in the named colour)")
    return "\n".join(lines)


def update_card(card: Path, summary: dict):
    cfgs = list(summary["accuracy"])
    rows = ["| attribute | " + " | ".join(f"cfg {c}" for c in cfgs) + " | goal | prompts x seeds |",
            "|---|" + "---|" * len(cfgs) + "---|---|"]
    for a in shape_scoring.ATTRIBUTES:
        vals = " | ".join(f"{summary['accuracy'][c][a]:.1%}" for c in cfgs)
        rows.append(f"| {a} | {vals} | {GOALS[a]:.0%} | {summary['accuracy'][cfgs[0]][a + '_n']} |")
    shares = " | ".join(f"{summary['accuracy'][c]['colour_share_mean']:.1%}" for c in cfgs)
    rows.append(f"| shape pixels in the named colour (mean share) | {shares} | - | - |")
    body = "\n".join(rows) + (
        f"\n\n{summary['prompts']} prompts x {len(summary['seeds'])} seeds, {summary['steps']} Euler steps. "
        f"Sampling time, 20 steps of one 64x64 picture at cfg 5 on 2 CPU threads (median): "
        f"{summary['seconds_per_image_20_steps']:.2f} s.\n"
    )
    text = card.read_text()
    start, end = "<!-- scores -->", "<!-- /scores -->"
    if start in text and end in text:
        text = text[: text.index(start) + len(start)] + "\n" + body + text[text.index(end):]
    else:
        text += f"\n## Scores\n{start}\n{body}{end}\n"
    card.write_text(text)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", type=Path, default=DEFAULT_MODEL)
    parser.add_argument("--out", type=Path, default=ROOT / "build/eval")
    parser.add_argument("--prompts", type=int, default=40)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--update-card", action="store_true", help="write the scores into the model's README.md")
    args = parser.parse_args(argv)

    pipe = load_pipeline(args.model, args.threads)
    prompts = prompt_list(args.prompts)
    cfgs = (1.0, 5.0)
    t = time.time()
    results, images = evaluate(pipe, prompts, SEEDS, cfgs, args.steps, progress=True)
    elapsed = time.time() - t
    seconds = time_sampling(pipe)
    print(table(results, cfgs))
    print(f"sampling: {seconds:.2f} s for 20 steps of one 64x64 picture at cfg 5 (goal < 1 s)")
    print(f"evaluation: {len(images)} pictures in {elapsed:.0f} s")
    summary = {
        "model": str(args.model),
        "prompts": len(prompts),
        "seeds": list(SEEDS),
        "steps": args.steps,
        "goals": GOALS,
        "accuracy": {format(c, "g"): results[c]["accuracy"] for c in cfgs},
        "seconds_per_image_20_steps": round(seconds, 3),
    }
    checks = {a: results[5.0]["accuracy"][a] >= g for a, g in GOALS.items()}
    checks["cfg5_above_cfg1"] = (sum(results[5.0]["accuracy"][a] for a in GOALS)
                                 > sum(results[1.0]["accuracy"][a] for a in GOALS))
    checks["sampling_under_1s"] = seconds < 1.0
    summary["goals_met"] = checks
    print("goals met:", ", ".join(f"{k}={'yes' if v else 'NO'}" for k, v in checks.items()))
    args.out.mkdir(parents=True, exist_ok=True)
    items = {format(c, "g"): [{k: v for k, v in it.items()} for it in results[c]["items"]] for c in cfgs}
    (args.out / "scores.json").write_text(json.dumps({**summary, "items": items}, indent=1) + "\n")
    picture, captions = grid(images, prompts, SEEDS, cfgs)
    picture.save(args.out / "grid.png")
    (args.out / "grid.txt").write_text("left panel cfg 1, right panel cfg 5\n" + captions)
    print(f"wrote {args.out / 'scores.json'}, {args.out / 'grid.png'}")
    if args.update_card:
        update_card(args.model / "README.md", summary)
        print(f"updated {args.model / 'README.md'}")


if __name__ == "__main__":
    main()
