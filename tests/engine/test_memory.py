"""The memory manager on its own: sizes, LRU order, pinning, freeing and re-reading components."""

from __future__ import annotations

import pytest

from nodeflow.core.byte_sizes import parse_size
from nodeflow.engine.memory import MemoryManager
from nodeflow.engine.sizes import value_bytes

torch = pytest.importorskip("torch")


@pytest.mark.parametrize(("text", "size"), [("6GB", 6 * 10**9), ("512MB", 512 * 10**6), ("1.5GiB", 3 * 2**29),
                                            ("1000", 1000), (" 2 kb ", 2000)])
def test_sizes_are_read_as_written(text, size):
    assert parse_size(text) == size


@pytest.mark.parametrize("text", ["", "GB", "6 parsecs", "-1GB", "0"])
def test_bad_sizes_are_refused_by_name(text):
    with pytest.raises(ValueError, match="size"):
        parse_size(text)


class Loader:
    """Builds the same seeded module every time (a checkpoint re-read from its file), counting loads."""

    def __init__(self, seed: int, width: int = 64) -> None:
        self.seed, self.width, self.loads = seed, width, 0

    def __call__(self):
        self.loads += 1
        torch.manual_seed(self.seed)
        return (torch.nn.Sequential(torch.nn.Linear(self.width, self.width), torch.nn.Linear(self.width, 4)),)


UNIT = (64 * 64 + 64 + 64 * 4 + 4) * 4  # bytes of one Loader module in fp32


def load(store: MemoryManager, name: str, loader: Loader):
    """What a loader node does: get the model inside a node (which holds it until it ends)."""
    store.begin_node({})
    try:
        return store.get(("model", f"/m/{name}"), loader)[0]
    finally:
        store.end_node()


def test_least_recently_used_component_is_freed_and_read_back_bit_for_bit():
    store = MemoryManager(budget=2 * UNIT + 100)
    store.attach("cpu")
    loaders = [Loader(seed) for seed in range(3)]
    a, b, _c = (load(store, str(i), loader) for i, loader in enumerate(loaders))
    assert [place for _, _, place in store.snapshot()] == ["device", "device", "gone"]
    assert a[0].weight.numel() == 0 and b[0].weight.numel() == 64 * 64  # a was the least recently used
    x = torch.randn(1, 64)
    store.begin_node({"model": (a,)})
    assert a[0].weight.numel() == 64 * 64 and loaders[0].loads == 2
    torch.testing.assert_close(a(x), Loader(0)()[0](x), rtol=0, atol=0)
    store.end_node()
    assert store.device_bytes() <= store.budget
    assert dict((n.split()[0], p) for n, _, p in store.snapshot())["1"] == "gone"  # b went, not c


def test_a_component_the_running_node_needs_is_never_evicted():
    store = MemoryManager(budget=2 * UNIT + 100)
    store.attach("cpu")
    a = load(store, "a", Loader(0))
    b = load(store, "b", Loader(1))
    store.begin_node({"model": a})  # a is the oldest, but in use
    store.get(("model", "/m/c"), Loader(2))
    assert a[0].weight.numel() > 0 and b[0].weight.numel() == 0
    store.end_node()


def test_a_copy_sharing_weights_pins_the_component_it_shares(monkeypatch):
    """A LoRA copy shares all but its patched layers: using it needs the checkpoint's weights."""
    import copy

    store = MemoryManager(budget=UNIT + 100)
    store.attach("cpu")
    a = load(store, "a", Loader(0))
    clone = copy.deepcopy(a, {id(t): t for t in a.parameters()})
    load(store, "b", Loader(1))
    assert a[0].weight.numel() == 0 and clone[0].weight.numel() == 0  # shared tensors went together
    store.begin_node({"model": clone})
    assert clone[0].weight.numel() == 64 * 64
    store.end_node()


def test_cached_results_make_room_oldest_first_but_not_while_pinned():
    store = MemoryManager(budget=3000)
    store.attach("cpu")
    dropped = []
    for key in "abc":
        store.track_result(key, {"x": torch.zeros(250)}, lambda k=key: dropped.append(k), pinned=key == "a")
    store.track_result("d", {"x": torch.zeros(250)}, lambda: dropped.append("d"), pinned=False)
    assert dropped == ["b"]  # a is older but pinned (a later node of the run still needs it)
    store.unpin_result("a")
    store.track_result("e", {"x": torch.zeros(250)}, lambda: dropped.append("e"), pinned=False)
    assert dropped == ["b", "a"]


def test_result_sizes_count_each_storage_once_and_skip_what_a_component_holds():
    t = torch.zeros(100)
    assert value_bytes({"a": t, "b": [t, t[:10]]}) == 400
    weight = torch.nn.Linear(10, 10)
    assert value_bytes({"m": weight}) == 440
    assert value_bytes({"m": weight}, skip=lambda x: x is weight.weight) == 40


def test_a_smaller_budget_evicts_least_recently_used_at_once_and_none_waits_for_the_next_run():
    store = MemoryManager(budget=3 * UNIT + 2000)
    store.attach("cpu")
    loaders = [Loader(seed) for seed in range(3)]
    a, b, c = (load(store, str(i), loader) for i, loader in enumerate(loaders))
    dropped = []
    store.track_result("r", {"x": torch.zeros(250)}, lambda: dropped.append("r"), pinned=False)
    store.begin_node({"model": (a,)})  # a is the oldest, but a running node holds it
    store.set_budget(2 * UNIT + 1100)  # the result is 1000 bytes: one component must go
    assert store.budget == 2 * UNIT + 1100 and store.device_bytes() <= store.budget
    assert a[0].weight.numel() == 64 * 64 and b[0].weight.numel() == 0 and c[0].weight.numel() == 64 * 64
    assert dropped == []  # b was older than the result: one eviction made room
    store.end_node()
    store.set_budget(UNIT + 100)
    assert [p for _, _, p in store.snapshot()] == ["device", "gone", "gone"] and dropped == ["r"]  # a stays
    store.set_budget(None)
    assert store.budget is None and loaders[1].loads == 1  # nothing is read back by a larger budget
    store.attach("cpu")
    assert store.budget >= store.device_bytes() > 0  # re-derived from free memory at the run


def test_a_budget_set_during_a_load_does_not_wait_and_the_next_fit_applies_it():
    store = MemoryManager(budget=2 * UNIT + 100)
    store.attach("cpu")
    a, b = load(store, "a", Loader(0)), load(store, "b", Loader(1))
    with store._lock:  # a load in progress on the run's thread holds the lock
        store.set_budget(UNIT + 100)  # would deadlock here if it waited for the lock
        assert store.budget == UNIT + 100 and a[0].weight.numel() > 0
    store.begin_node({"model": (b,)})
    store.end_node()
    assert a[0].weight.numel() == 0 and b[0].weight.numel() > 0
    store.set_budget(None)  # Auto chosen while a run goes on: the rest of it evicts nothing more
    store.begin_node({"model": (a,)})
    assert a[0].weight.numel() > 0 and b[0].weight.numel() > 0
    store.end_node()

