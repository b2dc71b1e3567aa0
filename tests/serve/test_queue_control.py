"""/queue, /interrupt and clients that read slowly or leave: the queue never waits for a client."""

from __future__ import annotations

import json
import time
import uuid

import pytest
import websocket

from tests.serve.conftest import JOB_TIMEOUT, png_bytes, tiny_prompt
from tests.serve.test_flow import run_like_websockets_example


def _wait(predicate, timeout=JOB_TIMEOUT):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    raise AssertionError("timed out")


def test_delete_a_queued_prompt_and_interrupt_the_running_one(server):
    client = uuid.uuid4().hex
    ws = websocket.create_connection(f"{server.ws_url}?clientId={client}", timeout=JOB_TIMEOUT)
    try:
        running = server.json("/prompt", {"prompt": tiny_prompt(seed=61, steps=60), "client_id": client})
        waiting = server.json("/prompt", {"prompt": tiny_prompt(seed=62), "client_id": client})
        _wait(lambda: [i[1] for i in server.json("/queue")["queue_running"]] == [running["prompt_id"]])
        first = server.json("/prompt", {"prompt": tiny_prompt(seed=63), "front": True})
        queue = server.json("/queue")
        assert [item[1] for item in queue["queue_pending"]] == [first["prompt_id"], waiting["prompt_id"]]
        assert server.request("/queue", {"delete": [waiting["prompt_id"], first["prompt_id"]]})[0] == 200
        assert server.json("/queue")["queue_pending"] == []
        messages = []
        while True:  # interrupt once the sampler is under way
            data = ws.recv()
            if isinstance(data, bytes):
                continue
            messages.append(json.loads(data))
            if messages[-1]["type"] == "progress":
                assert server.request("/interrupt", {"prompt_id": running["prompt_id"]})[0] == 200
                break
        while not (messages[-1]["type"] == "executing" and messages[-1]["data"]["node"] is None):
            data = ws.recv()
            if isinstance(data, str):
                messages.append(json.loads(data))
    finally:
        ws.close()
    interrupted = [m["data"] for m in messages if m["type"] == "execution_interrupted"]
    assert interrupted and interrupted[0]["prompt_id"] == running["prompt_id"] and interrupted[0]["node_id"] == "3"
    history = server.wait_history(running["prompt_id"])
    assert history["status"]["status_str"] == "error" and not history["status"]["completed"]
    assert server.json(f"/history/{waiting['prompt_id']}") == {}  # deleted before it ran: no history
    assert server.json("/prompt") == {"exec_info": {"queue_remaining": 0}}


def test_a_client_that_leaves_mid_run_finds_its_result_in_the_history(server):
    client = uuid.uuid4().hex
    ws = websocket.create_connection(f"{server.ws_url}?clientId={client}", timeout=JOB_TIMEOUT)
    sent = server.json("/prompt", {"prompt": tiny_prompt(seed=71), "client_id": client})
    ws.close()
    history = server.wait_history(sent["prompt_id"])
    assert history["status"]["status_str"] == "success" and history["outputs"]["9"]["images"]


def test_a_client_that_never_reads_does_not_stall_the_others(server):
    stuck = uuid.uuid4().hex
    silent = websocket.create_connection(f"{server.ws_url}?clientId={stuck}", timeout=JOB_TIMEOUT)
    try:
        for seed in (81, 82):  # its events pile up unread on its side
            server.json("/prompt", {"prompt": tiny_prompt(seed=seed, steps=4), "client_id": stuck})
        answer, messages, *_ = run_like_websockets_example(server, tiny_prompt(seed=83))
        assert messages[-1]["data"]["prompt_id"] == answer["prompt_id"]
    finally:
        silent.close()


def test_a_node_failing_at_run_time_is_an_execution_error_naming_it(server):
    good = png_bytes((32, 32))
    server.input_dir.mkdir(parents=True, exist_ok=True)
    (server.input_dir / "torn.png").write_bytes(good[: len(good) // 2])  # a valid header, data cut short
    prompt = tiny_prompt(seed=91)
    prompt["10"] = {"class_type": "LoadImage", "inputs": {"image": "torn.png"}}
    prompt["11"] = {"class_type": "PreviewImage", "inputs": {"images": ["10", 0]}}
    client = uuid.uuid4().hex
    ws = websocket.create_connection(f"{server.ws_url}?clientId={client}", timeout=JOB_TIMEOUT)
    try:
        sent = server.json("/prompt", {"prompt": prompt, "client_id": client})
        messages = []
        while not messages or not (messages[-1]["type"] == "executing" and messages[-1]["data"]["node"] is None):
            data = ws.recv()
            if isinstance(data, str):
                messages.append(json.loads(data))
    finally:
        ws.close()
    errors = [m["data"] for m in messages if m["type"] == "execution_error"]
    assert len(errors) == 1 and errors[0]["node_id"] == "10" and errors[0]["node_type"] == "LoadImage"
    assert "torn.png" in errors[0]["exception_message"]
    history = server.wait_history(sent["prompt_id"])
    assert history["status"]["status_str"] == "error"
    assert history["outputs"]["9"]["images"]  # the other branch still saved its picture


def test_a_websocket_message_over_the_limit_closes_that_socket(server):
    from nodeflow.serve.config import MAX_WS_MESSAGE

    ws = websocket.create_connection(f"{server.ws_url}?clientId={uuid.uuid4().hex}", timeout=60)
    try:
        assert json.loads(ws.recv())["type"] == "status"
        ws.send(json.dumps({"type": "feature_flags", "data": {"x": "y" * MAX_WS_MESSAGE}}))
        try:
            opcode, data = ws.recv_data(control_frame=True)
            assert opcode == websocket.ABNF.OPCODE_CLOSE and int.from_bytes(data[:2], "big") == 1009
        except (ConnectionError, websocket.WebSocketConnectionClosedException):
            pass  # closed while the rest of the message was still being sent
        ws.settimeout(20)  # a socket still open would time out instead: that fails the test
        with pytest.raises((ConnectionError, websocket.WebSocketConnectionClosedException)):
            ws.send("{}")
            ws.recv()
    finally:
        ws.close()
    assert server.json("/prompt")["exec_info"]["queue_remaining"] == 0  # the server goes on


def test_history_entries_can_be_deleted_and_cleared(server):
    sent = server.json("/prompt", {"prompt": tiny_prompt(seed=95)})
    server.wait_history(sent["prompt_id"])
    assert sent["prompt_id"] in server.json("/history")
    assert len(server.json("/history?max_items=1")) == 1
    assert server.request("/history", {"delete": [sent["prompt_id"]]})[0] == 200
    assert server.json(f"/history/{sent['prompt_id']}") == {} and sent["prompt_id"] not in server.json("/history")
    assert server.request("/api/history", {"clear": True})[0] == 200
    assert server.json("/history") == {}
