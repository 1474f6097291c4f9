"""A local Graph API peer on loopback: a real HTTP server that plays Meta's side.

It records every request, answers sends with fresh message ids, accepts uploads, serves
media (id → URL → bytes, both only with the bearer token), and can be told to fail the
next calls with an HTTP status and a Graph error code (429 / 5xx / 131047 ...). For the
hostile cases it can also lie about a media (`media_info`: another URL, another size),
answer a media URL with a redirect (`redirects`) and send a body without its length
(`unsized`), as a misbehaving or impersonated Meta would.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import socket
import sys
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Recorded:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.body) if self.body else None


class _Server(ThreadingHTTPServer):
    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that drops its kept-alive connection (its pool closed, or it stopped
        reading past its size limit) is not an error of the peer's; anything else is shown."""
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


@dataclass
class GraphPeer:
    token: str = "test-token"
    requests: list[Recorded] = field(default_factory=list)
    media: dict[str, tuple[bytes, str]] = field(default_factory=dict)
    failures: list[tuple[int, int, str, str]] = field(default_factory=list)
    media_info: dict[str, dict[str, Any]] = field(default_factory=dict)
    redirects: dict[str, str] = field(default_factory=dict)
    unsized: set[str] = field(default_factory=set)
    written: dict[str, int] = field(default_factory=dict)  # bytes of a body the client took
    _ids: Any = field(default_factory=lambda: itertools.count(1))
    _open: set[Any] = field(default_factory=set)  # kept-alive connections being served
    connections: int = 0  # accepted since start
    _lock: Any = field(default_factory=threading.Lock)

    def start(self) -> GraphPeer:
        peer = self

        class Handler(BaseHTTPRequestHandler):
            # Keep-alive, as Meta's servers: a client's pooled connection serves many calls.
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # headers and body go out as separate writes

            def log_message(self, *args):  # quiet
                pass

            def setup(self) -> None:
                super().setup()
                with peer._lock:
                    peer._open.add(self.connection)
                    peer.connections += 1

            def finish(self) -> None:
                with peer._lock:
                    peer._open.discard(self.connection)
                super().finish()

            def _answer(
                self,
                status: int,
                body: Any,
                content_type: str = "application/json",
                sized: bool = True,
            ) -> None:
                raw = body if isinstance(body, bytes) else json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                if not sized:
                    self.send_header("Connection", "close")
                else:
                    self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                sent = 0
                try:
                    for start in range(0, len(raw), 64 * 1024):
                        self.wfile.write(raw[start : start + 64 * 1024])
                        sent += len(raw[start : start + 64 * 1024])
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client stopped reading (e.g. past its size limit)
                peer.written[self.path] = sent

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                rec = Recorded(
                    self.command, self.path, dict(self.headers.items()), self.rfile.read(length)
                )
                peer.requests.append(rec)
                if self.headers.get("Authorization") != f"Bearer {peer.token}":
                    return self._answer(
                        401,
                        {
                            "error": {
                                "message": "Invalid OAuth access token",
                                "code": 190,
                                "type": "OAuthException",
                                "fbtrace_id": "T1",
                            }
                        },
                    )
                failure = next((f for f in peer.failures if f[3] in self.path), None)
                if failure is not None:
                    peer.failures.remove(failure)
                    status, code, message, _ = failure
                    return self._answer(
                        status,
                        {
                            "error": {
                                "message": message,
                                "code": code,
                                "type": "OAuthException",
                                "error_data": {"messaging_product": "whatsapp", "details": message},
                                "fbtrace_id": f"TRACE{code}",
                            }
                        },
                    )
                path = self.path.split("?")[0].strip("/").split("/")
                if self.command == "POST" and path[-1] == "messages":
                    if (rec.json or {}).get("status") == "read":
                        return self._answer(200, {"success": True})
                    to = (rec.json or {}).get("to", "")
                    return self._answer(
                        200,
                        {
                            "messaging_product": "whatsapp",
                            "contacts": [{"input": to, "wa_id": to}],
                            "messages": [{"id": f"wamid.OUT{next(peer._ids)}"}],
                        },
                    )
                if self.command == "POST" and path[-1] == "media":
                    return self._answer(200, {"id": f"up{next(peer._ids)}"})
                if self.command == "GET" and "cdn" in path and path[-1] in peer.redirects:
                    self.send_response(302)
                    self.send_header("Location", peer.redirects[path[-1]])
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return None
                if self.command == "GET" and "cdn" in path and path[-1] in peer.media:
                    content, mime = peer.media[path[-1]]
                    return self._answer(200, content, mime, sized=path[-1] not in peer.unsized)
                if self.command == "GET" and path[-1] in peer.media:
                    content, mime = peer.media[path[-1]]
                    return self._answer(
                        200,
                        {
                            "url": f"{peer.base}/cdn/{path[-1]}",
                            "mime_type": mime,
                            "file_size": len(content),
                            "id": path[-1],
                            "messaging_product": "whatsapp",
                        }
                        | peer.media_info.get(path[-1], {}),
                    )
                return self._answer(
                    404, {"error": {"message": "Unsupported get request", "code": 100}}
                )

            do_GET = do_POST = do_DELETE = _handle

        self.server = _Server(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}/v25.0"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        return self

    def stop(self) -> None:
        """Down, as a peer that went away: no new connections, and the kept-alive ones
        closed (a client's pooled connection must not reach a stopped peer)."""
        self.server.shutdown()
        self.server.server_close()
        with self._lock:
            for sock in list(self._open):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)

    def fail_next(
        self, status: int, code: int, message: str = "error", times: int = 1, path: str = ""
    ) -> None:
        """Fail the next `times` requests whose path contains `path`."""
        self.failures.extend([(status, code, message, path)] * times)

    def media_fetches(self) -> list[str]:
        """Paths of the media bytes asked of this peer (not the media id lookups)."""
        return [r.path for r in self.requests if r.method == "GET" and "/cdn/" in r.path]

    def sends(self) -> list[dict]:
        return [
            r.json
            for r in self.requests
            if r.method == "POST"
            and r.path.endswith("/messages")
            and (r.json or {}).get("status") != "read"
        ]

    def reads(self) -> list[str]:
        return [
            r.json["message_id"]
            for r in self.requests
            if r.method == "POST"
            and r.path.endswith("/messages")
            and (r.json or {}).get("status") == "read"
        ]
