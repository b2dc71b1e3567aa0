"""Evaluate a built-in tiny model: does it draw what the prompt says?

For a fixed list of prompts and seeds, generates 64x64 pictures with the diffusers pipeline the
model folder names (tiny-shapes: StableDiffusionPipeline with EulerDiscreteScheduler from the
model's own scheduler config; tiny-shapes-flow: FluxPipeline, true classifier-free guidance with an
empty negative prompt) at cfg 1 and cfg 5, scores them from their pixels with `shape_scoring`
(colour, shape, background, position, size), prints a table, and writes build/eval/scores.json and
build/eval/grid.png (left panel cfg 1, right panel cfg 5, same prompts and seeds; captions in
grid.txt). Also times 20 steps of one picture at cfg 5. For a Flux model it also scores editing
(`--edit N`): FluxKontextPipeline recolours the shape of N generator pictures (the prompt names the
new colour and everything else the picture shows), scored like the rest.

    .venv/bin/python tools/evaluate_tiny_model.py [--model resources/models/tiny-shapes] [--update-card]
    .venv/bin/python tools/evaluate_tiny_model.py --model resources/models/tiny-shapes-flow --edit 40
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
#: tiny-shapes-flow's goals (NodeFlow issue 28).
FLOW_GOALS = {"colour": 0.98, "shape": 0.96, "background": 0.98, "position": 0.98, "size": 0.90}
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


def is_flow(model: Path) -> bool:
    """Whether the folder is a Flux pipeline (tiny-shapes-flow) rather than an SD one (tiny-shapes)."""
    return json.loads((Path(model) / "model_index.json").read_text())["_class_name"].startswith("Flux")


def load_pipeline(model: Path = DEFAULT_MODEL, threads: int = 2):
    import torch
    from diffusers import EulerDiscreteScheduler, FluxPipeline, StableDiffusionPipeline

    torch.set_num_threads(threads)
    if is_flow(model):
        pipe = FluxPipeline.from_pretrained(model, local_files_only=True)
    else:
        pipe = StableDiffusionPipeline.from_pretrained(model, safety_checker=None, requires_safety_checker=False,
                                                       local_files_only=True)
        pipe.scheduler = EulerDiscreteScheduler.from_config(pipe.scheduler.config)
    pipe.set_progress_bar_config(disable=True)
    return pipe


def flow_arguments(pipe, cfg: float) -> dict:
    """FluxPipeline's arguments for tiny-shapes-flow: true CFG (empty negative prompt) when cfg > 1,
    its own 16-token T5 window, its native 64x64."""
    guidance = {"negative_prompt": "", "true_cfg_scale": cfg} if cfg > 1 else {}
    return {**guidance, "max_sequence_length": pipe.tokenizer_2.model_max_length,
            "height": shapes.IMAGE_SIZE, "width": shapes.IMAGE_SIZE}


def generate(pipe, prompt: str, seed: int, cfg: float, steps: int = 20):
    import torch

    generator = torch.Generator("cpu").manual_seed(seed)
    if hasattr(pipe, "tokenizer_2"):
        return pipe(prompt, num_inference_steps=steps, generator=generator, **flow_arguments(pipe, cfg)).images[0]
    return pipe(prompt, num_inference_steps=steps, guidance_scale=cfg, generator=generator).images[0]


def edit_prompt(labels: dict) -> str:
    """A caption naming everything the picture shows (plain backgrounds only)."""
    return (f"{'an' if labels['size'][0] in 'aeiou' else 'a'} {labels['size']} {labels['colour']} {labels['shape']} "
            f"{shapes.POSITION_PHRASES[labels['position']]} on {'an' if labels['background'][0] in 'aeiou' else 'a'} "
            f"{labels['background']} background")


def evaluate_edits(pipe, count: int, cfg: float, steps: int = 20, start: int = 30_000_000):
    """Kontext editing: recolour the shape of `count` generator pictures (plain backgrounds), scored
    against the caption of the recoloured picture. Returns (accuracy, [(reference, edited, prompt)])."""
    import random

    import torch
    from diffusers import FluxKontextPipeline

    kontext = FluxKontextPipeline.from_pipe(pipe)
    kontext.set_progress_bar_config(disable=True)
    items, pictures, seed = [], [], start
    while len(items) < count:
        labels = shapes.labels_for_seed(seed)
        seed += 1
        if labels["background2"] is not None:
            continue
        rng = random.Random(f"edit-{seed}")
        colour = rng.choice([c for c in shapes.COLOURS if c != labels["colour"]
                             and shapes._contrasts(c, labels["background"])])
        reference, prompt = shapes.render(labels), edit_prompt({**labels, "colour": colour})
        generator = torch.Generator("cpu").manual_seed(seed)
        edited = kontext(image=reference, prompt=prompt, num_inference_steps=steps, generator=generator,
                         max_area=shapes.IMAGE_SIZE ** 2, _auto_resize=False, **flow_arguments(pipe, cfg)).images[0]
        items.append({"prompt": prompt, "seed": seed, **shape_scoring.score(edited, prompt)})
        pictures.append((reference, edited, prompt))
    return shape_scoring.accuracy(items), pictures


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


def table(results, cfgs, goals=GOALS) -> str:
    lines = [f"{'attribute':<11}" + "".join(f"{'cfg ' + format(c, 'g'):>10}" for c in cfgs) + f"{'goal':>8}{'n':>5}"]
    for a in shape_scoring.ATTRIBUTES:
        acc = [results[c]["accuracy"][a] for c in cfgs]
        n = results[cfgs[0]]["accuracy"][a + "_n"]
        lines.append(f"{a:<11}" + "".join(f"{x:>10.1%}" if x is not None else f"{'-':>10}" for x in acc) + f"{goals[a]:>8.0%}{n:>5}")
    lines.append(f"{'col. share':<11}" + "".join(f"{results[c]['accuracy']['colour_share_mean']:>10.1%}" for c in cfgs)
                 + "   (mean share of shape pixels in the named colour)")
    return "\n".join(lines)


def update_card(card: Path, summary: dict):
    cfgs = list(summary["accuracy"])
    rows = ["| attribute | " + " | ".join(f"cfg {c}" for c in cfgs) + " | goal | prompts x seeds |",
            "|---|" + "---|" * len(cfgs) + "---|---|"]
    for a in shape_scoring.ATTRIBUTES:
        vals = " | ".join(f"{summary['accuracy'][c][a]:.1%}" for c in cfgs)
        rows.append(f"| {a} | {vals} | {summary['goals'][a]:.0%} | {summary['accuracy'][cfgs[0]][a + '_n']} |")
    shares = " | ".join(f"{summary['accuracy'][c]['colour_share_mean']:.1%}" for c in cfgs)
    rows.append(f"| shape pixels in the named colour (mean share) | {shares} | - | - |")
    body = "\n".join(rows) + (
        f"\n\n{summary['prompts']} prompts x {len(summary['seeds'])} seeds, {summary['steps']} Euler steps. "
        f"Sampling time, 20 steps of one 64x64 picture at cfg 5 on {summary.get('threads', 2)} CPU threads (median): "
        f"{summary['seconds_per_image_20_steps']:.2f} s.\n"
    )
    edit = summary.get("edit")
    if edit:
        named = ", ".join(f"{a} {edit['accuracy'][a]:.1%}" for a in shape_scoring.ATTRIBUTES)
        body += (f"\nEditing (FluxKontextPipeline, cfg {edit['cfg']:g}, {summary['steps']} steps): the shape of "
                 f"{edit['count']} generator pictures (plain backgrounds, seeds from 30,000,000) recoloured, the "
                 f"prompt naming the new colour and everything else the picture shows: {named}.\n")
    text = card.read_text()
    start, end = "<!-- scores -->", "<!-- /scores -->"
    if start in text and end in text:
        text = text[: text.index(start) + len(start)] + "\n" + body + text[text.index(end):]
    else:
        text += f"\n## Scores\n{start}\n{body}{end}\n"
    card.write_text(text)


def seed_list(text: str) -> tuple[int, ...]:
    """`--seeds 1001,1002`; argparse names this function in its error for a value that is not one."""
    return tuple(int(seed) for seed in text.split(","))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", type=Path, default=DEFAULT_MODEL)
    parser.add_argument("--out", type=Path, default=ROOT / "build/eval")
    parser.add_argument("--prompts", type=int, default=40)
    parser.add_argument("--seeds", type=seed_list, default=SEEDS,
                        help="comma-separated generator seeds (default: the card's); others score the model on "
                             "pictures its card's numbers never saw")
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--update-card", action="store_true", help="write the scores into the model's README.md")
    parser.add_argument("--edit", type=int, default=0, help="Flux models: also score N Kontext recolouring edits")
    parser.add_argument("--edit-cfg", type=float, default=2.0)
    args = parser.parse_args(argv)

    goals = FLOW_GOALS if is_flow(args.model) else GOALS
    pipe = load_pipeline(args.model, args.threads)
    prompts = prompt_list(args.prompts)
    cfgs = (1.0, 5.0)
    t = time.time()
    results, images = evaluate(pipe, prompts, args.seeds, cfgs, args.steps, progress=True)
    elapsed = time.time() - t
    seconds = time_sampling(pipe)
    print(table(results, cfgs, goals))
    print(f"sampling: {seconds:.2f} s for 20 steps of one 64x64 picture at cfg 5 (goal < 1 s)")
    print(f"evaluation: {len(images)} pictures in {elapsed:.0f} s")
    summary = {
        "model": str(args.model),
        "prompts": len(prompts),
        "seeds": list(args.seeds),
        "steps": args.steps,
        "goals": goals,
        "accuracy": {format(c, "g"): results[c]["accuracy"] for c in cfgs},
        "seconds_per_image_20_steps": round(seconds, 3),
        "threads": args.threads,
    }
    checks = {a: results[5.0]["accuracy"][a] >= g for a, g in goals.items()}
    checks["cfg5_above_cfg1"] = (sum(results[5.0]["accuracy"][a] for a in goals)
                                 > sum(results[1.0]["accuracy"][a] for a in goals))
    checks["sampling_under_1s"] = seconds < 1.0
    summary["goals_met"] = checks
    print("goals met:", ", ".join(f"{k}={'yes' if v else 'NO'}" for k, v in checks.items()))
    args.out.mkdir(parents=True, exist_ok=True)
    if args.edit and is_flow(args.model):
        accuracy, pictures = evaluate_edits(pipe, args.edit, args.edit_cfg, args.steps)
        summary["edit"] = {"count": args.edit, "cfg": args.edit_cfg, "accuracy": accuracy}
        print("editing:", ", ".join(f"{a} {accuracy[a]:.1%}" for a in shape_scoring.ATTRIBUTES))
        panels = {(panel, k, 0): picture for k, pair in enumerate(pictures)
                  for panel, picture in zip(("reference", "edited"), pair[:2])}
        edits, captions = grid(panels, [p for _, _, p in pictures], (0,), ("reference", "edited"))
        edits.save(args.out / "edits.png")
        (args.out / "edits.txt").write_text("left panel reference, right panel edited\n" + captions)
    items = {format(c, "g"): [{k: v for k, v in it.items()} for it in results[c]["items"]] for c in cfgs}
    (args.out / "scores.json").write_text(json.dumps({**summary, "items": items}, indent=1) + "\n")
    picture, captions = grid(images, prompts, args.seeds, cfgs)
    picture.save(args.out / "grid.png")
    (args.out / "grid.txt").write_text("left panel cfg 1, right panel cfg 5\n" + captions)
    print(f"wrote {args.out / 'scores.json'}, {args.out / 'grid.png'}")
    if args.update_card:
        update_card(args.model / "README.md", summary)
        print(f"updated {args.model / 'README.md'}")


if __name__ == "__main__":
    main()
