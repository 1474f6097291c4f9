"""The IMAP poller: fetch new mail, store it, and only then dispose of it on the server.

Per folder we remember (UIDVALIDITY, last UID). Messages are read with BODY.PEEK[] (no
\\Seen), stored by `intake.ingest_many` (TX_GROUP to a transaction), and after a chunk is
committed it is moved to the processed folder (UID MOVE; COPY + \\Deleted + UID EXPUNGE
where MOVE is missing) or flagged \\Seen. A crash at any point leaves uncommitted messages on the server
and committed ones recognised as duplicates on the next pass: nothing lost, nothing doubled.
A long pass parses the next chunks' groups in a process pool while it stores
(`parallel.py`, decision 0007), and on PostgreSQL stores two groups at once on two
connections (`writing.py`, decision 0010); only parsing and storing moved: chunks still
leave the folder, and the last UID still advances, in the order they were fetched.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections import deque
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any

from django.db import DatabaseError, close_old_connections

from atiende.channels.email import conf, intake, parallel, writing
from atiende.channels.email.models import MailboxState
from atiende.core import clock
from atiende.directory.models import Channel

log = logging.getLogger(__name__)

CHUNK = 50
TX_GROUP = 25  # messages per transaction; short enough not to hold SQLite's write lock long
LOOKAHEAD = 2  # chunks fetched and being parsed while one is stored
IDLE_MAX_SECONDS = 29 * 60  # RFC 2177: re-issue IDLE before servers drop idle clients


@dataclass
class PollResult:
    fetched: int = 0
    stored: int = 0
    duplicate: int = 0
    bounce: int = 0
    quarantined: int = 0

    def add(self, status: str) -> None:
        self.fetched += 1
        setattr(self, status, getattr(self, status) + 1)


def connect(url: conf.MailURL):
    """A logged-in IMAPClient. TLS (implicit or STARTTLS) always verifies the certificate
    and the host name, against `?ca=` / ATIENDE_EMAIL_CA_FILE when set."""
    from imapclient import IMAPClient

    context = url.ssl_context() if url.ssl or url.starttls else None
    client = IMAPClient(
        url.host, port=url.port, ssl=url.ssl, ssl_context=context if url.ssl else None, timeout=60
    )
    try:
        if url.starttls:
            client.starttls(context)
        if url.auth == "xoauth2":
            client.oauth2_login(url.user, url.token())
        elif url.user:
            client.login(url.user, url.password)
    except BaseException:
        with contextlib.suppress(Exception):
            client.shutdown()
        raise
    return client


def _dispose(client, uids: list[int], url: conf.MailURL, mode: str) -> None:
    """Take committed messages out of the way. Runs only after their database commit."""
    if not uids:
        return
    if mode == "seen":
        client.add_flags(uids, [b"\\Seen"], silent=True)
        return
    if mode == "delete":
        client.delete_messages(uids, silent=True)
    else:
        if client.has_capability("MOVE"):
            client.move(uids, url.processed_folder)
            return
        client.copy(uids, url.processed_folder)
        client.delete_messages(uids, silent=True)
    if client.has_capability("UIDPLUS"):
        client.uid_expunge(uids)
    else:
        client.expunge()


@dataclass
class _Chunk:
    """One fetch: its messages (UID, raw), in transaction groups, each being parsed (or
    parsed and stored, by workers that store: `parallel.stores`)."""

    uids: list[int]
    groups: list[list[tuple[bytes, str]]]
    parsing: list[Future[Any] | None]


def _fetch(
    client, uids: list[int], url: conf.MailURL, uidvalidity: int, parser: parallel.Parser
) -> _Chunk:
    fetched = client.fetch(uids, ["BODY.PEEK[]"])
    items = [(uid, fetched[uid][b"BODY[]"]) for uid in uids if b"BODY[]" in fetched.get(uid, {})]
    groups = [
        [(raw, f"imap:{url.folder}:{uidvalidity}:{uid}") for uid, raw in items[i : i + TX_GROUP]]
        for i in range(0, len(items), TX_GROUP)
    ]
    no_envelopes = [None] * TX_GROUP
    parsing = [
        parser.submit([raw for raw, _ in g], no_envelopes[: len(g)], [src for _, src in g])
        for g in groups
    ]
    return _Chunk([uid for uid, _ in items], groups, parsing)


@dataclass
class _Pass:
    """What storing a pass's chunks needs, and the chunks being stored, oldest first."""

    channel: Channel
    parser: parallel.Parser
    own: set[str]
    result: PollResult
    client: Any
    url: conf.MailURL
    mode: str
    state: MailboxState
    writers: writing.Writers | None
    storing: deque[tuple[_Chunk, list[Future[list[intake.Outcome]]] | None]] = field(
        default_factory=deque
    )

    def store(self, chunk: _Chunk) -> None:
        """Store a fetched chunk, group by group (a transaction each): here, or handed to
        the writers, which store its groups while this thread finishes the chunk before
        (`finish`) and fetches the next ones; or nothing to do here, where the pool's
        workers store what they parse (None). Chunks are finished in the order fetched."""
        work = zip(chunk.groups, chunk.parsing, strict=True)
        stored: list[Future[list[intake.Outcome]]] | None
        if self.parser.store is not None:
            stored = None
        elif self.writers is None:
            stored = [writing.done(self._group(group, parsing)) for group, parsing in work]
        else:
            stored = [self.writers.submit(self._group, group, parsing) for group, parsing in work]
        self.storing.append((chunk, stored))
        behind = self.writers is not None or self.parser.store is not None
        while len(self.storing) > (1 if behind else 0):
            self.finish()

    def _group(self, group: list[tuple[bytes, str]], parsing) -> list[intake.Outcome]:
        raws = [raw for raw, _ in group]
        parsed = self.parser.result(parsing, raws, [None] * len(group))
        return intake.ingest_many(self.channel, group, own=self.own, parsed=parsed)

    def finish(self) -> None:
        """The oldest chunk being stored, once every one of its groups committed: counted,
        then taken out of the folder, and its last UID remembered. An error in a group is
        raised here, and that chunk, and the ones after it, stay on the server."""
        chunk, stored = self.storing.popleft()
        if stored is None:
            done_groups = self.parser.outcomes(chunk.parsing, chunk.groups, self.channel)
        else:
            done_groups = writing.results(stored)
        for outcomes in done_groups:
            for outcome in outcomes:
                self.result.add(outcome.status)
        done = chunk.uids
        _dispose(self.client, done, self.url, self.mode)
        if done:
            MailboxState.objects.filter(pk=self.state.pk).update(last_uid=max(done))
            self.state.last_uid = max(done)


