"""What `nodeflow serve` is started with, and the one exposure rule: off loopback only with a token."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from pathlib import Path

from nodeflow.core.errors import NodeFlowError
from nodeflow.core.paths import user_dir

#: The queue batch the server's jobs go into (the editor's Queue tab shows them as such).
SERVE_BATCH = "serve"
#: Bytes of a JSON request body (a prompt with a UI workflow inside is a few hundred KiB).
MAX_JSON_BYTES = 8 * 2**20
#: Bytes of an uploaded picture, and its pixels once decoded.
MAX_UPLOAD_BYTES = 32 * 2**20
MAX_UPLOAD_PIXELS = 8192 * 8192
#: Bytes of one websocket message a client may send, and websocket clients at once.
MAX_WS_MESSAGE = 64 * 2**10
MAX_CLIENTS = 256
#: Finished prompts the history keeps (ComfyUI keeps 10,000).
MAX_HISTORY = 10_000
#: Prompts waiting in the queue at most; more are refused until it drains.
MAX_QUEUED = 10_000


class ExposureError(NodeFlowError):
    """The server would listen beyond this machine without a token."""


@dataclass(frozen=True)
class ServeConfig:
    host: str = "127.0.0.1"
    port: int = 8188
    token: str | None = None
    out: Path = Path("output")
    input_dir: Path = Path("input")
    #: Prompts and their history (one JSON file per prompt) and the temp folder for previews.
    state_dir: Path = field(default_factory=lambda: Path("serve-state"))
    device: str = "auto"
    memory_budget: int | None = None
    previews: bool = True
    #: Origins (scheme://host[:port]) allowed besides the server's own, for browser front-ends.
    allowed_origins: tuple[str, ...] = ()
    #: Serve ComfyUI's web frontend at / (`nodeflow.serve.frontend`), keeping the workflows it
    #: saves in `workflows_dir` (`nodeflow.serve.userdata`).
    frontend: bool = False
    workflows_dir: Path = field(default_factory=lambda: user_dir() / "workflows")
    #: Run prompts on Ray: "local" (a cluster started with the server) or a cluster's address;
    #: None runs them in this process. `workers`: Ray workers (prompts at once).
    ray: str | None = None
    workers: int = 2

    @property
    def temp_dir(self) -> Path:
        return self.state_dir / "temp"

    @property
    def prompts_dir(self) -> Path:
        return self.state_dir / "prompts"


def is_loopback(host: str) -> bool:
    """Whether `host` is reachable from this machine only ("localhost" and 127.0.0.0/8, ::1)."""
    if host.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # a host name: it may resolve to anything


def check_exposure(config: ServeConfig) -> None:
    """Refuse to listen beyond loopback without a token; refuse a token too short to resist guessing."""
    if config.token is not None and len(config.token) < 16:
        raise ExposureError("the token must be at least 16 characters (try: python -c "
                            "'import secrets; print(secrets.token_urlsafe(24))')")
    if not is_loopback(config.host) and not config.token:
        raise ExposureError(f"--host {config.host} listens beyond this machine: give --token or --token-file "
                            "(clients then send 'Authorization: Bearer <token>')")


def read_token(path: Path) -> str:
    """The token in a file (first line, surrounding blanks dropped)."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ExposureError(f"--token-file {path}: cannot read it ({getattr(exc, 'strerror', None) or exc})") from None
    token = text.strip().splitlines()[0].strip() if text.strip() else ""
    if not token:
        raise ExposureError(f"--token-file {path} is empty")
    return token

