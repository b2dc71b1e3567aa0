"""The shapes data set: deterministic, and its captions and labels agree with its pixels."""

import itertools
from collections import Counter

import numpy as np
import pytest
import shapes_dataset as sd


def test_same_seed_gives_same_picture_caption_and_labels():
    a, b = sd.sample(123), sd.sample(123)
    assert a.caption == b.caption
    assert a.labels == b.labels
    assert np.array_equal(np.asarray(a.image), np.asarray(b.image))


def test_different_seeds_give_different_pictures():
    images = [np.asarray(sd.sample(seed).image) for seed in range(20)]
    distinct = {img.tobytes() for img in images}
    assert len(distinct) == 20


def test_pictures_are_64x64_rgb():
    image = sd.sample(0).image
    assert image.size == (64, 64) and image.mode == "RGB"


def test_named_colours_are_far_apart_in_rgb():
    assert len(sd.COLOURS) >= 8
    for (na, ca), (nb, cb) in itertools.combinations(sd.COLOURS.items(), 2):
        assert np.linalg.norm(np.subtract(ca, cb)) > 80, (na, nb)


@pytest.mark.parametrize("seed", range(300))
def test_caption_names_only_what_the_labels_say(seed):
    item = sd.sample(seed)
    named = sd.parse_caption(item.caption)
    labels = item.labels
    assert named["colour"] == labels["colour"]
    assert named["shape"] == labels["shape"]
    for key in ("size", "position", "background"):
        assert named[key] in (None, labels[key]), key
    if labels["background2"] is not None:
        assert named["background"] is None, "a two-colour background is never named"
    assert set(item.caption.split()) <= set(sd.vocabulary())


@pytest.mark.parametrize("seed", range(0, 400, 7))
def test_pixels_show_the_labels(seed):
    item = sd.sample(seed)
    rgb = np.asarray(item.image).astype(int)
    inside = np.asarray(sd.shape_mask(item.labels)) == 255
    assert inside.sum() > 20
    assert np.abs(rgb[inside] - sd.COLOURS[item.labels["colour"]]).max() == 0
    # The shape keeps off the border: the frame shows only background colours.
    frame = np.ones(rgb.shape[:2], bool)
    frame[sd.MARGIN:-sd.MARGIN, sd.MARGIN:-sd.MARGIN] = False
    backgrounds = {sd.COLOURS[item.labels["background"]]}
    if item.labels["background2"]:
        backgrounds.add(sd.COLOURS[item.labels["background2"]])
    frame_colours = {tuple(p) for p in rgb[frame & (np.asarray(sd.shape_mask(item.labels)) == 0)]}
    if item.labels["split"] != "diagonal":  # the diagonal seam is anti-aliased
        assert frame_colours <= backgrounds
    assert item.labels["colour"] not in (item.labels["background"], item.labels["background2"])


def test_every_value_occurs_and_optional_parts_are_sometimes_named():
    items = [sd.sample(seed) for seed in range(1500)]
    for key, values in [("colour", sd.COLOURS), ("shape", sd.SHAPES), ("size", sd.SIZES),
                        ("position", sd.POSITIONS)]:
        counts = Counter(it.labels[key] for it in items)
        assert set(counts) == set(values), key
        assert min(counts.values()) > len(items) / len(values) / 2, key
    named = [sd.parse_caption(it.caption) for it in items]
    for key in ("size", "position", "background"):
        share = sum(n[key] is not None for n in named) / len(items)
        assert 0.2 < share < 0.8, (key, share)
    two_colour = sum(it.labels["background2"] is not None for it in items) / len(items)
    assert 0.2 < two_colour < 0.4


def test_captions_read_naturally():
    captions = {sd.sample(seed).caption for seed in range(500)}
    assert "a red circle" in captions or any(c.startswith("a red circle") for c in captions)
    for caption in captions:
        first = caption.split()[1]
        assert caption.startswith("an " if first[0] in "aeiou" else "a ")
        assert "  " not in caption


def test_vocabulary_is_small_and_covers_the_grammar():
    vocab = sd.vocabulary()
    assert len(vocab) == len(set(vocab)) < 40
    for word in [*sd.COLOURS, *sd.SHAPES, *sd.SIZES, "background", "left", "center"]:
        assert word in vocab


def test_tokenizer_turns_every_grammar_word_into_one_known_token(tmp_path):
    train = pytest.importorskip("train_tiny_model")
    tokenizer = train.write_tokenizer(tmp_path)
    vocab = tokenizer.get_vocab()
    for word in sd.vocabulary():
        ids = tokenizer(word)["input_ids"]
        assert len(ids) == 3, word  # start, word, end
        assert ids[1] == vocab[word + "</w>"]
    ids = tokenizer("a small blue square on the left", padding="max_length",
                    max_length=tokenizer.model_max_length)["input_ids"]
    assert len(ids) == tokenizer.model_max_length
    assert tokenizer.unk_token_id not in ids[1:8]
