"""Robust: a server killed with prompts queued resumes them; SIGTERM puts the running job back."""

from __future__ import annotations

import signal
import time

import pytest

from nodeflow.jobs.store import JobStore
from tests.serve.conftest import Server, tiny_prompt


def _jobs(server: Server) -> dict[str, str]:
    store = JobStore(server.home / "queue.sqlite3")
    try:
        return {job.key: job.state for job in store.jobs("serve")}
    finally:
        store.close()


@pytest.mark.slow
def test_kill_9_with_queued_prompts_then_restart_runs_each_once(tmp_path):
    first = Server(tmp_path / "home", tmp_path).start()
    try:
        ids = [first.json("/prompt", {"prompt": tiny_prompt(seed=40 + n)})["prompt_id"] for n in range(3)]
    finally:
        first.process.kill()  # SIGKILL: no clean-up at all
        first.process.wait(30)
    assert set(_jobs(first)) == set(ids)
    second = Server(tmp_path / "home", tmp_path).start()
    try:
        histories = [second.wait_history(prompt_id) for prompt_id in ids]
        assert [h["status"]["status_str"] for h in histories] == ["success"] * 3
        files = [h["outputs"]["9"]["images"][0]["filename"] for h in histories]
        assert len(set(files)) == 3 and all((second.out / f).is_file() for f in files)
        assert set(second.json("/history")) == set(ids)
        lines = (second.out / "index.jsonl").read_text().splitlines()
        assert len(lines) == 3  # each job ran to the end exactly once
    finally:
        second.stop()
        second.kill()


@pytest.mark.slow
def test_sigterm_puts_the_running_job_back_and_the_next_start_finishes_it(tmp_path):
    server = Server(tmp_path / "home", tmp_path).start()
    prompt = tiny_prompt(seed=9, steps=20)  # running (loading the model) when the signal comes
    prompt_id = server.json("/prompt", {"prompt": prompt})["prompt_id"]
    deadline = time.monotonic() + 240
    while _jobs(server).get(prompt_id) != "running" and time.monotonic() < deadline:
        time.sleep(0.2)
    time.sleep(1.0)
    assert server.stop(signal.SIGTERM) == 0
    assert _jobs(server)[prompt_id] == "queued"
    assert not (server.out / "index.jsonl").exists()
    again = Server(tmp_path / "home", tmp_path).start()
    try:
        assert again.wait_history(prompt_id)["status"]["status_str"] == "success"
    finally:
        again.stop()
        again.kill()
