"""SQLite with a fair writer queue.

SQLite lets one transaction write at a time; the others are told "busy" and retry after
sleeping (1, 2, 5 … 100 ms), so under concurrent writes some requests wait far longer than
the work ahead of them. Here a write transaction (BEGIN IMMEDIATE) first takes an exclusive
`flock` on a file beside the database, which the kernel hands to the next waiter the moment
the holder commits or rolls back. Measured with bench/bench_cases.py (8 clients creating
cases): same throughput, API p95 139 ms -> 58 ms and worst case 1.7 s -> 0.4 s.

Works across threads and processes: each connection opens its own descriptor, and the
kernel releases the lock if the process dies. A lone write outside a transaction (an
autocommit INSERT, UPDATE or DELETE) queues for the lock too (`_Cursor`), so it never meets
SQLite's sleep-and-retry either; reads never take it.

`ATIENDE_SQLITE_WRITER_QUEUE=0` switches the queue off (SQLite's own busy handling alone),
for chasing a bug: see docs/decisions/0002-sqlite-writer-queue.md.

Requests go first. Background work (the job worker, see `background()`) writes in longer
transactions — a message that opens a case takes ~10 ms — and an acknowledgement that
queued behind it would wait that long each time. A foreground writer holds a shared lock on
a second file from the moment it queues until it commits; a background writer takes the
write lock only when nobody holds that file (or after `BACKGROUND_PATIENCE` seconds, so it
is never starved). Measured with bench/bench_whatsapp.py, see docs/benchmarks.md.
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import os
import sqlite3
import threading
import time
from collections.abc import Iterator

from django.db.backends.sqlite3 import base

from atiende.core import deferred, foreground, mechanisms, threads_first

BACKGROUND_PATIENCE = 0.5  # seconds a background writer gives way to requests, at most
CHECKPOINT_EVERY = 500  # commits in this process between two WAL checkpoints
CHECKPOINT_PATIENCE = 10.0  # seconds a checkpoint waits for a moment without requests
_local = threading.local()


class _Checkpointer:
    """WAL checkpoints off the writers' path.

    SQLite's automatic checkpoint runs inside the COMMIT that fills the WAL: that writer
    copies pages and syncs the database file while every other writer waits for its turn
    (measured: acknowledgement p99 50 -> 140 ms under load). Connections here turn it off
    (`wal_autocheckpoint=0`, see settings) and this thread, one per process, runs a PASSIVE
    checkpoint — which never blocks writers — every CHECKPOINT_EVERY commits, at a moment
    when no request is being served (it still competes for the disk and the processor), or after
    CHECKPOINT_PATIENCE seconds of waiting for one. SQLite also checkpoints when the last
    connection to the database closes.
    """

    def __init__(self) -> None:
        self._commits = 0
        self._wake = threading.Event()
        self._pid = 0

    def committed(self, path: str) -> None:
        self._commits += 1
        if self._commits % CHECKPOINT_EVERY:
            return
        if self._pid != os.getpid():  # first time in this process (threads don't survive fork)
            self._pid = os.getpid()
            threading.Thread(
                target=self._run, args=(path,), name="atiende-sqlite-checkpoint", daemon=True
            ).start()
        self._wake.set()

    def _run(self, path: str) -> None:
        conn = sqlite3.connect(path, timeout=0, check_same_thread=False)
        while True:
            self._wake.wait()
            self._wake.clear()
            foreground.yield_to_requests(patience=CHECKPOINT_PATIENCE)
            with contextlib.suppress(sqlite3.Error):
                conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()


_checkpointer = _Checkpointer()


@contextlib.contextmanager
def background() -> Iterator[None]:
    """Mark this thread's write transactions as background work (they give way)."""
    previous = getattr(_local, "background", False)
    _local.background = True
    try:
        yield
    finally:
        _local.background = previous


def _open(path: str) -> int:
    return os.open(path, os.O_CREAT | os.O_RDWR, 0o600)


