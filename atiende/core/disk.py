"""Making written files durable: fsync the bytes of every file, then the directories that
name them. No Django here: the email parse workers (which import no Django) use it as the
commit hook does (`core/durable.py`).

The fsyncs run on a few threads at once: a journaling file system (ext4, XFS) writes
concurrent fsyncs with one journal commit, so thirty files cost about what one costs
(docs/benchmarks.md, issue 17, session 7), where one after the other each waits for its own.
The threads are the process's own, started once, and each takes a share of the paths: a
pool started for every sync, and a task per file, cost about as much processor time as
the fsyncs themselves (docs/benchmarks.md, issue 17, session 21).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Collection, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

THREADS = 8
THREAD_PREFIX = "fsync"  # the names of the threads `sync` keeps

_pool: tuple[int, ThreadPoolExecutor] | None = None
_pool_lock = threading.Lock()


def sync(files: Collection[Path], directories: Collection[Path]) -> None:
    """fsync `files`, then `directories`; an OSError (a file gone, a failing disk) raises.
    The bytes of every file before any name: a name durable before its bytes would be a
    file full of zeros after a power cut."""
    if len(files) + len(directories) <= 2:
        for path in [*files, *directories]:
            fsync(path)
        return
    pool = _threads()
    for paths in (list(files), list(directories)):
        shares = [paths[i::THREADS] for i in range(min(THREADS, len(paths)))]
        list(pool.map(_fsync_all, shares))  # every share done (or its error raised)


def _threads() -> ThreadPoolExecutor:
    """This process's fsync threads (a forked child makes its own: it has none running).
    Between two syncs they only wait for work, holding no lock a child could inherit."""
    global _pool
    with _pool_lock:
        if _pool is None or _pool[0] != os.getpid():
            _pool = (os.getpid(), ThreadPoolExecutor(THREADS, thread_name_prefix=THREAD_PREFIX))
        return _pool[1]


def _fsync_all(paths: Sequence[Path]) -> None:
    for path in paths:
        fsync(path)


def fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
