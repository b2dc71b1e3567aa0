"""Objective, pixel-based scores for pictures of one coloured shape (the tiny model's evaluation).

`measure(image)` finds the background from the picture border, the shape as the largest region
of other colours, and reports its colour, shape class, position and size, plus the background
colour. `score(image, caption)` compares that with what the caption names. The shape classifier
is a nearest-neighbour vote over masks of the data generator's own pictures, so it needs no
training data beyond `shapes_dataset`.
"""

from __future__ import annotations

import functools
import sys
from pathlib import Path

import numpy as np
from PIL import Image, ImageFilter
from scipy import ndimage

sys.path.insert(0, str(Path(__file__).resolve().parent))
import shapes_dataset as shapes  # noqa: E402

NAMES = list(shapes.COLOURS)
PALETTE = np.array([shapes.COLOURS[n] for n in NAMES], dtype=np.float32)
BORDER = 2  # pixels of frame read as background
BORDER_SHARE = 0.15  # a colour covering this much of the frame is a background colour
CENTER_RADIUS = 5.5  # bounding-box centre closer than this (px, per axis) to the middle: "center"
LARGE_SIDE = 26  # bounding-box side (px) from which a shape counts as large
MASK_SIDE = 20  # shape masks are compared at this resolution
BLURS = (0.0, 0.8, 1.3)  # reference pictures are drawn sharp and with these Gaussian blurs (px)


def _as_array(image) -> np.ndarray:
    if isinstance(image, Image.Image):
        image = np.asarray(image.convert("RGB"))
    return np.asarray(image, dtype=np.float32)


