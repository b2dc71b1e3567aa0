"""The editor's Server menu: start and stop `nodeflow serve` (ComfyUI's API) beside the editor.

The server runs as a child process, the same `nodeflow serve` a terminal starts, so the editor
never imports the server or shares its event loop, and the server's jobs go through the shared
queue: the Queue tab shows them as they come. On loopback no token is needed; "on the network"
makes a fresh token, shows it once, and hands it to the server in a file only the user may read
(a command-line argument would show in `ps`). Stop (and quitting the editor) sends SIGTERM:
the running job goes back to the queue. A status-bar label says where the server listens.
"""

from __future__ import annotations

import os
import secrets
import sys
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QObject, QProcess, Signal
from PySide6.QtWidgets import QLabel, QMessageBox

from nodeflow.core.paths import user_dir

#: How long quitting waits for the server to put its running job back in the queue.
STOP_WAIT_MS = 20_000


class ServerControl(QObject):
    """One `nodeflow serve` child process; `changed(text)` says what it is doing."""

    changed = Signal(str)

    def __init__(self, parent: QObject | None = None, port: int = 8188, folder: Path | None = None):
        super().__init__(parent)
        self.port = port
        self.folder = folder or user_dir() / "serve"
        self.url: str | None = None
        self.process: QProcess | None = None
        self._buffer = ""

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.state() != QProcess.ProcessState.NotRunning

    def start(self, host: str = "127.0.0.1", with_token: bool = False) -> str | None:
        """Start the server (a token is made for it with `with_token`, which any host but loopback
        needs); returns that token, or None. Does nothing if it runs already."""
        if self.running:
            return None
        self.folder.mkdir(parents=True, exist_ok=True)
        args = ["-c", "import sys; from nodeflow.cli import main; sys.exit(main())", "serve", "--host", host,
                "--port", str(self.port), "--out", str(self.folder / "output"),
                "--input", str(self.folder / "input"), "--state", str(self.folder / "state")]
        token = None
        if with_token:
            token = secrets.token_urlsafe(24)
            token_file = self.folder / "token"
            descriptor = os.open(token_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(descriptor, "w") as handle:
                handle.write(token + "\n")
            args += ["--token-file", str(token_file)]
        self.process = QProcess(self)
        self.process.setProcessChannelMode(QProcess.ProcessChannelMode.MergedChannels)
        self.process.readyReadStandardOutput.connect(self._read)
        self.process.finished.connect(self._finished)
        self._buffer, self.url = "", None
        self.process.start(sys.executable, args)
        self.changed.emit("API server: starting…")
        return token

    def stop(self) -> None:
        if self.running:
            self.changed.emit("API server: stopping…")
            self.process.terminate()  # SIGTERM: the running job goes back to the queue

    def shutdown(self) -> None:
        """On quit: stop and wait a little, so the server's job is queued again, not lost."""
        if self.running:
            self.process.terminate()
            if not self.process.waitForFinished(STOP_WAIT_MS):
                self.process.kill()

    def _read(self) -> None:
        self._buffer += bytes(self.process.readAllStandardOutput()).decode("utf-8", "replace")
        *lines, self._buffer = self._buffer.split("\n")
        for line in lines:
            if "listening on " in line:
                self.url = line.split("listening on ")[1].split()[0]
                self.changed.emit(f"API server: {self.url}")
            elif line.startswith("error:"):
                self.changed.emit(f"API server: {line[len('error:'):].strip()}")

    def _finished(self, code: int, _status) -> None:
        self.url = None
        self.changed.emit("API server: off" if code in (0, 15, -15) else f"API server: stopped (exit {code})")


def install(window) -> ServerControl:
    """Add the Server menu and the status-bar label to `window` (a MainWindow)."""
    control = ServerControl(window)
    label = window.server_status = QLabel("API server: off")
    window.statusBar().addPermanentWidget(label)
    control.changed.connect(label.setText)
    menu = window.menuBar().addMenu("&Server")
    start = menu.addAction("Start API Server (this computer only)")
    network = menu.addAction("Start API Server on the Network…")
    stop = menu.addAction("Stop API Server")
    start.triggered.connect(lambda: control.start())
    network.triggered.connect(lambda: _start_on_network(window, control))
    stop.triggered.connect(control.stop)

    def follow(_text: str) -> None:
        start.setEnabled(not control.running)
        network.setEnabled(not control.running)
        stop.setEnabled(control.running)

    control.changed.connect(follow)
    follow("")
    app = QCoreApplication.instance()
    if app is not None:
        app.aboutToQuit.connect(control.shutdown)
    window.server = control
    return control


def _start_on_network(window, control: ServerControl) -> None:
    answer = QMessageBox.question(window, "Start API Server on the Network",
                                  "Other computers will be able to queue work here with a token. Start?")
    if answer != QMessageBox.StandardButton.Yes:
        return
    token = control.start("0.0.0.0", with_token=True)
    if token:
        QMessageBox.information(window, "API Server Token",
                                f"Clients send 'Authorization: Bearer {token}'.\n\n"
                                "Copy it now: it is shown only this once (a new one is made at each start).")
