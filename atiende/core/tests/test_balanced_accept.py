"""Web processes share kept-alive connections evenly (`core/balanced_accept.py`), and each
starts its request threads, connected, before it serves (`serve._start_request_threads`)."""

from __future__ import annotations

import contextlib
import http.client
import os
import socket
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.db import connections

from atiende.core import balanced_accept
from atiende.core.balanced_accept import STALE, Table
from atiende.core.management.commands import serve
from atiende.core.tests.processes import stop_group

# -- the shared table --


def test_the_fewest_connections_elsewhere_leave_out_the_asking_row_and_empty_rows():
    table = Table(8)
    assert table.fewest_elsewhere(0) is None
    table.publish(0, 100, 1)
    table.publish(3, 103, 5)
    table.publish(5, 105, 2)
    assert table.fewest_elsewhere(0) == 2
    assert table.fewest_elsewhere(5) == 1
    assert table.fewest_elsewhere(7) == 1


def test_a_row_without_a_recent_heartbeat_belongs_to_a_process_that_is_gone():
    table = Table(4)
    table.publish(0, 100, 7)
    table.publish(1, 101, 0)  # killed while holding nothing: its row stays behind
    later = time.monotonic() + STALE + 1
    assert table.fewest_elsewhere(0) == 0
    assert table.fewest_elsewhere(0, now=later) is None
    table.release(1)
    assert table.fewest_elsewhere(0) is None


def test_a_forked_process_sees_what_its_parent_publishes_later():
    table = Table(4)
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: wait for the parent's word, then report what it sees
        os.read(read, 1)
        os.write(write, str(table.fewest_elsewhere(1)).encode())
        os._exit(0)
    table.publish(0, os.getpid(), 6)
    os.write(write, b"!")
    os.waitpid(pid, 0)
    assert os.read(read, 10) == b"6"


# -- the worker's choice --


def _worker(table: Table, row: int, held: int):
    worker = balanced_accept.BalancedThreadWorker.__new__(balanced_accept.BalancedThreadWorker)
    worker.table, worker._row, worker._me = table, row, 100 + row
    worker.nr_conns = held
    return worker


def test_a_process_holding_more_than_another_is_crowded_and_publishes_its_count():
    table = Table(4)
    table.publish(1, 101, 3)
    assert _worker(table, 0, 3).crowded() is False  # as many as the fewest: accept now
    assert table.fewest_elsewhere(1) == 3  # the worker published its count
    assert _worker(table, 0, 4).crowded() is True
    assert _worker(table, 2, 0).crowded() is False
    alone = _worker(Table(4), 0, 50)
    assert alone.crowded() is False  # nobody else to leave it to


def test_a_crowded_process_still_accepts_after_its_grace(monkeypatch):
    table = Table(4)
    table.publish(1, 101, 0)
    worker = _worker(table, 0, 2)
    slept, accepted = [], []
    monkeypatch.setattr(balanced_accept.time, "sleep", slept.append)
    monkeypatch.setattr(
        balanced_accept.ThreadWorker, "accept", lambda self, listener: accepted.append(listener)
    )
    worker.accept("listener")
    assert slept == [balanced_accept.GRACE] and accepted == ["listener"]
    table.publish(1, 101, 5)
    worker.accept("listener")
    assert slept == [balanced_accept.GRACE] and accepted == ["listener", "listener"]


# -- request threads started with their connections --


@pytest.mark.django_db(transaction=True)
def test_a_web_process_starts_every_request_thread_connected_before_it_serves():
    pool = ThreadPoolExecutor(max_workers=3)
    worker = SimpleNamespace(tpool=pool, cfg=SimpleNamespace(threads=3))
    try:
        serve._start_request_threads(worker)
        assert len(pool._threads) == 3
        everyone = threading.Barrier(3)

        def connected() -> bool:
            everyone.wait(timeout=10)  # three tasks at once: one on each thread
            return connections["default"].connection is not None

        assert [f.result() for f in [pool.submit(connected) for _ in range(3)]] == [True] * 3
    finally:
        closing = threading.Barrier(3)

        def close() -> None:
            closing.wait(timeout=10)
            connections.close_all()

        for f in [pool.submit(close) for _ in range(3)]:
            f.result()
        pool.shutdown()


def test_a_database_that_cannot_be_reached_does_not_stop_a_web_process(monkeypatch):
    def refuse(self):
        raise OSError("connection refused")

    monkeypatch.setattr(type(connections["default"]), "ensure_connection", refuse)
    pool = ThreadPoolExecutor(max_workers=2)
    try:
        serve._start_request_threads(SimpleNamespace(tpool=pool, cfg=SimpleNamespace(threads=2)))
        assert len(pool._threads) == 2
    finally:
        pool.shutdown()


# -- atiende serve, three processes --


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _holders(port: int, pids: list[int], client_ports: set[int]) -> dict[int, int]:
    """How many of the clients' connections each server process holds (from /proc)."""
    inodes: dict[str, int] = {}
    for name in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(FileNotFoundError), open(name) as f:
            for line in list(f)[1:]:
                fields = line.split()
                local, remote, inode = fields[1], fields[2], fields[9]
                if int(local.rsplit(":", 1)[1], 16) == port:
                    remote_port = int(remote.rsplit(":", 1)[1], 16)
                    if remote_port in client_ports:
                        inodes[f"socket:[{inode}]"] = remote_port
    held = {}
    for pid in pids:
        fds = Path(f"/proc/{pid}/fd")
        links = {os.readlink(fd) for fd in fds.iterdir() if fd.is_symlink()}
        held[pid] = len(links & inodes.keys())
    return held


@pytest.fixture
def three_web_processes(tmp_path):
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DATABASE_URL", "ATIENDE_", "DJANGO_"))
    }
    env |= {"ATIENDE_DATA_DIR": str(tmp_path / "datos"), "ATIENDE_ADMIN_PASSWORD": "x" * 20}
    port = _free_port()
    log_path = tmp_path / "serve.log"
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            [
                *(sys.executable, "-m", "atiende", "serve", "--bind", f"127.0.0.1:{port}"),
                *("--web-workers", "3", "--threads", "2", "--no-worker"),
            ],
            env=env,
            cwd=Path(__file__).resolve().parents[3],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + 180
        while log_path.read_bytes().count(b"web process") < 3:
            assert proc.poll() is None, log_path.read_text()[-3000:]
            assert time.monotonic() < deadline, "atiende serve did not start"
            time.sleep(0.2)
        children = Path(f"/proc/{proc.pid}/task/{proc.pid}/children").read_text().split()
        yield port, [int(pid) for pid in children]
    finally:
        stop_group(proc)


def test_kept_alive_connections_are_shared_evenly_by_the_web_processes(three_web_processes):
    port, pids = three_web_processes
    assert len(pids) == 3
    clients = []
    try:
        for _ in range(12):  # one after another, each answered before the next opens
            client = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            client.request("GET", "/healthz")
            response = client.getresponse()
            response.read()
            assert response.status == 200
            clients.append(client)
        ports = {c.sock.getsockname()[1] for c in clients}
        held = _holders(port, pids, ports)
        assert sum(held.values()) == 12, held
        # 4 each when every choice went first to the process holding fewest; one late
        # wake-up on a busy machine may leave 5/4/3. Unbalanced, one process often took
        # nearly all of them (docs/decisions/0013).
        assert max(held.values()) - min(held.values()) <= 2, held
    finally:
        for client in clients:
            client.close()
