"""Parsing fetched mail on the other cores while the poller stores what is already parsed.

Parsing and sanitising a message (`inbound.parse`) is pure CPU and needs no database, so a
pass with many messages hands each transaction group's raw bytes to a small process pool
and, meanwhile, stores the groups parsed before. Only plain data crosses: raw bytes in,
`ParsedEmail` objects (dataclasses of strings, bytes and datetimes) or None out.

The workers are forked from the poller when it runs one thread (`poll-email --once`), else
from a fork server, a fresh interpreter that imports only this module and `inbound` (no
Django, no database connection, no IMAP socket, none of the caller's threads): see
`_context`. There is one worker per core but the writer's (`workers`). Passes shorter than
`MIN_MESSAGES` parse in the caller, as before (docs/decisions/0007-email-parse-pool.md).

Nothing about exactly-once changes: the pool only parses. The poller still stores each
group in one transaction and moves its messages on the server after the commit. A worker
that dies (killed, out of memory) breaks the pool: the groups it held are parsed in the
caller instead, and the pass goes on serially (`Parser.broken`). A message whose parse
raises comes back as None and takes the one-by-one path that quarantines it, as a parse
error in the caller always did.
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import multiprocessing
import os
import signal
import threading
from collections.abc import Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

from atiende.channels.email import inbound
from atiende.core import mechanisms

log = logging.getLogger(__name__)

# Below this many messages in a pass a pool costs more than it saves (its start, ~0.1 s).
MIN_MESSAGES = 100
# "fork" or "forkserver" to force one (tests); None: fork when single-threaded (`_context`).
START_METHOD: str | None = None


def parse_group(
    raws: Sequence[bytes],
    envelopes: Sequence[str | None],
    *,
    channel: str,
    own: frozenset[str],
    trusted: frozenset[str],
) -> list[inbound.ParsedEmail | None]:
    """Parse some messages; None for one that cannot be parsed (the caller quarantines it).
    Runs in a pool worker or in the caller: the same code either way."""
    out: list[inbound.ParsedEmail | None] = []
    for raw, envelope in zip(raws, envelopes, strict=True):
        try:
            out.append(
                inbound.parse(
                    raw,
                    channel=channel,
                    own_addresses=own,
                    envelope_sender=envelope,
                    trusted_authserv_ids=trusted,
                )
            )
        except Exception:  # unparseable, or a parser bug: quarantined on its own later
            out.append(None)
    return out


def workers() -> int:
    """One worker per core this process may run on, but the writer's: parsing is about a
    third of what storing costs, so one worker keeps up with one writer, and a second one
    on a 2-core machine only takes CPU from the writer (docs/benchmarks.md, issue 17,
    session 8: 3.6 against 4.0 CPU s per pass, and faster). 0 (no pool) on one core, or
    with the mechanism switched off (`ATIENDE_EMAIL_PARSE_POOL=0`, core/mechanisms.py)."""
    if not mechanisms.EMAIL_PARSE_POOL:
        return 0
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        cores = os.cpu_count() or 1
    return max(0, cores - 1)


def _context() -> multiprocessing.context.BaseContext:
    """Fork, when this process runs only one thread (`poll-email --once`): the workers
    start at once, warm, and are this process's children (their CPU time is counted
    with it). A process running other threads (the worker, `poll-email` watching several
    mailboxes) could fork in the middle of their locks: its pool comes from a fork server,
    a fresh interpreter that imports only this module (no Django, no connections)."""
    method = START_METHOD or ("fork" if threading.active_count() == 1 else "forkserver")
    if method == "fork":
        return multiprocessing.get_context("fork")
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload([__name__])
    return context


def _worker_started() -> None:
    """A worker ends with the process that made it (Linux): a poller killed mid-pass must
    not leave its parse workers waiting forever for work."""
    parent = os.getppid()
    with contextlib.suppress(Exception):
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:  # it died before the request was made
        os._exit(1)


_PR_SET_PDEATHSIG = 1


class Parser:
    """Parses groups of raw messages, in a process pool when `size` > 0, else in the caller.

    `submit` returns at once; `result` gives the group's parses in order. Use as a context
    manager: the pool's processes end with it.
    """

    def __init__(
        self,
        *,
        channel: str,
        own: set[str] | frozenset[str],
        trusted: frozenset[str],
        size: int,
    ) -> None:
        self.channel = channel
        self.own = frozenset(a.lower() for a in own)
        self.trusted = trusted
        self.broken = False
        self._pool: ProcessPoolExecutor | None = None
        if size > 0:
            try:
                self._pool = ProcessPoolExecutor(
                    max_workers=size, mp_context=_context(), initializer=_worker_started
                )
            except (OSError, ValueError) as exc:  # no /dev/shm, no forkserver on this OS
                log.warning("parsing email in this process: no pool (%r)", exc)

    def __enter__(self) -> Parser:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def submit(
        self, raws: Sequence[bytes], envelopes: Sequence[str | None]
    ) -> Future[list[inbound.ParsedEmail | None]] | None:
        """Start parsing a group in the pool (None: it will be parsed by `result`)."""
        if self._pool is None or self.broken:
            return None
        try:
            return self._pool.submit(
                parse_group,
                list(raws),
                list(envelopes),
                channel=self.channel,
                own=self.own,
                trusted=self.trusted,
            )
        except (BrokenProcessPool, RuntimeError) as exc:
            self._broke(exc)
            return None

    def result(
        self,
        future: Future[list[inbound.ParsedEmail | None]] | None,
        raws: Sequence[bytes],
        envelopes: Sequence[str | None],
    ) -> list[inbound.ParsedEmail | None]:
        if future is not None:
            try:
                return future.result()
            except BrokenProcessPool as exc:
                self._broke(exc)
            except Exception as exc:  # e.g. a result that would not pickle: this group here
                log.warning("parsing %d emails in a worker failed (%r): here", len(raws), exc)
        return parse_group(
            raws, envelopes, channel=self.channel, own=self.own, trusted=self.trusted
        )

    def _broke(self, exc: BaseException) -> None:
        if not self.broken:
            log.warning("an email parse worker died (%r): parsing in this process", exc)
        self.broken = True
