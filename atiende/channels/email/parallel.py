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

A worker also writes each parsed message's attachments and the raw mail itself into the
local attachment store by their hashes and syncs them, group by group (`Keep`,
`keep_files`), so that the poller's rows name files already durable and its commit waits
for no fsync (`storage.store(..., synced=...)`). A file nobody's row names in the end (a
mail found stored already, a transaction rolled back) is an orphan that
`storage.sweep_orphans` removes, as before.

On PostgreSQL a pass in a process of one thread (`poll-email --once`, a separate worker's
periodic poll) has its workers store too (`stores`, decision 0015): each worker parses a group and stores it, in one transaction on its own database
connection, and one worker runs on every core. The writer threads of one process
(`writing.py`) could use one core between them, for the interpreter lock, while a pass's
storing is mostly Python; two processes use both. The poller closes its connection before
the workers are forked (they would share its socket) and keeps to IMAP, the folder's last
UID and the order in which chunks leave the folder.

Nothing about exactly-once changes: the pool parses, writes content-addressed files and,
where it stores, stores each group in one transaction as the poller's writers do; the
poller moves a chunk's messages on the server only after every one of its groups
committed. A worker that dies (killed, out of memory) breaks the pool: the groups it held
are parsed (and stored) in the caller instead, and the pass goes on serially
(`Parser.broken`); a group the dead worker had committed is found stored, every message of
it a duplicate. A message whose parse raises comes back as None and takes the one-by-one
path that quarantines it, as a parse error in the caller always did.
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import logging
import multiprocessing
import multiprocessing.util
import os
import signal
import threading
from collections.abc import Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from atiende.cases import blobs
from atiende.channels.email import inbound
from atiende.channels.messages import InboundAttachment
from atiende.core import disk, mechanisms

log = logging.getLogger(__name__)

# Below this many messages in a pass a pool costs more than it saves (its start, ~0.1 s).
MIN_MESSAGES = 100
# "fork" or "forkserver" to force one (tests); None: fork when single-threaded (`_context`).
START_METHOD: str | None = None
# True or False to say whether a pool's workers store (tests); None: on PostgreSQL (`stores`).
STORE: bool | None = None


@dataclass(frozen=True)
class Keep:
    """Where and what a worker writes of the mail it parses: the local attachment store's
    root, and the limits intake applies (`intake._acceptable`), so that what it writes is
    what will be stored."""

    root: str
    max_bytes: int
    per_message: int


@dataclass(frozen=True)
class Store:
    """What a worker that stores needs besides what it parses with: the channel's key."""

    channel_id: int


def store_group(
    raws: Sequence[bytes],
    envelopes: Sequence[str | None],
    sources: Sequence[str],
    *,
    channel: str,
    own: frozenset[str],
    trusted: frozenset[str],
    keep: Keep | None,
    store: Store,
) -> list[Any]:
    """Parse a group (`parse_group`), then store it in one transaction on this worker's
    own connection (`intake.ingest_many`): its outcomes, in order."""
    from atiende.channels.email import intake

    parsed = parse_group(raws, envelopes, channel=channel, own=own, trusted=trusted, keep=keep)
    return intake.ingest_many(
        _channel(store.channel_id),
        list(zip(raws, sources, strict=True)),
        own=set(own),
        senders=list(envelopes),
        parsed=parsed,
    )


@functools.cache
def _channel(pk: int) -> Any:
    """The channel a storing worker stores for (a worker lives for one pass)."""
    from atiende.directory.models import Channel

    return Channel.objects.get(pk=pk)


def parse_group(
    raws: Sequence[bytes],
    envelopes: Sequence[str | None],
    *,
    channel: str,
    own: frozenset[str],
    trusted: frozenset[str],
    keep: Keep | None = None,
) -> list[inbound.ParsedEmail | None]:
    """Parse some messages; None for one that cannot be parsed (the caller quarantines it).
    Runs in a pool worker or in the caller: the same code either way. With `keep`, their
    files are written and synced too (`keep_files`)."""
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
    if keep is not None:
        keep_files(out, raws, keep)
    return out


