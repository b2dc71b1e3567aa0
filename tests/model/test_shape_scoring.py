"""The pixel scorer reads the generator's own pictures correctly, and notices wrong captions."""

import numpy as np
import shape_scoring as sc
import shapes_dataset as sd
from PIL import Image

SEEDS = range(50_000, 50_250)


def test_scorer_reads_ground_truth_pictures():
    hits = {a: [] for a in sc.ATTRIBUTES}
    for seed in SEEDS:
        item = sd.sample(seed)
        got = sc.measure(item.image)
        for a in ("colour", "shape", "position", "size"):
            hits[a].append(got[a] == item.labels[a])
        if item.labels["background2"] is None:
            hits["background"].append(got["background"] == item.labels["background"])
        else:
            assert set(got["backgrounds"]) == {item.labels["background"], item.labels["background2"]}
    acc = {a: np.mean(v) for a, v in hits.items()}
    assert acc["colour"] >= 0.99, acc
    assert acc["shape"] >= 0.95, acc
    assert acc["position"] >= 0.97, acc
    assert acc["size"] >= 0.97, acc
    assert acc["background"] >= 0.99, acc


def test_score_checks_only_what_the_caption_names():
    item = sd.sample(7)
    result = sc.score(item.image, item.caption)
    named = sd.parse_caption(item.caption)
    assert {a for a in sc.ATTRIBUTES if a in result} == {a for a in sc.ATTRIBUTES if named[a]}
    assert all(result[a] for a in sc.ATTRIBUTES if a in result)


def test_score_rejects_wrong_captions():
    labels = dict(sd.labels_for_seed(0), colour="red", shape="circle", size="large", position="left",
                  background="blue", background2=None, split=None, radius=15.0, centre=(20.5, 32.0))
    image = sd.render(labels)
    assert sc.score(image, "a large red circle on the left on a blue background") == {
        **{a: True for a in sc.ATTRIBUTES}, "colour_share": sc.score(image, "a red circle")["colour_share"],
        "measured": sc.measure(image)}
    wrong = sc.score(image, "a small green square on the right on a white background")
    assert not any(wrong[a] for a in sc.ATTRIBUTES)
    assert wrong["colour_share"] == 0.0


def test_blank_picture_scores_nothing():
    image = Image.new("RGB", (64, 64), sd.COLOURS["blue"])
    got = sc.measure(image)
    assert got["area"] == 0 and got["colour"] is None and got["shape"] is None
    result = sc.score(image, "a red circle on a blue background")
    assert result["colour"] is False and result["shape"] is False and result["background"] is True


def test_accuracy_counts_only_named_attributes():
    acc = sc.accuracy([{"colour": True, "shape": False}, {"colour": False, "shape": False, "size": True}])
    assert acc["colour"] == 0.5 and acc["shape"] == 0.0 and acc["size"] == 1.0
    assert acc["position"] is None and acc["position_n"] == 0 and acc["colour_n"] == 2
