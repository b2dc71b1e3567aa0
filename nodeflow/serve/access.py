"""Who may talk to the server and how much they may send: token, Origin, Host, body sizes.

- A token (when set) is required on every route, the websocket included, as
  `Authorization: Bearer <token>` or HTTP Basic with the token as password (what clients that
  take `user:pass@host` URLs send). Compared in constant time.
- A browser request whose Origin is not the server itself (or an allowed origin) is refused:
  a page on another site must not queue work or read pictures (CSRF).
- Without a token the server is on loopback, and the Host header must name loopback too, so a
  DNS-rebinding page (evil.example resolving to 127.0.0.1) cannot pass the Origin check.
- JSON bodies are read up to `MAX_JSON_BYTES`; bigger ones get 413 before they are parsed.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
from typing import Any
from urllib.parse import urlsplit

from aiohttp import web

from nodeflow.core.errors import WorkflowFormatError
from nodeflow.interop.comfyui.source import parse_json
from nodeflow.serve.config import MAX_JSON_BYTES, ServeConfig, is_loopback


def error_body(kind: str, message: str, details: str = "", node_errors: dict | None = None) -> dict[str, Any]:
    """ComfyUI's error shape: clients print `error.message` and walk `node_errors`."""
    return {"error": {"type": kind, "message": message, "details": details, "extra_info": {}},
            "node_errors": node_errors or {}}


def json_error(status: int, kind: str, message: str, details: str = "") -> web.Response:
    return web.json_response(error_body(kind, message, details), status=status)


def authorized(header: str | None, token: str) -> bool:
    """Whether an Authorization header carries `token` (Bearer, or Basic with it as password)."""
    if not header:
        return False
    scheme, _, value = header.strip().partition(" ")
    value = value.strip()
    if scheme.lower() == "bearer":
        return hmac.compare_digest(value.encode(), token.encode())
    if scheme.lower() == "basic":
        try:
            decoded = base64.b64decode(value, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return False
        _, _, password = decoded.partition(":")
        return hmac.compare_digest(password.encode(), token.encode())
    return False


def origin_allowed(origin: str, host: str, allowed: tuple[str, ...]) -> bool:
    """A browser's Origin is the server itself (same host:port as the Host header) or listed."""
    if origin.rstrip("/") in allowed:
        return True
    parts = urlsplit(origin)
    return parts.scheme in ("http", "https") and bool(parts.netloc) and parts.netloc.lower() == host.lower()


def host_is_loopback(host: str) -> bool:
    name = urlsplit(f"//{host}").hostname or ""
    return is_loopback(name)


def guard(config: ServeConfig):
    """The middleware that applies the rules above to every request."""

    @web.middleware
    async def middleware(request: web.Request, handler):
        if config.token is None and not host_is_loopback(request.host):
            return json_error(403, "forbidden", "this server answers loopback names only (Host header)")
        origin = request.headers.get("Origin")
        if origin is not None and not origin_allowed(origin, request.host, config.allowed_origins):
            return json_error(403, "forbidden", f"requests from the origin {origin!r} are refused")
        if config.token is not None and not authorized(request.headers.get("Authorization"), config.token):
            response = json_error(401, "unauthorized", "this server needs a token: "
                                  "'Authorization: Bearer <token>' (or Basic with the token as password)")
            response.headers["WWW-Authenticate"] = 'Basic realm="nodeflow"'
            return response
        return await handler(request)

    return middleware


async def read_json(request: web.Request, default: Any = None) -> Any:
    """The request body as JSON, whatever its Content-Type (ComfyUI's clients rely on that)."""
    body = await read_body(request)
    return decode_json(body) if body.strip() else default


async def read_body(request: web.Request, limit: int = MAX_JSON_BYTES) -> bytes:
    """The request body's bytes, refused with 413 as soon as it is over `limit` (before it is all read)."""
    if request.content_length is not None and request.content_length > limit:
        raise web.HTTPRequestEntityTooLarge(max_size=limit, actual_size=request.content_length)
    chunks, size = [], 0
    while chunk := await request.content.read(2**16):  # a read returns what has arrived, not all
        size += len(chunk)
        if size > limit:
            raise web.HTTPRequestEntityTooLarge(max_size=limit, actual_size=size)
        chunks.append(chunk)
    return b"".join(chunks)


def decode_json(body: bytes) -> Any:
    """UTF-8 JSON text (a BOM allowed) parsed, or a 400 saying why not."""
    try:
        return parse_json(body.decode("utf-8-sig"), "the request body")
    except UnicodeDecodeError:
        raise BadRequest("invalid_request", "the request body is not UTF-8 text") from None
    except WorkflowFormatError as exc:
        raise BadRequest("invalid_request", str(exc)) from None


def int_query(request: web.Request, name: str) -> int | None:
    """An integer query parameter, None when absent; anything else is a 400 naming it."""
    value = request.query.get(name)
    if value is None or value == "":
        return None
    if not value.lstrip("-").isdigit():
        raise BadRequest("invalid_request", f"{name} must be an integer")
    return int(value)


class BadRequest(web.HTTPBadRequest):
    """400 with ComfyUI's error shape."""

    def __init__(self, kind: str, message: str, details: str = "", node_errors: dict | None = None):
        super().__init__(text=json.dumps(error_body(kind, message, details, node_errors)),
                         content_type="application/json")