def poll_once(channel: Channel, *, limit: int | None = None, chunk: int = CHUNK) -> PollResult:
    """One pass over the channel's folder. Database errors propagate (nothing is disposed)."""
    url = conf.url_for(channel, "imap")
    result = PollResult()
    if url is None:
        return result
    conf.warn_if_cleartext(url, who=f"email poller {channel.slug}")
    mode = (channel.settings or {}).get("imap_after", "move")
    own = intake.own_addresses()
    client = connect(url)
    try:
        info = client.select_folder(url.folder)
        uidvalidity = int(info[b"UIDVALIDITY"])
        state, _ = MailboxState.objects.get_or_create(channel=channel, folder=url.folder)
        if state.uidvalidity != uidvalidity:
            # Every UID we remembered is void; dedupe by Message-ID/content covers the rescan.
            state.uidvalidity, state.last_uid = uidvalidity, 0
            state.save(update_fields=["uidvalidity", "last_uid"])
        criteria = ["UID", f"{state.last_uid + 1}:*"] + (["UNSEEN"] if mode == "seen" else [])
        # "n:*" always includes the highest UID even when it is below n: filter here.
        uids = sorted(u for u in client.search(criteria) if u > state.last_uid)
        if limit is not None:
            uids = uids[:limit]
        if uids and mode == "move" and not client.folder_exists(url.processed_folder):
            client.create_folder(url.processed_folder)
        stores = parallel.stores(len(uids))  # the pool's workers store (PostgreSQL, 0015)
        size = parallel.workers(storing=stores) if len(uids) >= parallel.MIN_MESSAGES else 0
        trusted = intake.trusted_mtas(channel)
        with (
            parallel.Parser(
                channel=channel.slug,
                own=own,
                trusted=trusted,
                size=size,
                keep=intake.keep(),
                store=parallel.Store(channel.pk) if stores else None,
            ) as parser,
            writing.writers(0 if parser.store is not None else len(uids)) as writers,
        ):
            work = _Pass(channel, parser, own, result, client, url, mode, state, writers)
            # Fetch and start parsing up to LOOKAHEAD chunks ahead of the one being stored.
            pending: deque[_Chunk] = deque()
            for start in range(0, len(uids), chunk):
                pending.append(
                    _fetch(client, uids[start : start + chunk], url, uidvalidity, parser)
                )
                if len(pending) > LOOKAHEAD:
                    work.store(pending.popleft())
            while pending:
                work.store(pending.popleft())
            while work.storing:
                work.finish()
        MailboxState.objects.filter(pk=state.pk).update(last_poll_at=clock.now(), last_error="")
    finally:
        with contextlib.suppress(Exception):
            client.logout()
    return result


def poll_all() -> dict[str, PollResult | str]:
    """Poll every active email channel that has an IMAP URL; one failing mailbox does not
    stop the others (its error is kept on its state row)."""
    results: dict[str, PollResult | str] = {}
    for channel in Channel.objects.filter(kind="email", active=True):
        try:
            if conf.url_for(channel, "imap") is None:
                continue
            results[channel.slug] = poll_once(channel, limit=2000)
        except Exception as exc:
            log.exception("polling %s failed", channel.slug)
            results[channel.slug] = f"{type(exc).__name__}: {exc}"
            with contextlib.suppress(DatabaseError):
                MailboxState.objects.filter(channel=channel).update(last_error=str(exc)[:4000])
    return results


def wait_for_mail(channel: Channel, *, timeout: float, stop: threading.Event) -> None:
    """Block until the server says new mail arrived (IDLE), or `timeout` passes."""
    url = conf.url_for(channel, "imap")
    if url is None:
        stop.wait(timeout)
        return
    client = connect(url)
    try:
        client.select_folder(url.folder, readonly=True)
        if not client.has_capability("IDLE"):
            stop.wait(timeout)
            return
        client.idle()
        deadline = time.monotonic() + min(timeout, IDLE_MAX_SECONDS)
        try:
            while not stop.is_set() and time.monotonic() < deadline:
                if any(
                    r[1] in (b"EXISTS", b"RECENT")
                    for r in client.idle_check(timeout=1)
                    if len(r) > 1
                ):
                    break
        finally:
            client.idle_done()
    finally:
        with contextlib.suppress(Exception):
            client.logout()


def watch(channel: Channel, *, stop: threading.Event, idle_seconds: float = 300) -> None:
    """Poll, then wait with IDLE (a poll every `idle_seconds` at least), with back-off on errors."""
    delay = 1.0
    while not stop.is_set():
        try:
            close_old_connections()
            poll_once(channel)
            delay = 1.0
            wait_for_mail(channel, timeout=idle_seconds, stop=stop)
        except Exception:
            log.exception("mailbox %s: will retry in %.0f s", channel.slug, delay)
            stop.wait(delay)
            delay = min(delay * 2, 300)