class DatabaseWrapper(threads_first.OwnThreadFirst, deferred.ConnectionHooks, base.DatabaseWrapper):
    _lock_fd: int | None = None
    _front_fd: int | None = None
    _holding = False
    _queued_in_front = False

    def _on_disk(self) -> bool:
        name = str(self.settings_dict["NAME"])
        return name != ":memory:" and not name.startswith("file:")

    def _lock_file(self) -> int | None:
        if self._lock_fd is None:
            name = str(self.settings_dict["NAME"])
            if not self._on_disk() or not mechanisms.SQLITE_WRITER_QUEUE:
                return None
            self._lock_fd = _open(f"{name}.writelock")
            self._front_fd = _open(f"{name}.foreground")
        return self._lock_fd

    def _release(self) -> None:
        if self._holding and self._lock_fd is not None:
            fcntl.flock(self._lock_fd, fcntl.LOCK_UN)
        if self._queued_in_front and self._front_fd is not None:
            fcntl.flock(self._front_fd, fcntl.LOCK_UN)
        self._holding = self._queued_in_front = False

    def _give_way(self) -> None:
        """Wait (a bounded time) until no foreground writer is queued or writing."""
        deadline = time.monotonic() + BACKGROUND_PATIENCE
        assert self._front_fd is not None  # opened with the lock file
        while foreground.held(self._front_fd) and time.monotonic() < deadline:
            time.sleep(0.001)

    def _take_turn(self) -> None:
        # transaction_mode: Django 5.1+ (the stubs lag behind)
        fd = self._lock_file() if self.transaction_mode == "IMMEDIATE" else None  # type: ignore[attr-defined]
        if fd is not None and not self._holding:
            if getattr(_local, "background", False):
                self._give_way()
            else:
                assert self._front_fd is not None
                fcntl.flock(self._front_fd, fcntl.LOCK_SH)
                self._queued_in_front = True
            fcntl.flock(fd, fcntl.LOCK_EX)
            self._holding = True

    def create_cursor(self, name=None):
        cursor = self.connection.cursor(factory=_Cursor)
        cursor.owner = self
        return cursor

    def _start_transaction_under_autocommit(self):
        self._take_turn()
        try:
            super()._start_transaction_under_autocommit()
        except BaseException:
            self._release()
            raise

    def _commit(self):
        try:
            super()._commit()
        finally:
            self._release()
        if self._on_disk():  # automatic checkpoints are off (settings): see _Checkpointer
            _checkpointer.committed(str(self.settings_dict["NAME"]))

    def _rollback(self):
        try:
            super()._rollback()
        finally:
            self._release()

    def _close(self):
        try:
            super()._close()
        finally:
            self._release()
            for name in ("_lock_fd", "_front_fd"):
                if getattr(self, name) is not None:
                    os.close(getattr(self, name))
                    setattr(self, name, None)


_WRITES = ("INSERT", "UPDATE", "DELETE", "REPLAC")


@functools.lru_cache(maxsize=1024)
def _qmark(query: str) -> str:
    return base.FORMAT_QMARK_REGEX.sub("?", query).replace("%%", "%")


class _Cursor(base.SQLiteCursorWrapper):
    """A write outside a transaction (autocommit: a lone INSERT or UPDATE) queues for its
    turn like a transaction does, instead of meeting SQLite's sleep-and-retry."""

    owner: DatabaseWrapper | None = None

    def _alone(self, query: str) -> bool:
        owner = self.owner
        return (
            owner is not None
            and owner.get_autocommit()
            and not owner._holding
            and query.lstrip()[:6].upper() in _WRITES
        )

    def _in_turn(self, query: str, run):
        if not self._alone(query):
            return run()
        owner = self.owner
        owner._take_turn()
        try:
            return run()
        finally:
            owner._release()
            _checkpointer.committed(str(owner.settings_dict["NAME"]))

    def execute(self, query, params=None):
        return self._in_turn(query, lambda: super(_Cursor, self).execute(query, params))

    def convert_query(self, query, *, param_names=None):
        """Django's conversion of `%s` placeholders to SQLite's `?`, a regular expression
        over the whole statement each time, remembered per statement text: a pass writes
        the same few statements thousands of times (4 % of its writer before)."""
        if param_names is None:
            return _qmark(query)
        return super().convert_query(query, param_names=param_names)

    def executemany(self, query, param_list):
        return self._in_turn(query, lambda: super(_Cursor, self).executemany(query, param_list))
