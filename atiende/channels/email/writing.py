"""Storing a pass's transaction groups on writer threads, each with its own connection.

On PostgreSQL a pass's writer spends about half its time waiting for the server: each
statement's trip and the server's own work (the search index's `tsvector`s, the indexes,
the commit), while the machine's other core parses. Two writer threads, each with its own
connection, store two groups at the same time: one runs Python while the other waits for
its answer (docs/benchmarks.md, issue 17, session 14).

On SQLite one thread stores (one writer at a time), but not the poller's: that one keeps
the IMAP connection, so fetching the next chunk and moving the last one on the server
(round trips to the mail server, and its answers' parsing) no longer stop the storing
(docs/benchmarks.md, issue 17, session 18). Its own writes (the mailbox's last UID) take
their turn in SQLite's writer queue (`core/sqlite`) between two groups.

What does not change: each group is still one transaction (`intake.ingest_many`), and a
chunk leaves the IMAP folder only after every one of its groups committed, chunks in the
order fetched (`imap._Pass.finish`); an error in a group reaches the poller as it did
(after the chunk's other groups are done), and the chunk stays on the server. Two groups that hold the same
message, or the same new sender, meet at the unique keys as two pollers would (the second
waits for the first's commit, then finds the row taken and is redone one mail at a time):
nothing is stored twice (`tests/test_writers.py`).

Only where it helps and is safe: a pass long enough for the parse pool
(`parallel.MIN_MESSAGES`), more than one core, and no transaction open in the caller (a
pass inside one must stay inside it). Switch: `ATIENDE_EMAIL_WRITERS=0` (core/mechanisms.py).
"""

from __future__ import annotations

import contextlib
import functools
import os
import queue
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future
from typing import Any, TypeVar

from django.db import connection, connections

from atiende.channels.email import parallel
from atiende.core import mechanisms

R = TypeVar("R")

THREADS = 2  # on PostgreSQL


def count(messages: int) -> int:
    """How many writer threads a pass of `messages` gets: 0 means the caller's thread; two
    on PostgreSQL, one on SQLite."""
    if not mechanisms.EMAIL_WRITERS or messages < parallel.MIN_MESSAGES:
        return 0
    if connection.in_atomic_block:
        return 0
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        cores = os.cpu_count() or 1
    if cores < 2:
        return 0
    return THREADS if connection.vendor == "postgresql" else 1


class Writers:
    """Threads that run storing work, each on database connections of its own, closed when
    the thread ends (`close`). They start with the first work handed over: by then the
    pass's parse pool has forked its workers (a fork copies only the forking thread, and
    should find no other thread of ours in the middle of anything)."""

    def __init__(self, threads: int) -> None:
        self._work: queue.SimpleQueue[tuple[Future[Any], Callable[[], Any]] | None] = (
            queue.SimpleQueue()
        )
        self._threads = [
            threading.Thread(target=self._serve, name=f"email-writer-{i}", daemon=True)
            for i in range(threads)
        ]
        self._started = False

    def _serve(self) -> None:
        try:
            while (item := self._work.get()) is not None:
                future, work = item
                if future.set_running_or_notify_cancel():
                    try:
                        future.set_result(work())
                    except BaseException as exc:
                        future.set_exception(exc)
        finally:
            connections.close_all()  # this thread's own

    def submit(self, fn: Callable[..., R], *args: Any) -> Future[R]:
        """Run `fn(*args)` on the first writer free."""
        if not self._started:
            for thread in self._threads:
                thread.start()
            self._started = True
        future: Future[R] = Future()
        self._work.put((future, functools.partial(fn, *args)))
        return future

    def close(self) -> None:
        """End the threads once the work they started is done; work not started yet is
        cancelled (the pass is ending on an error)."""
        with contextlib.suppress(queue.Empty):
            while True:
                item = self._work.get_nowait()
                if item is not None:
                    item[0].cancel()
        if not self._started:
            return
        for _ in self._threads:
            self._work.put(None)
        for thread in self._threads:
            thread.join()


def results(futures: Sequence[Future[R]]) -> list[R]:
    """The futures' results in order, once every one of them is done; if any raised, the
    first error (in order) is raised, after the others finished too."""
    for future in futures:
        if not future.cancelled():
            future.exception()  # waits
    return [future.result() for future in futures]


def done(value: R) -> Future[R]:
    """A future already done with `value` (work done in the caller's thread)."""
    future: Future[R] = Future()
    future.set_result(value)
    return future


@contextlib.contextmanager
def writers(messages: int) -> Iterator[Writers | None]:
    """Writer threads for a pass of `messages` (None: store in the caller's thread)."""
    threads = count(messages)
    if not threads:
        yield None
        return
    pool = Writers(threads)
    try:
        yield pool
    finally:
        pool.close()