def keep_files(parsed: Sequence[inbound.ParsedEmail | None], raws: Sequence[bytes], keep: Keep):
    """Write the files intake will store for these parsed mails — each one's acceptable
    attachments and the raw mail, as `intake._store` picks them — and make them durable
    together (files, then directories); then mark each as `synced`. A delivery report
    stores no files. If anything fails (a full disk), nothing is marked and the poller
    stores the files itself, with its usual errors."""
    root = Path(keep.root)
    files: set[Path] = set()
    directories: set[Path] = set()
    marked: list[tuple[inbound.ParsedEmail, list[InboundAttachment], str]] = []

    def place(content: bytes) -> str:
        sha, path, made = blobs.place(root, content)
        files.add(path)
        directories.update([path.parent, *made])
        return sha

    try:
        for p, raw in zip(parsed, raws, strict=True):
            if p is None or p.bounce is not None:
                continue
            attachments, kept = [], 0
            for att in p.message.attachments:
                if (
                    kept < keep.per_message
                    and len(att.content) <= keep.max_bytes
                    and not blobs.refused(blobs.clean_filename(att.filename), att.content)
                ):
                    att = replace(att, synced=place(att.content))
                    kept += 1
                attachments.append(att)
            marked.append((p, attachments, place(raw) if len(raw) <= keep.max_bytes else ""))
        disk.sync(files, directories)
    except OSError:
        return
    for p, attachments, raw_synced in marked:
        p.message.attachments = attachments
        p.raw_synced = raw_synced


def workers(*, storing: bool = False) -> int:
    """One worker per core this process may run on, but the writer's: parsing is about a
    third of what storing costs, so one worker keeps up with one writer, and a second one
    on a 2-core machine only takes CPU from the writer (docs/benchmarks.md, issue 17,
    session 8: 3.6 against 4.0 CPU s per pass, and faster). Workers that store (`stores`)
    are the writers: one per core. 0 (no pool) on one core, or with the mechanism switched
    off (`ATIENDE_EMAIL_PARSE_POOL=0`, core/mechanisms.py)."""
    if not mechanisms.EMAIL_PARSE_POOL:
        return 0
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        cores = os.cpu_count() or 1
    if cores < 2:
        return 0
    return cores if storing else cores - 1


def stores(messages: int) -> bool:
    """Whether a pass of `messages` has its pool's workers store what they parse (module
    docstring, decision 0015): on PostgreSQL, for a pass long enough for a pool, where the
    workers can be forked from this process (it runs one thread: `poll-email --once`) and
    no transaction is open here (the workers could not see it, nor take part in it).
    Switch: `ATIENDE_EMAIL_STORE_POOL=0`."""
    from django.db import connection

    if not mechanisms.EMAIL_STORE_POOL or messages < MIN_MESSAGES or not workers():
        return False
    if connection.in_atomic_block or _start_method() != "fork":
        return False
    return STORE if STORE is not None else connection.vendor == "postgresql"


def _start_method() -> str:
    return START_METHOD or ("fork" if _alone() else "forkserver")


def _alone() -> bool:
    """Whether this thread is the process's only one, but for the fsync threads
    `core.disk` keeps: with no other thread of ours running, they wait for work, holding
    nothing a forked child would inherit (and a child starts its own)."""
    here = threading.current_thread()
    return all(t is here or t.name.startswith(disk.THREAD_PREFIX) for t in threading.enumerate())


def _context() -> multiprocessing.context.BaseContext:
    """Fork, when this process runs only one thread (`poll-email --once`): the workers
    start at once, warm, and are this process's children (their CPU time is counted
    with it). A process running other threads (the worker, `poll-email` watching several
    mailboxes) could fork in the middle of their locks: its pool comes from a fork server,
    a fresh interpreter that imports only this module (no Django, no connections)."""
    method = _start_method()
    if method == "fork":
        return multiprocessing.get_context("fork")
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload([__name__])
    return context


