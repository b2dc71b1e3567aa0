"""A misbehaving model server for fetch tests: http.server on 127.0.0.1 in a thread.

Routes map a path to a `Route`: the bytes to serve and how to misbehave (ignore ranges, drop the
connection after some bytes, redirect, claim a content type, send an endless body). Every loop
is bounded in bytes and seconds, and the server stops when the test's fixture ends.
"""

from __future__ import annotations

import re
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

#: An endless body stops after this many bytes or seconds, whichever comes first.
ENDLESS_BYTES = 64 * 1024 * 1024
ENDLESS_SECONDS = 10.0


@dataclass
class Route:
    body: bytes = b""
    ranges: bool = True  # honour Range requests
    drop_after: int | None = None  # the first `drops` responses stop after this many body bytes
    drops: int = 0
    redirect: str | None = None  # answer 302 to this location
    content_type: str = "application/octet-stream"
    endless: bool = False  # keep sending after the body, with no Content-Length
    announce: bool = True  # send Content-Length
    headers: dict[str, str] = field(default_factory=dict)
    status: int = 200
    stall: float = 0.0  # seconds to wait after the headers (or after `stall_after` body bytes)
    stall_after: int = 0
    requests: list[dict[str, str]] = field(default_factory=list)


class ModelServer:
    def __init__(self):
        self.routes: dict[str, Route] = {}
        server = self

        class Handler(BaseHTTPRequestHandler):
            timeout = 10

            def log_message(self, *args):  # keep test output clean
                pass

            def do_GET(self):
                route = server.routes.get(self.path)
                if route is None:
                    self.send_error(404)
                    return
                route.requests.append(dict(self.headers))
                if route.redirect is not None:
                    self.send_response(302)
                    self.send_header("Location", route.redirect)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                if route.status != 200:
                    self.send_error(route.status)
                    return
                self._send(route)

            def _send(self, route: Route) -> None:
                body, start = route.body, 0
                wanted = re.match(r"bytes=(\d+)-$", self.headers.get("Range", ""))
                if wanted and route.ranges:
                    start = int(wanted.group(1))
                    if start >= len(body):
                        self.send_response(416)
                        self.send_header("Content-Range", f"bytes */{len(body)}")
                        self.send_header("Content-Length", "0")
                        self.end_headers()
                        return
                    self.send_response(206)
                    self.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
                else:
                    self.send_response(200)
                self.send_header("Content-Type", route.content_type)
                for key, value in route.headers.items():
                    self.send_header(key, value)
                if route.announce and not route.endless:
                    self.send_header("Content-Length", str(len(body) - start))
                self.send_header("Connection", "close")
                self.end_headers()
                part = body[start:]
                if route.stall:
                    self.wfile.write(part[:route.stall_after])
                    self.wfile.flush()
                    part = part[route.stall_after:]
                    time.sleep(route.stall)
                if route.drops > 0 and route.drop_after is not None:
                    route.drops -= 1
                    self.wfile.write(part[:route.drop_after])
                    self.wfile.flush()
                    self.close_connection = True
                    return
                self.wfile.write(part)
                if route.endless:
                    sent, began = 0, time.monotonic()
                    try:
                        while sent < ENDLESS_BYTES and time.monotonic() - began < ENDLESS_SECONDS:
                            self.wfile.write(b"\0" * 65536)
                            sent += 65536
                    except OSError:
                        pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}{path}"

    def __enter__(self) -> ModelServer:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(5)