def nearest_colour(pixels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Index into NAMES of the nearest named colour for each pixel, and the distance to it."""
    d = np.linalg.norm(pixels[..., None, :] - PALETTE, axis=-1)
    return d.argmin(-1), d.min(-1)


def _frame(shape) -> np.ndarray:
    frame = np.zeros(shape, bool)
    frame[:BORDER], frame[-BORDER:], frame[:, :BORDER], frame[:, -BORDER:] = True, True, True, True
    return frame


def foreground(image) -> tuple[np.ndarray, list[str]]:
    """(mask of the shape, background colour names ordered by frame share)."""
    rgb = _as_array(image)
    cls, _ = nearest_colour(rgb)
    counts = np.bincount(cls[_frame(cls.shape)], minlength=len(NAMES))
    share = counts / counts.sum()
    bg = [i for i in np.argsort(-share) if share[i] >= BORDER_SHARE]
    mask = ~np.isin(cls, bg)
    # Drop one-pixel seams (anti-aliased edges of a two-colour background), keep the largest region,
    # then give back the thin parts of it that the opening removed (star tips, ring rims).
    opened = ndimage.binary_opening(mask, structure=ndimage.generate_binary_structure(2, 1))
    if opened.any():
        labels, n = ndimage.label(opened)
        sizes = ndimage.sum(opened, labels, range(1, n + 1))
        core = labels == (1 + int(np.argmax(sizes)))
        mask = mask & ndimage.binary_dilation(core, iterations=2)
    elif mask.any():
        labels, n = ndimage.label(mask)
        sizes = ndimage.sum(mask, labels, range(1, n + 1))
        mask = labels == (1 + int(np.argmax(sizes)))
    return mask, [NAMES[i] for i in bg]


def normalized_mask(mask: np.ndarray) -> np.ndarray | None:
    """The mask cropped to its bounding box and resized to MASK_SIDE², flattened (None if empty)."""
    ys, xs = np.nonzero(mask)
    if len(ys) < 4:
        return None
    crop = mask[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1].astype(np.float32)
    small = Image.fromarray((crop * 255).astype(np.uint8)).resize((MASK_SIDE, MASK_SIDE), Image.Resampling.BILINEAR)
    return np.asarray(small, dtype=np.float32).ravel() / 255.0


@functools.lru_cache(maxsize=1)
def _references(count: int = 900, start: int = 10_000_000) -> tuple[np.ndarray, np.ndarray]:
    """Normalized foreground masks of generator pictures (seeds outside the training range),
    sharp and softened by a Gaussian blur."""
    feats, classes = [], []
    seed = start
    per_shape = count // len(shapes.SHAPES)
    have = {s: 0 for s in shapes.SHAPES}
    while min(have.values()) < per_shape:
        labels = shapes.labels_for_seed(seed)
        seed += 1
        if have[labels["shape"]] >= per_shape:
            continue
        picture = shapes.render(labels)
        blur = BLURS[have[labels["shape"]] % len(BLURS)]
        if blur:  # generated pictures are softer than drawn ones
            picture = picture.filter(ImageFilter.GaussianBlur(blur))
        mask, _ = foreground(picture)
        feat = normalized_mask(mask)
        if feat is None:
            continue
        feats.append(feat)
        classes.append(shapes.SHAPES.index(labels["shape"]))
        have[labels["shape"]] += 1
    return np.stack(feats), np.array(classes)


def classify_shape(mask: np.ndarray, k: int = 5) -> str | None:
    feat = normalized_mask(mask)
    if feat is None:
        return None
    refs, classes = _references()
    d = ((refs - feat) ** 2).sum(1)
    votes = np.bincount(classes[np.argsort(d)[:k]], minlength=len(shapes.SHAPES))
    return shapes.SHAPES[int(np.argmax(votes))]


def position_of(mask: np.ndarray) -> str | None:
    """Named position from the centre of the shape's bounding box.

    (The bounding box, not the centroid: a triangle's centroid sits low in its box.)"""
    ys, xs = np.nonzero(mask)
    if len(ys) == 0:
        return None
    mid = (shapes.IMAGE_SIZE - 1) / 2
    dx = (xs.min() + xs.max()) / 2 - mid
    dy = (ys.min() + ys.max()) / 2 - mid
    if max(abs(dx), abs(dy)) < CENTER_RADIUS:
        return "center"
    if abs(dx) >= abs(dy):
        return "left" if dx < 0 else "right"
    return "top" if dy < 0 else "bottom"


def size_of(mask: np.ndarray) -> str | None:
    ys, xs = np.nonzero(mask)
    if len(ys) == 0:
        return None
    side = max(ys.max() - ys.min(), xs.max() - xs.min()) + 1
    return "large" if side >= LARGE_SIDE else "small"


def measure(image) -> dict:
    """What the picture shows, read from its pixels."""
    rgb = _as_array(image)
    mask, background = foreground(rgb)
    area = int(mask.sum())
    result = {"area": area, "background": background[0] if background else None, "backgrounds": background,
              "colour": None, "colour_shares": {}, "shape": None, "position": None, "size": None}
    if area == 0:
        return result
    # Colour from the inside of the shape: its outline pixels blend with the background.
    core = ndimage.binary_erosion(mask, structure=ndimage.generate_binary_structure(2, 1))
    inside = core if core.sum() >= 5 else mask
    cls, _ = nearest_colour(rgb[inside])
    counts = np.bincount(cls, minlength=len(NAMES)) / inside.sum()
    result["colour_shares"] = {NAMES[i]: round(float(c), 3) for i, c in enumerate(counts) if c > 0}
    result["colour"] = NAMES[int(np.argmax(counts))]
    result["shape"] = classify_shape(mask)
    result["position"] = position_of(mask)
    result["size"] = size_of(mask)
    return result


ATTRIBUTES = ("colour", "shape", "background", "position", "size")


def score(image, caption: str) -> dict:
    """For each attribute the caption names: True if the picture shows it, else False.

    Attributes the caption leaves open are absent from the result. Also returns the measurement
    (`measured`) and the share of shape pixels near the named colour (`colour_share`)."""
    named = shapes.parse_caption(caption)
    got = measure(image)
    result = {a: got[a] == named[a] for a in ATTRIBUTES if named[a] is not None}
    result["colour_share"] = got["colour_shares"].get(named["colour"], 0.0)
    result["measured"] = got
    return result


def accuracy(results: list[dict]) -> dict:
    """Share of True per attribute over the results that name it (None when none does)."""
    out = {}
    for a in ATTRIBUTES:
        values = [r[a] for r in results if a in r]
        out[a] = (sum(values) / len(values)) if values else None
        out[a + "_n"] = len(values)
    return out
