"""A `nodeflow serve` process on a free loopback port, and small HTTP helpers (urllib, as clients use)."""

from __future__ import annotations

import base64
import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.interop.comfy_graphs import txt2img_api

ROOT = Path(__file__).resolve().parents[2]

#: Seconds a server may take to start, and a prompt to finish (the first one loads torch and the model).
START_TIMEOUT = 120
JOB_TIMEOUT = 240
TOKEN = "test-token-0123456789abcdef"


def tiny_prompt(seed: int = 7, steps: int = 2) -> dict[str, Any]:
    """txt2img on the built-in model at 32x32, a couple of steps: fast on two cores."""
    prompt = txt2img_api(seed=seed, steps=steps)
    prompt["5"]["inputs"].update(width=32, height=32)
    return prompt


@dataclass
class Server:
    home: Path
    root: Path
    args: tuple[str, ...] = ()
    process: subprocess.Popen | None = None
    url: str = ""
    lines: queue.Queue = field(default_factory=queue.Queue)

    @property
    def out(self) -> Path:
        return self.root / "out"

    @property
    def input_dir(self) -> Path:
        return self.root / "in"

    def start(self) -> Server:
        env = {**os.environ, "NODEFLOW_HOME": str(self.home), "PYTHONPATH": str(ROOT)}
        command = [sys.executable, "-c", "import sys; from nodeflow.cli import main; sys.exit(main())", "serve",
                   "--port", "0", "--out", str(self.out), "--input", str(self.input_dir),
                   "--state", str(self.root / "state"), "--device", "cpu", *self.args]
        self.process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                        env=env, cwd=self.root)
        threading.Thread(target=self._read, daemon=True).start()
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=1)
            except queue.Empty:
                if self.process.poll() is not None:
                    break
                continue
            if "listening on " in line:
                self.url = line.split("listening on ")[1].split()[0]
                return self
        self.kill()
        raise AssertionError("the server did not start:\n" + self.output())

    def _read(self) -> None:
        for line in self.process.stdout:
            self.lines.put(line)

    def output(self) -> str:
        out = []
        while not self.lines.empty():
            out.append(self.lines.get_nowait())
        return "".join(out)

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 150) -> int:
        if self.process.poll() is None:
            self.process.send_signal(sig)
        return self.process.wait(timeout)

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(30)

    @property
    def ws_url(self) -> str:
        return "ws" + self.url[len("http"):] + "/ws"

    def request(self, path: str, data: Any = None, headers: dict[str, str] | None = None,
                method: str | None = None) -> tuple[int, bytes, dict[str, str]]:
        """(status, body, headers); `data` dict/list is sent as JSON bytes *without* a JSON content type."""
        body = json.dumps(data).encode() if isinstance(data, (dict, list)) else data
        req = urllib.request.Request(self.url + path, data=body, headers=headers or {}, method=method)
        try:
            with urllib.request.urlopen(req, timeout=60) as response:
                return response.status, response.read(), dict(response.headers)
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read(), dict(exc.headers)

    def json(self, path: str, data: Any = None, headers: dict[str, str] | None = None) -> Any:
        status, body, _ = self.request(path, data, headers)
        assert status == 200, (status, body[:500])
        return json.loads(body)

    def wait_history(self, prompt_id: str, headers: dict[str, str] | None = None,
                     timeout: float = JOB_TIMEOUT) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            history = self.json(f"/history/{prompt_id}", headers=headers)
            if prompt_id in history:
                return history[prompt_id]
            time.sleep(0.25)
        raise AssertionError(f"prompt {prompt_id} did not finish in {timeout}s")


def multipart(fields: dict[str, str], files: dict[str, tuple[str, bytes]]) -> tuple[bytes, str]:
    """A multipart/form-data body and its Content-Type, as a browser or `requests` would send."""
    boundary = uuid.uuid4().hex
    parts = []
    for name, value in fields.items():
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode())
    for name, (filename, data) in files.items():
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
                     f'Content-Type: application/octet-stream\r\n\r\n'.encode() + data + b"\r\n")
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def png_bytes(size: tuple[int, int] = (32, 32), color=(200, 30, 30, 255)) -> bytes:
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGBA", size, color).save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    root = tmp_path_factory.mktemp("serve")
    running = Server(root / "home", root).start()
    yield running
    running.stop()
    running.kill()


@pytest.fixture(scope="module")
def token_server(tmp_path_factory):
    root = tmp_path_factory.mktemp("serve_token")
    running = Server(root / "home", root, ("--token", TOKEN)).start()
    yield running
    running.stop()
    running.kill()
