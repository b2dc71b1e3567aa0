"""Headless Chromium driven over its DevTools protocol (CDP), with websocket-client (a test dependency).

No browser-automation package: Chromium is started with `--remote-debugging-port=0`, its page's
websocket is found at /json/list, and commands are sent as CDP JSON messages. Every console
message, uncaught exception and failed request is collected, so a test can say what the page
complained about. The browser resolves no host name but loopback (`--host-resolver-rules`) and
keeps its background services off, so a test never reaches beyond this machine.
"""

from __future__ import annotations

import base64
import itertools
import json
import queue
import re
import shutil
import subprocess
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import websocket

#: Seconds Chromium may take to start, and one CDP command to answer.
START_TIMEOUT = 60
COMMAND_TIMEOUT = 60
#: Where Debian and other distributions put Chromium.
CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
FLAGS = ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
         "--no-default-browser-check", "--disable-extensions", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--disable-default-apps", "--disable-domain-reliability",
         "--disable-client-side-phishing-detection", "--no-pings", "--metrics-recording-only", "--mute-audio",
         "--disable-features=Translate,OptimizationHints,MediaRouter,DialMediaRouteProvider,AutofillServerCommunication",
         "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1", "--window-size=1400,900",
         "--remote-debugging-address=127.0.0.1", "--remote-debugging-port=0")


def find_chromium() -> str | None:
    """The Chromium executable on PATH, or None (CI machines have none)."""
    return next((path for name in CANDIDATES if (path := shutil.which(name))), None)


@dataclass
class Page:
    """One headless Chromium with one page; `problems()` lists what the page reported as wrong."""

    executable: str
    profile: Path
    process: subprocess.Popen | None = None
    socket: websocket.WebSocket | None = None
    console: list[dict[str, Any]] = field(default_factory=list)
    exceptions: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    _ids: itertools.count = field(default_factory=lambda: itertools.count(1))
    _answers: dict[int, queue.Queue] = field(default_factory=dict)
    _requests: dict[str, str] = field(default_factory=dict)

    def start(self) -> Page:
        self.process = subprocess.Popen([self.executable, *FLAGS, f"--user-data-dir={self.profile}", "about:blank"],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        port = self._devtools_port()
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=COMMAND_TIMEOUT) as response:
            targets = json.loads(response.read())
        page = next(t for t in targets if t.get("type") == "page")
        # Chromium refuses DevTools websockets that carry an Origin it was not told to allow
        self.socket = websocket.create_connection(page["webSocketDebuggerUrl"], timeout=COMMAND_TIMEOUT,
                                                  suppress_origin=True)
        threading.Thread(target=self._read, daemon=True).start()
        for domain in ("Runtime", "Log", "Network", "Page"):
            self.send(f"{domain}.enable")
        return self

    def _devtools_port(self) -> int:
        deadline, seen = time.monotonic() + START_TIMEOUT, []
        while time.monotonic() < deadline:
            line = self.process.stderr.readline()
            if not line and self.process.poll() is not None:
                break
            seen.append(line)
            if match := re.search(r"DevTools listening on ws://127\.0\.0\.1:(\d+)/", line):
                threading.Thread(target=self.process.stderr.read, daemon=True).start()  # keep the pipe drained
                return int(match.group(1))
        self.close()
        raise RuntimeError("Chromium did not start:\n" + "".join(seen[-20:]))

    def _read(self) -> None:
        while True:
            try:
                message = json.loads(self.socket.recv())
            except (websocket.WebSocketException, OSError, ValueError):
                return
            if "id" in message:
                self._answers.setdefault(message["id"], queue.Queue()).put(message)
            else:
                self._event(message["method"], message.get("params", {}))

    def _event(self, method: str, params: dict[str, Any]) -> None:
        if method == "Runtime.consoleAPICalled":
            text = " ".join(str(a.get("value", a.get("description", ""))) for a in params.get("args", []))
            self.console.append({"level": params.get("type"), "text": text})
        elif method == "Log.entryAdded":
            entry = params["entry"]
            self.console.append({"level": entry.get("level"), "text": f"{entry.get('text')} {entry.get('url', '')}"})
        elif method == "Runtime.exceptionThrown":
            details = params["exceptionDetails"]
            self.exceptions.append(details.get("exception", {}).get("description") or details.get("text", ""))
        elif method == "Network.requestWillBeSent":
            self._requests[params["requestId"]] = params["request"]["method"] + " " + params["request"]["url"]
        elif method == "Network.responseReceived" and params["response"]["status"] >= 400:
            self.failed.append(f"{params['response']['status']} {self._requests.get(params['requestId'], '?')}")
        elif method == "Network.loadingFailed" and not params.get("canceled"):
            self.failed.append(f"{params.get('errorText')} {self._requests.get(params['requestId'], '?')}")

    def send(self, method: str, params: dict[str, Any] | None = None, timeout: float = COMMAND_TIMEOUT) -> Any:
        """One CDP command's result; a protocol error raises."""
        number = next(self._ids)
        answer = self._answers.setdefault(number, queue.Queue())
        self.socket.send(json.dumps({"id": number, "method": method, "params": params or {}}))
        message = answer.get(timeout=timeout)
        self._answers.pop(number, None)
        if "error" in message:
            raise RuntimeError(f"{method}: {message['error']}")
        return message.get("result", {})

    def evaluate(self, expression: str, timeout: float = COMMAND_TIMEOUT) -> Any:
        """A JavaScript expression's value (promises awaited); an exception in the page raises."""
        result = self.send("Runtime.evaluate", {"expression": expression, "awaitPromise": True,
                                                "returnByValue": True, "timeout": timeout * 1000}, timeout + 5)
        if "exceptionDetails" in result:
            details = result["exceptionDetails"]
            raise RuntimeError(details.get("exception", {}).get("description") or details.get("text"))
        return result["result"].get("value")

    def wait_for(self, expression: str, timeout: float, interval: float = 0.25) -> Any:
        """Poll `expression` until it is truthy; its value, or TimeoutError naming it."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                value = self.evaluate(expression)
            except RuntimeError:
                value = None
            if value:
                return value
            time.sleep(interval)
        raise TimeoutError(f"not true after {timeout}s: {expression}\n" + self.report())

    def navigate(self, url: str) -> None:
        self.send("Page.navigate", {"url": url})

    def screenshot(self, path: Path) -> Path:
        data = self.send("Page.captureScreenshot", {"format": "png"})["data"]
        path.write_bytes(base64.b64decode(data))
        return path

    def errors(self) -> list[str]:
        """Console errors and uncaught exceptions, in order."""
        return [m["text"] for m in self.console if m["level"] == "error"] + self.exceptions

    def report(self) -> str:
        return "\n".join(["console errors:", *self.errors(), "failed requests:", *self.failed])

    def close(self) -> None:
        if self.socket is not None:
            self.socket.close()
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(20)
