"""Procedural "coloured shapes" pictures with captions, for the built-in tiny model.

Every picture is drawn with Pillow from a seed, so the data set needs no download and the same
seed always gives the same picture, caption and labels.

A picture is one shape (circle, square, triangle, star, ring) in one named colour, small or large,
at one of five positions, on a plain or two-colour background. Its labels always say everything
about it; its caption names the colour and the shape always and, sometimes, the size, the position
and (for plain backgrounds only) the background colour:

    a red circle
    a small blue square on the left
    a yellow triangle on a black background

All the words of the caption grammar live in this module (`COLOURS`, `SHAPES`, `SIZES`,
`POSITION_PHRASES`, `FILLER_WORDS`); `vocabulary()` lists them, and the tokenizer is built from it.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

from PIL import Image, ImageDraw

IMAGE_SIZE = 64
# Shapes keep this many pixels away from the picture border, so the border is pure background.
MARGIN = 4

# Named colours, chosen far apart in RGB.
COLOURS: dict[str, tuple[int, int, int]] = {
    "red": (220, 30, 30),
    "green": (30, 170, 50),
    "blue": (35, 70, 225),
    "yellow": (245, 225, 40),
    "orange": (250, 140, 20),
    "purple": (140, 45, 175),
    "white": (245, 245, 245),
    "black": (15, 15, 15),
}
SHAPES = ("circle", "square", "triangle", "star", "ring")
SIZES = ("small", "large")
# Radius (half of the bounding box side), in pixels, per size.
SIZE_RADIUS = {"small": (9, 11), "large": (15, 18)}
POSITIONS = ("center", "left", "right", "top", "bottom")
POSITION_PHRASES = {
    "center": "in the center",
    "left": "on the left",
    "right": "on the right",
    "top": "at the top",
    "bottom": "at the bottom",
}
FILLER_WORDS = ("a", "an", "on", "background")

# Pairs that are too close to tell apart reliably when one sits on the other.
_LOW_CONTRAST = {frozenset(("yellow", "white")), frozenset(("yellow", "orange"))}

# How often the optional parts of a caption are named.
P_SIZE = 0.6
P_POSITION = 0.7
P_BACKGROUND = 0.5  # only for plain backgrounds
P_TWO_COLOUR_BACKGROUND = 0.3


def vocabulary() -> list[str]:
    """Every word the caption grammar can produce, sorted."""
    words = set(FILLER_WORDS) | set(COLOURS) | set(SHAPES) | set(SIZES)
    for phrase in POSITION_PHRASES.values():
        words.update(phrase.split())
    return sorted(words)


@dataclass(frozen=True)
class Sample:
    image: Image.Image
    caption: str
    labels: dict


def _article(next_word: str) -> str:
    return "an" if next_word[0] in "aeiou" else "a"


def caption_for(labels: dict, rng: random.Random) -> str:
    """A caption for `labels`; the optional parts are named at random (drawn from `rng`)."""
    words = []
    if rng.random() < P_SIZE:
        words.append(labels["size"])
    words += [labels["colour"], labels["shape"]]
    text = f"{_article(words[0])} {' '.join(words)}"
    if rng.random() < P_POSITION:
        text += " " + POSITION_PHRASES[labels["position"]]
    if labels["background2"] is None and rng.random() < P_BACKGROUND:
        bg = labels["background"]
        text += f" on {_article(bg)} {bg} background"
    return text


def parse_caption(caption: str) -> dict:
    """What a caption names: colour, shape, and size/position/background when named (else None)."""
    words = caption.split()
    named = {"colour": None, "shape": None, "size": None, "position": None, "background": None}
    for i, word in enumerate(words):
        if word in SIZES:
            named["size"] = word
        elif word in SHAPES:
            named["shape"] = word
        elif word in COLOURS:
            if i + 1 < len(words) and words[i + 1] == "background":
                named["background"] = word
            else:
                named["colour"] = word
    for position, phrase in POSITION_PHRASES.items():
        if phrase in caption:
            named["position"] = position
    return named


def _shape_points(shape: str, cx: float, cy: float, r: float) -> list[tuple[float, float]]:
    if shape == "triangle":
        # Upright equilateral triangle filling the box width; centred on its box.
        h = r * math.sqrt(3)
        return [(cx, cy - h / 2), (cx + r, cy + h / 2), (cx - r, cy + h / 2)]
    if shape == "star":
        points = []
        for k in range(10):
            radius = r if k % 2 == 0 else r * 0.45
            angle = -math.pi / 2 + k * math.pi / 5
            points.append((cx + radius * math.cos(angle), cy + radius * math.sin(angle)))
        return points
    raise ValueError(shape)


def draw_shape(draw: ImageDraw.ImageDraw, shape: str, cx: float, cy: float, r: float, fill, hole=None):
    """Draw `shape` with bounding box centred on (cx, cy), half-side r. `hole` fills a ring's hole."""
    box = [cx - r, cy - r, cx + r, cy + r]
    if shape == "circle":
        draw.ellipse(box, fill=fill)
    elif shape == "square":
        draw.rectangle(box, fill=fill)
    elif shape == "ring":
        draw.ellipse(box, fill=fill)
        inner = r * 0.55
        draw.ellipse([cx - inner, cy - inner, cx + inner, cy + inner], fill=hole)
    else:
        draw.polygon(_shape_points(shape, cx, cy, r), fill=fill)