def _worker_started(storing: bool = False) -> None:
    """A worker ends with the process that made it (Linux): a poller killed mid-pass must
    not leave its parse workers waiting forever for work. A worker that stores closes its
    database connections when it ends (the pool's end, or a poller that ends the pass)."""
    parent = os.getppid()
    with contextlib.suppress(Exception):
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:  # it died before the request was made
        os._exit(1)
    if storing:
        from django.db import connections

        for conn in connections.all(initialized_only=True):
            if conn.connection is not None:
                # The poller's, still open (it is closed before forking): never this
                # process's to use or to close (closing would end the poller's session).
                _INHERITED.append(conn.connection)
                conn.connection = None
        multiprocessing.util.Finalize(None, connections.close_all, exitpriority=10)


_INHERITED: list[Any] = []


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
        keep: Keep | None = None,
        store: Store | None = None,
    ) -> None:
        self.channel = channel
        self.own = frozenset(a.lower() for a in own)
        self.trusted = trusted
        self.keep = keep  # the workers write files; a group parsed in the caller does not
        self.broken = False
        self._pool: ProcessPoolExecutor | None = None
        self._started = False
        if size > 0:
            try:
                self._pool = ProcessPoolExecutor(
                    max_workers=size,
                    mp_context=_context(),
                    initializer=_worker_started,
                    initargs=(store is not None,),
                )
            except (OSError, ValueError) as exc:  # no /dev/shm, no forkserver on this OS
                log.warning("parsing email in this process: no pool (%r)", exc)
        # Workers that store: `submit` returns outcomes, not parses (`outcomes`).
        self.store = store if self._pool is not None else None

    def __enter__(self) -> Parser:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def submit(
        self,
        raws: Sequence[bytes],
        envelopes: Sequence[str | None],
        sources: Sequence[str] | None = None,
    ) -> Future[Any] | None:
        """Start parsing a group in the pool (None: it will be parsed by `result`), or,
        where the workers store, parsing and storing it (with the mails' `sources`)."""
        if self._pool is None or self.broken:
            return None
        if self.store is not None and not self._started:
            # The workers are forked at the first submission: not with the poller's
            # connection open, whose socket they would share.
            from django.db import connections

            connections.close_all()
        self._started = True
        try:
            if self.store is not None:
                return self._pool.submit(
                    store_group,
                    list(raws),
                    list(envelopes),
                    list(sources or [""] * len(raws)),
                    channel=self.channel,
                    own=self.own,
                    trusted=self.trusted,
                    keep=self.keep,
                    store=self.store,
                )
            return self._pool.submit(
                parse_group,
                list(raws),
                list(envelopes),
                channel=self.channel,
                own=self.own,
                trusted=self.trusted,
                keep=self.keep,
            )
        except (BrokenProcessPool, RuntimeError) as exc:
            self._broke(exc)
            return None

    def outcomes(
        self,
        futures: Sequence[Future[Any] | None],
        groups: Sequence[Sequence[tuple[bytes, str]]],
        channel: Any,
    ) -> list[list[Any]]:
        """The outcomes of groups submitted to workers that store, in order, once every one
        of them is done. A group whose worker died is parsed and stored here (what it had
        committed is found stored). If any group failed otherwise (a database error), the
        first error in order is raised, after the others finished: as `writing.results`."""
        from atiende.channels.email import intake

        out: list[list[Any]] = []
        errors: list[BaseException] = []
        for future, group in zip(futures, groups, strict=True):
            if future is not None:
                try:
                    out.append(future.result())
                    continue
                except BrokenProcessPool as exc:
                    self._broke(exc)
                except Exception as exc:
                    errors.append(exc)
                    out.append([])
                    continue
            raws = [raw for raw, _ in group]
            envelopes: list[str | None] = [None] * len(group)
            try:
                out.append(
                    intake.ingest_many(
                        channel,
                        list(group),
                        own=set(self.own),
                        parsed=self.result(None, raws, envelopes),
                    )
                )
            except Exception as exc:
                errors.append(exc)
                out.append([])
        if errors:
            raise errors[0]
        return out

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
