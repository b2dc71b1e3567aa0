"""ComfyUI's own client flows against a real `nodeflow serve` on the built-in model."""

from __future__ import annotations

import json
import struct
import threading
import uuid

import websocket

from tests.serve.conftest import JOB_TIMEOUT, tiny_prompt


def run_like_websockets_example(server, prompt, client_id=None, prompt_id=None):
    """ComfyUI's script_examples/websockets_api_example.py, step by step: ws first, POST (no JSON
    content type), wait for `executing` with node null for our prompt, then /history and /view."""
    client_id = client_id or uuid.uuid4().hex
    ws = websocket.WebSocket()
    ws.connect(f"{server.ws_url}?clientId={client_id}", timeout=JOB_TIMEOUT)
    try:
        body = {"prompt": prompt, "client_id": client_id}
        if prompt_id:
            body["prompt_id"] = prompt_id
        answer = server.json("/prompt", body)
        messages, frames = [], []
        while True:
            message = ws.recv()
            if isinstance(message, bytes):
                frames.append(message)
                continue
            data = json.loads(message)
            messages.append(data)
            if (data["type"] == "executing" and data["data"]["node"] is None
                    and data["data"]["prompt_id"] == answer["prompt_id"]):
                break
    finally:
        ws.close()
    history = server.json(f"/history/{answer['prompt_id']}")[answer["prompt_id"]]
    images = []
    for node_output in history["outputs"].values():
        for image in node_output["images"]:
            status, data, _ = server.request(f"/view?filename={image['filename']}&subfolder={image['subfolder']}"
                                             f"&type={image['type']}")
            assert status == 200
            images.append(data)
    return answer, messages, frames, history, images


def test_websockets_example_flow_runs_a_prompt_and_serves_its_picture(server):
    answer, messages, frames, history, images = run_like_websockets_example(server, tiny_prompt(seed=1))
    types = [m["type"] for m in messages]
    assert types[0] == "status" and "sid" in messages[0]["data"]
    assert "execution_start" in types and "execution_success" in types
    assert types.index("execution_start") < types.index("progress") < types.index("executed")
    executing = [m["data"]["node"] for m in messages if m["type"] == "executing"]
    assert executing[-1] is None and "3" in executing and "9" in executing
    assert [m["data"]["node"] for m in messages if m["type"] == "executed"] == ["9"]
    assert history["status"]["status_str"] == "success" and history["status"]["completed"]
    assert history["prompt"][1] == answer["prompt_id"] and history["prompt"][4] == ["9"]
    assert len(images) == 1 and images[0].startswith(b"\x89PNG")
    saved = history["outputs"]["9"]["images"][0]
    assert saved["type"] == "output" and (server.out / saved["filename"]).read_bytes() == images[0]
    # binary previews during sampling: event type 1 (preview image), format 1 (JPEG)
    assert frames and all(struct.unpack(">II", f[:8]) == (1, 1) and f[8:10] == b"\xff\xd8" for f in frames)


def test_the_same_prompt_again_reuses_the_cache_and_saves_its_own_picture(server):
    prompt = tiny_prompt(seed=2)
    _, _, _, first, _ = run_like_websockets_example(server, prompt)
    _, messages, _, again, images = run_like_websockets_example(server, prompt)
    cached = [n for m in messages if m["type"] == "execution_cached" for n in m["data"]["nodes"]]
    assert "3" in cached and "4" in cached and "9" not in cached  # a job's Save writes its own file
    assert again["outputs"]["9"] != first["outputs"]["9"] and len(images) == 1
    for history in (first, again):
        assert (server.out / history["outputs"]["9"]["images"][0]["filename"]).is_file()


def test_a_client_prompt_id_is_honoured_and_bad_ones_refused(server):
    chosen = str(uuid.uuid4())
    answer, *_ = run_like_websockets_example(server, tiny_prompt(seed=3), prompt_id=chosen)
    assert answer["prompt_id"] == chosen
    status, body, _ = server.request("/prompt", {"prompt": tiny_prompt(), "prompt_id": chosen})
    assert status == 400 and json.loads(body)["error"]["type"] == "invalid_prompt_id"
    status, body, _ = server.request("/prompt", {"prompt": tiny_prompt(), "prompt_id": chosen.upper()})
    assert status == 400 and json.loads(body)["error"]["type"] == "invalid_prompt_id"