def _position_centre(position: str, r: float, rng: random.Random) -> tuple[float, float]:
    mid = IMAGE_SIZE / 2
    near = MARGIN + r + 1  # shape box touching (almost) the margin
    far = IMAGE_SIZE - near
    jitter = lambda: rng.uniform(-2.5, 2.5)  # noqa: E731
    if position == "center":
        return mid + jitter(), mid + jitter()
    if position == "left":
        return near + rng.uniform(0, 2), mid + jitter()
    if position == "right":
        return far - rng.uniform(0, 2), mid + jitter()
    if position == "top":
        return mid + jitter(), near + rng.uniform(0, 2)
    return mid + jitter(), far - rng.uniform(0, 2)


def _background(draw: ImageDraw.ImageDraw, s: int, first, second, split: str):
    draw.rectangle([0, 0, s, s], fill=first)
    if second is None:
        return
    if split == "vertical":
        draw.rectangle([s // 2, 0, s, s], fill=second)
    elif split == "horizontal":
        draw.rectangle([0, s // 2, s, s], fill=second)
    else:  # diagonal
        draw.polygon([(s, 0), (s, s), (0, s)], fill=second)


def _contrasts(a: str, b: str) -> bool:
    return a != b and frozenset((a, b)) not in _LOW_CONTRAST


def labels_for_seed(seed: int) -> dict:
    """The structured labels of picture `seed` (what the picture shows)."""
    rng = random.Random(f"shapes-{seed}")
    colour = rng.choice(list(COLOURS))
    shape = rng.choice(SHAPES)
    size = rng.choice(SIZES)
    position = rng.choice(POSITIONS)
    options = [c for c in COLOURS if _contrasts(c, colour)]
    background = rng.choice(options)
    background2 = None
    split = None
    if rng.random() < P_TWO_COLOUR_BACKGROUND:
        background2 = rng.choice([c for c in options if c != background])
        split = rng.choice(("vertical", "horizontal", "diagonal"))
    r = rng.uniform(*SIZE_RADIUS[size])
    cx, cy = _position_centre(position, r, rng)
    return {
        "colour": colour,
        "shape": shape,
        "size": size,
        "position": position,
        "background": background,
        "background2": background2,
        "split": split,
        "radius": r,
        "centre": (cx, cy),
    }


def render(labels: dict, supersample: int = 4) -> Image.Image:
    """Draw the picture described by `labels` (anti-aliased by supersampling)."""
    s = IMAGE_SIZE * supersample
    image = Image.new("RGB", (s, s))
    draw = ImageDraw.Draw(image)
    first = COLOURS[labels["background"]]
    second = COLOURS[labels["background2"]] if labels["background2"] else None
    _background(draw, s, first, second, labels["split"])
    cx, cy = labels["centre"]
    r = labels["radius"]
    k = supersample
    if labels["shape"] == "ring" and second is not None:
        # The hole shows the background behind it: draw the ring on a mask.
        mask = Image.new("L", (s, s), 0)
        draw_shape(ImageDraw.Draw(mask), "ring", cx * k, cy * k, r * k, fill=255, hole=0)
        image.paste(COLOURS[labels["colour"]], (0, 0), mask)
    else:
        draw_shape(draw, labels["shape"], cx * k, cy * k, r * k, COLOURS[labels["colour"]], hole=first)
    if supersample > 1:
        image = image.resize((IMAGE_SIZE, IMAGE_SIZE), Image.Resampling.BOX)
    return image


def shape_mask(labels: dict, supersample: int = 4) -> Image.Image:
    """The shape's own mask ("L", 255 = shape) for the picture described by `labels`."""
    s = IMAGE_SIZE * supersample
    mask = Image.new("L", (s, s), 0)
    cx, cy = labels["centre"]
    k = supersample
    draw_shape(ImageDraw.Draw(mask), labels["shape"], cx * k, cy * k, labels["radius"] * k, 255, hole=0)
    return mask.resize((IMAGE_SIZE, IMAGE_SIZE), Image.Resampling.BOX)


def sample(seed: int) -> Sample:
    """Picture `seed`: (image, caption, labels). Deterministic."""
    labels = labels_for_seed(seed)
    caption = caption_for(labels, random.Random(f"caption-{seed}"))
    return Sample(render(labels), caption, labels)


def generate(count: int, start: int = 0):
    """Yield `count` samples with seeds start, start+1, ..."""
    for seed in range(start, start + count):
        yield sample(seed)


#: A quick check both built-in models' tests score: colour and shape always named, the rest some of
#: the time (the full evaluation draws its prompts from the grammar).
QUICK_PROMPTS = [
    "a red circle",
    "a blue square on the left",
    "a large yellow triangle",
    "a green star on a white background",
    "a white ring on a black background",
    "a small purple circle at the top",
    "an orange square",
    "a black triangle on a yellow background",
]


if __name__ == "__main__":
    import argparse
    from pathlib import Path

    parser = argparse.ArgumentParser(description="Write a grid of sample pictures and their captions.")
    parser.add_argument("--out", default="build/shapes_preview.png")
    parser.add_argument("--count", type=int, default=64)
    args = parser.parse_args()
    cols = 8
    rows = math.ceil(args.count / cols)
    grid = Image.new("RGB", (cols * IMAGE_SIZE, rows * IMAGE_SIZE))
    for i, item in enumerate(generate(args.count)):
        grid.paste(item.image, ((i % cols) * IMAGE_SIZE, (i // cols) * IMAGE_SIZE))
        print(f"{i:3d} {item.caption}")
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    grid.save(args.out)
    print("wrote", args.out)
