"""JSON requests over kept-alive HTTP/1.1 connections, with the standard library's
`http.client`: the calls a worker makes for every message (WhatsApp's read receipt and
sends), where httpx's layers cost more of the worker's processor than the request itself.

Measured on the Graph API test peer (docs/decisions/0011-graph-json-calls.md): a POST
took 0.62 ms of processor through a pooled `httpx.Client`, 0.25 ms through this, the peer's
own handling included in both. Only that path: a body in, a whole answer out; no
redirects, no streaming, no proxies (the caller sends those through httpx).

Connections are pooled per origin and process and used by one thread at a time. A pooled
connection the server closed while it sat idle (it reads as ready: end of file) is dropped
before use rather than failing the request; any other failure to connect, send or read in
time closes the connection and raises `Unavailable`, for the caller to retry later.
"""

from __future__ import annotations

import http.client
import json
import os
import select
import ssl
import threading
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit


class Unavailable(Exception):
    """The server could not be reached, or did not answer in time."""


@dataclass(frozen=True)
class Answer:
    """Named as httpx's `Response` names them, so code reading either needs no branch."""

    status_code: int
    reason_phrase: str
    content: bytes

    def json(self) -> Any:
        """The body as JSON; ValueError when it is not."""
        return json.loads(self.content)


_Origin = tuple[str, str, int]


class Pool:
    def __init__(self, *, connect_timeout: float, read_timeout: float) -> None:
        self.connect_timeout = connect_timeout
        self.read_timeout = read_timeout
        self._idle: dict[_Origin, list[http.client.HTTPConnection]] = {}
        self._lock = threading.Lock()
        self._pid = os.getpid()
        self._tls: ssl.SSLContext | None = None

    def request(self, method: str, url: str, *, headers: dict[str, str], body: bytes) -> Answer:
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        if scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"not an http(s) URL: {url!r}")
        origin = (scheme, parts.hostname, parts.port or (443 if scheme == "https" else 80))
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        conn = self._take(origin)
        try:
            if conn.sock is None:
                conn.connect()
                assert conn.sock is not None
                conn.sock.settimeout(self.read_timeout)
            conn.request(method, target, body=body, headers=headers)
            resp = conn.getresponse()
            data = resp.read()
        except (OSError, http.client.HTTPException) as exc:
            conn.close()
            raise Unavailable(exc.__class__.__name__) from exc
        if resp.will_close:
            conn.close()
        else:
            self._give_back(origin, conn)
        return Answer(resp.status, resp.reason, data)

    def close(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, {}
        for conns in idle.values():
            for conn in conns:
                conn.close()

    def _take(self, origin: _Origin) -> http.client.HTTPConnection:
        with self._lock:
            if self._pid != os.getpid():  # a forked child: its parent's sockets are not its own
                self._idle, self._pid = {}, os.getpid()
            idle = self._idle.get(origin) or []
            while idle:
                conn = idle.pop()
                if not _closed_by_server(conn):
                    return conn
                conn.close()
        scheme, host, port = origin
        if scheme == "https":
            return http.client.HTTPSConnection(
                host, port, timeout=self.connect_timeout, context=self._context()
            )
        return http.client.HTTPConnection(host, port, timeout=self.connect_timeout)

    def _give_back(self, origin: _Origin, conn: http.client.HTTPConnection) -> None:
        with self._lock:
            self._idle.setdefault(origin, []).append(conn)

    def _context(self) -> ssl.SSLContext:
        if self._tls is None:  # loading the CA bundle takes ~0.1 s: once per pool
            try:
                import certifi  # httpx's bundle, so both clients trust the same authorities
            except ImportError:  # pragma: no cover - certifi comes with httpx
                self._tls = ssl.create_default_context()
            else:
                self._tls = ssl.create_default_context(cafile=certifi.where())
        return self._tls


def _closed_by_server(conn: http.client.HTTPConnection) -> bool:
    """An idle connection with something to read has been closed by the server (or holds
    bytes nobody asked for): either way it cannot carry a new request."""
    sock = conn.sock
    if sock is None:
        return False  # never connected: connects on use
    try:
        ready, _, _ = select.select([sock], [], [], 0)
    except (OSError, ValueError):
        return True
    return bool(ready)


def json_body(value: Any) -> bytes:
    """Compact UTF-8 JSON, as httpx writes a `json=` body."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode()
