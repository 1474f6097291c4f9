"""core.keepalive against a real HTTP/1.1 server on loopback: connections kept and reused,
dropped when the server closed them, never shared with a forked child; failures reported as
`Unavailable`."""

from __future__ import annotations

import json
import os
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from atiende.core import keepalive


class _Quiet(ThreadingHTTPServer):
    closed: threading.Event

    def handle_error(self, request, client_address) -> None:
        pass  # the late answer to a client that gave up: a broken pipe, expected

    def shutdown_request(self, request) -> None:
        """Close the connection, then say so: a handler's `finish` runs before its socket
        is closed, and a test that went on at `finish` could find it still open."""
        super().shutdown_request(request)
        self.closed.set()


class Server:
    """Answers every POST with its body's `echo` and the connection's number. `close`
    makes it close the connection after answering (with or without saying so); `delay`
    makes it answer that many seconds late."""

    def __init__(self) -> None:
        self.connections = 0
        self.closed = threading.Event()
        self.close: str | None = None  # None, "announced" or "silently"
        self.delay = 0.0
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def setup(self) -> None:
                super().setup()
                server.connections += 1
                self.number = server.connections

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                time.sleep(server.delay)
                raw = json.dumps({"echo": body["echo"], "connection": self.number}).encode()
                self.send_response(201)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                if server.close == "announced":
                    self.send_header("Connection", "close")
                self.end_headers()
                self.wfile.write(raw)
                if server.close == "silently":
                    self.close_connection = True

        self.httpd = _Quiet(("127.0.0.1", 0), Handler)
        self.httpd.closed = self.closed
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1/things?x=1"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server():
    s = Server()
    yield s
    s.stop()


@pytest.fixture
def pool():
    p = keepalive.Pool(connect_timeout=2, read_timeout=0.5)
    yield p
    p.close()


def post(pool: keepalive.Pool, url: str, echo: str) -> keepalive.Answer:
    return pool.request(
        "POST",
        url,
        headers={"Content-Type": "application/json"},
        body=keepalive.json_body({"echo": echo}),
    )


def test_requests_share_one_kept_alive_connection(server, pool):
    answers = [post(pool, server.url, f"m{i}") for i in range(3)]
    assert [a.status_code for a in answers] == [201, 201, 201]
    assert [a.json()["echo"] for a in answers] == ["m0", "m1", "m2"]
    assert {a.json()["connection"] for a in answers} == {1}
    assert server.connections == 1


def test_a_connection_the_server_closed_while_idle_is_replaced_not_failed(server, pool):
    server.close = "silently"  # no "Connection: close": the client pools it
    assert post(pool, server.url, "first").json()["connection"] == 1
    assert server.closed.wait(5)
    server.close = None
    answer = post(pool, server.url, "second")
    assert answer.json() == {"echo": "second", "connection": 2}


def test_an_answer_that_closes_the_connection_is_not_pooled(server, pool):
    server.close = "announced"
    assert post(pool, server.url, "a").json()["connection"] == 1
    server.close = None
    assert post(pool, server.url, "b").json()["connection"] == 2
    assert post(pool, server.url, "c").json()["connection"] == 2


def test_nothing_listening_is_unavailable(pool):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(keepalive.Unavailable, match="ConnectionRefused"):
        post(pool, f"http://127.0.0.1:{port}/x", "lost")


def test_an_answer_later_than_the_read_timeout_is_unavailable_and_the_connection_dropped(
    server, pool
):
    server.delay = 1.0  # the pool waits 0.5 s
    with pytest.raises(keepalive.Unavailable, match="Timeout"):
        post(pool, server.url, "slow")
    server.delay = 0
    # The late answer would arrive on the old connection: a new one carries the next call.
    assert post(pool, server.url, "next").json() == {"echo": "next", "connection": 2}


def test_a_forked_child_opens_its_own_connection(server, pool):
    assert post(pool, server.url, "parent").json()["connection"] == 1
    pid = os.fork()
    if pid == 0:  # the child: exit 0 only if it did not get the parent's connection
        code = 1
        try:
            code = 0 if post(pool, server.url, "child").json()["connection"] == 2 else 1
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert post(pool, server.url, "parent again").json()["connection"] == 1


def test_only_http_urls(pool):
    with pytest.raises(ValueError):
        post(pool, "ftp://127.0.0.1/x", "no")
