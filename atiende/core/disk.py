"""Making written files durable: fsync the bytes of every file, then the directories that
name them. No Django here: the email parse workers (which import no Django) use it as the
commit hook does (`core/durable.py`).

The fsyncs run on a few threads at once: a journaling file system (ext4, XFS) writes
concurrent fsyncs with one journal commit, so thirty files cost about what one costs
(docs/benchmarks.md, issue 17, session 7), where one after the other each waits for its own.
"""

from __future__ import annotations

import os
from collections.abc import Collection
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

THREADS = 8


def sync(files: Collection[Path], directories: Collection[Path]) -> None:
    """fsync `files`, then `directories`; an OSError (a file gone, a failing disk) raises.
    The bytes of every file before any name: a name durable before its bytes would be a
    file full of zeros after a power cut."""
    if len(files) + len(directories) <= 2:
        for path in [*files, *directories]:
            fsync(path)
        return
    with ThreadPoolExecutor(max_workers=min(THREADS, max(len(files), len(directories)))) as pool:
        list(pool.map(fsync, files))
        list(pool.map(fsync, directories))


def fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
