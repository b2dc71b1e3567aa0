"""A batch pins torch's CPU thread count for every job and records it in each output's manifest.

Another thread count sums in another order (Ray starts its workers with OMP_NUM_THREADS=1), so
the count is decided once, by the driver, and every job, local or on Ray, runs with it.
"""

from __future__ import annotations

import json

import pytest

from nodeflow.core import CancelToken, files
from nodeflow.core import registry as registry_module
from nodeflow.core.files import PNG_WORKFLOW_KEY, embedded_texts
from nodeflow.engine.device import default_threads
from nodeflow.jobs.batch import Source
from nodeflow.jobs.driver import BatchOptions, run_batch
from tests.jobs.conftest import small_txt2img

torch = pytest.importorskip("torch")


@pytest.fixture
def restore_threads():
    before = torch.get_num_threads()
    yield
    torch.set_num_threads(before)


def _recorded_threads(tmp_path, name, **options) -> int:
    path = small_txt2img(tmp_path, steps=1)
    graph = files.load(path, registry_module.default_registry())[0]
    out = tmp_path / name
    summary = run_batch([Source(path.name, graph, path.parent)], [], BatchOptions(out=out, device="cpu", **options),
                        CancelToken())
    assert summary.done == 1
    (png,) = out.glob("*.png")
    return json.loads(embedded_texts(png)[PNG_WORKFLOW_KEY])["manifest"]["threads"]


def test_a_batch_runs_with_the_threads_asked_for_and_records_them(tmp_path, restore_threads):
    torch.set_num_threads(3)  # whatever the process had before, the batch's own count wins
    assert _recorded_threads(tmp_path, "one", threads=1) == 1
    assert torch.get_num_threads() == 1


def test_without_a_count_a_batch_uses_the_cpus_this_process_may_use(tmp_path, restore_threads):
    torch.set_num_threads(1)
    assert _recorded_threads(tmp_path, "default") == default_threads()
