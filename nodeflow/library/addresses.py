"""Which hosts a download may talk to, and connections pinned to the address that was checked.

A URL recorded in a shared workflow is untrusted: pointed at `127.0.0.1`, a LAN printer or a
cloud metadata service it would turn "fetch the missing models" into a request the sharer chose
on the user's network. So a host is resolved once, every address it resolves to must be public
(not loopback, private, link-local, multicast, reserved or unspecified), and the connection is
then made to that very address (with the URL's host in the Host header and TLS SNI), so a DNS
answer that changes between the check and the connect cannot slip a private address in.
A URL the user typed, or `--allow-local`, lifts the rule for that request.
"""

from __future__ import annotations

import http.client
import ipaddress
import socket
import ssl
from urllib.parse import SplitResult, urlsplit

from nodeflow.core.errors import NodeFlowError

SCHEMES = ("http", "https")


class FetchRefused(NodeFlowError):
    """A download refused or failed for a reason the user can act on; the message is one line."""


def split_url(url: str) -> SplitResult:
    """`url` split, or FetchRefused when it is not an http(s) URL with a host."""
    parts = urlsplit(url.strip())
    if parts.scheme.lower() not in SCHEMES or not parts.hostname:
        raise FetchRefused(f"'{url}' is not an http(s) URL")
    if any(ord(c) < 33 for c in url.strip()):
        raise FetchRefused(f"'{url}' holds spaces or control characters")
    return parts


def is_public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not (ip.is_multicast or ip.is_reserved or ip.is_unspecified)


def resolve_host(parts: SplitResult, allow_local: bool) -> str:
    """The address to connect to for `parts`' host; FetchRefused when it is not public and local
    addresses are not allowed, or when the name does not resolve (offline)."""
    host, port = parts.hostname, parts.port or (443 if parts.scheme == "https" else 80)
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (UnicodeError, OSError) as exc:
        raise FetchRefused(f"cannot resolve {host} (offline?): {getattr(exc, 'strerror', None) or exc}") from None
    addresses = [info[4][0] for info in infos]
    if not allow_local:
        private = [a for a in addresses if not is_public(a)]
        if private:
            raise FetchRefused(f"{host} is a private or loopback address ({private[0]}); a URL recorded in a "
                               "shared file may not reach the local network (type the URL yourself or pass "
                               "--allow-local if you trust it)")
    return addresses[0]


class _PinnedHTTP(http.client.HTTPConnection):
    def __init__(self, host: str, port: int, address: str, timeout: float):
        super().__init__(host, port, timeout=timeout)
        self._address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


class _PinnedHTTPS(http.client.HTTPSConnection):
    def __init__(self, host: str, port: int, address: str, timeout: float):
        super().__init__(host, port, timeout=timeout, context=ssl.create_default_context())
        self._address = address

    def connect(self) -> None:
        sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)


def connect(parts: SplitResult, address: str, timeout: float) -> http.client.HTTPConnection:
    """A connection to `address` that speaks to `parts`' host (Host header, certificate, SNI)."""
    pinned = _PinnedHTTPS if parts.scheme == "https" else _PinnedHTTP
    return pinned(parts.hostname, parts.port or (443 if parts.scheme == "https" else 80), address, timeout)
