"""Requests first: background work on the same machine gives the processor to requests.

On a small machine the job worker and the web server share the cores. A webhook must be
acknowledged in milliseconds; the job that turns it into a case can wait a little. Every web
process holds a shared `flock` on a file in the data directory while it has requests in
flight (`Middleware`); between jobs, a worker on the same machine waits while that file is
held (or was, in the last `QUIET_SECONDS`), for at most `PATIENCE_SECONDS` per job, so it
slows down during a burst and never stops for long (`yield_to_requests`).
The wait happens outside any transaction, so the worker never makes a request wait for a
lock it holds. Workers on other machines are not slowed (they share no cores).
"""

from __future__ import annotations

import fcntl
import os
import threading
import time

from django.conf import settings

from atiende.core import mechanisms

PATIENCE_SECONDS = 0.25
QUIET_SECONDS = 0.02


class _Flag:
    """This process's share of the flag: taken by its first request in flight, released by
    its last (an flock belongs to the open file, which the process's threads share)."""

    def __init__(self) -> None:
        self._guard = threading.Lock()
        self._active = 0
        self._fd: int | None = None
        self._probe: int | None = None  # its own open file, so it sees this process's lock

    def _file(self) -> int:
        if self._fd is None:
            self._fd = _open_flag()
        return self._fd

    def enter(self) -> None:
        with self._guard:
            self._active += 1
            if self._active == 1:
                fcntl.flock(self._file(), fcntl.LOCK_SH)

    def leave(self) -> None:
        with self._guard:
            self._active -= 1
            if self._active == 0:
                os.utime(self._file())  # when this process last served a request
                fcntl.flock(self._file(), fcntl.LOCK_UN)

    def busy(self, quiet: float) -> bool:
        """Is a request in flight on this machine, or did one end less than `quiet`
        seconds ago?"""
        if self._probe is None:
            self._probe = _open_flag()
        if held(self._probe):
            return True
        return time.time() - os.fstat(self._probe).st_mtime < quiet


def _open_flag() -> int:
    return os.open(settings.DATA_DIR / "requests.active", os.O_CREAT | os.O_RDWR, 0o600)


def held(fd: int) -> bool:
    """Does another open file hold a lock (shared or exclusive) on this one's file?"""
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    fcntl.flock(fd, fcntl.LOCK_UN)
    return False


_flag = _Flag()


class Middleware:
    """First in the stack: marks this process as serving requests while it does."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request):
        _flag.enter()
        try:
            return self.get_response(request)
        finally:
            _flag.leave()


def busy(quiet: float = QUIET_SECONDS) -> bool:
    """Is a request being served on this machine, or was one less than `quiet` seconds
    ago? (Never, with the mechanism off.) A worker then keeps its transactions short."""
    return mechanisms.REQUESTS_FIRST and _flag.busy(quiet)


def yield_to_requests(patience: float = PATIENCE_SECONDS, *, quiet: float = QUIET_SECONDS) -> None:
    """Wait until no request has been served on this machine for `quiet` seconds (the gaps
    between the requests of a burst are shorter), at most `patience` seconds."""
    if not mechanisms.REQUESTS_FIRST:
        return
    deadline = time.monotonic() + patience
    while _flag.busy(quiet) and time.monotonic() < deadline:
        time.sleep(0.001)