def test_validation_errors_come_in_comfyuis_shape_per_node(server):
    prompt = tiny_prompt()
    prompt["4"]["inputs"]["ckpt_name"] = "no-such-model.safetensors"
    prompt["3"]["inputs"]["steps"] = 100000
    status, body, _ = server.request("/prompt", {"prompt": prompt})
    error = json.loads(body)
    assert status == 400 and error["error"]["type"] == "prompt_outputs_failed_validation"
    assert set(error["node_errors"]) == {"3", "4"}
    assert error["node_errors"]["4"]["class_type"] == "CheckpointLoaderSimple"
    assert "no-such-model" in error["node_errors"]["4"]["errors"][0]["message"]
    status, body, _ = server.request("/prompt", {"prompt": {"1": {"class_type": "NoSuchNode", "inputs": {}}}})
    assert status == 400 and json.loads(body)["error"]["type"] == "missing_node_type"
    status, body, _ = server.request("/prompt", b"{not json")
    assert status == 400 and json.loads(body)["error"]["type"] == "invalid_request"
    assert server.json("/queue") == {"queue_running": [], "queue_pending": []}


def test_a_prompt_may_name_only_pictures_inside_the_input_folder(server):
    server.input_dir.mkdir(parents=True, exist_ok=True)
    (server.root / "secret.png").write_bytes(b"not for clients")
    (server.input_dir / "innocent.png").symlink_to(server.root / "secret.png")
    for name in ("/etc/hostname", "../secret.png", "a\x00b.png", "~nosuchuser/x.png", "innocent.png"):
        prompt = tiny_prompt()
        prompt["10"] = {"class_type": "LoadImage", "inputs": {"image": name}}
        prompt["11"] = {"class_type": "PreviewImage", "inputs": {"images": ["10", 0]}}
        status, body, _ = server.request("/prompt", {"prompt": prompt})
        error = json.loads(body)
        assert status == 400 and "10" in error["node_errors"], (name, error)


def test_object_info_lists_nodes_under_comfyui_names_with_the_library(server):
    info = server.json("/object_info")
    assert info["CheckpointLoaderSimple"]["input"]["required"]["ckpt_name"][0][0] == "tiny-shapes"
    sampler = info["KSampler"]
    assert "euler" in sampler["input"]["required"]["sampler_name"][0]
    steps = sampler["input"]["required"]["steps"]
    assert steps[0] == "INT" and steps[1]["default"] == 20 and steps[1]["min"] == 1
    assert sampler["output"] == ["LATENT"] and not sampler["output_node"]
    assert info["SaveImage"]["output_node"] and "image.save" not in info
    assert "basic.format_text" in info  # a node ComfyUI has no class for, under its own id
    assert set(server.json("/api/object_info/KSampler")) == {"KSampler"}
    assert server.json("/object_info/NoSuchNode") == {}


def test_system_and_model_routes(server):
    stats = server.json("/system_stats")
    assert stats["devices"][0]["type"] == "cpu" and stats["system"]["ram_total"] > 0
    assert "checkpoints" in server.json("/models")
    assert "tiny-shapes" in server.json("/api/models/checkpoints")
    assert server.request("/models/../etc")[0] == 404
    assert server.json("/embeddings") == []
    assert server.json("/features")["max_upload_size"] > 0
    assert server.json("/prompt") == {"exec_info": {"queue_remaining": 0}}


def test_many_clients_at_once_lose_and_duplicate_nothing(server):
    clients, per_client = 4, 2
    results: dict[str, list] = {}
    errors = []

    def client(index: int) -> None:
        try:
            results[str(index)] = [run_like_websockets_example(server, tiny_prompt(seed=100 + index * 10 + n))
                                   for n in range(per_client)]
        except Exception as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(JOB_TIMEOUT * 2)
    assert not errors
    ids = [answer["prompt_id"] for runs in results.values() for answer, *_ in runs]
    files = [h["outputs"]["9"]["images"][0]["filename"] for runs in results.values() for _, _, _, h, _ in runs]
    assert len(ids) == len(set(ids)) == clients * per_client
    assert len(set(files)) == clients * per_client  # a picture each, none overwritten
    for runs in results.values():  # each client saw only its own prompts' events
        for answer, messages, *_ in runs:
            assert {m["data"].get("prompt_id") for m in messages if m["type"] != "status"} == {answer["prompt_id"]}
