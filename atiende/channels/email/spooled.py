"""Storing what the MTA pipe spooled: the worker's local task `email.spool`.

Every worker process, about once a second, claims the waiting files of each channel's
spool directory (`spool.claim`: a rename, so several workers on several machines take
disjoint files) and hands the messages to the same intake as the IMAP poller, 25 to a
transaction (`intake.ingest_many`: exactly once by Message-ID and content, quarantine for
what cannot be stored, a failing group stored again one by one). A file is deleted only
after the transaction that stored its message (or its quarantine) committed; a worker that dies between the two leaves the file, which is taken
again and found already stored. A database error leaves the file claimed, to be tried
again on the next round.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

from django.db import DatabaseError, connection

from atiende.channels.email import intake, spool
from atiende.core.errors import NotFound
from atiende.directory.models import Channel

log = logging.getLogger(__name__)

SOURCE = "ingest-email"
GROUP = 25  # mails to a transaction, as the IMAP poller stores them
_unknown_warned: set[str] = set()


@dataclass
class Drained:
    outcomes: dict[str, int] = field(default_factory=dict)  # status -> messages
    left: int = 0  # claimed files kept for the next round (database errors)

    @property
    def stored(self) -> int:
        return sum(self.outcomes.values())


def drain(
    *,
    base: Path | None = None,
    limit: int = 500,
    owner: str | None = None,
    lease_seconds: float = spool.LEASE_SECONDS,
) -> Drained:
    """One round over every channel's spool directory (none while a backup copies the
    spool: `spool.frozen`)."""
    result = Drained()
    with spool.round_lock(base) as ours:
        if ours:
            _drain(result, base=base, limit=limit, owner=owner, lease_seconds=lease_seconds)
    return result


def _drain(
    result: Drained, *, base: Path | None, limit: int, owner: str | None, lease_seconds: float
) -> None:
    for slug in spool.channels(base):
        try:
            channel = intake.channel_for(slug)
        except NotFound:  # kept until the channel is configured, or removed by hand
            if slug not in _unknown_warned:
                log.warning("the mail spool holds messages for %r, which is no email channel", slug)
                _unknown_warned.add(slug)
            continue
        _unknown_warned.discard(slug)
        claimed = spool.claim(
            slug, limit=limit, owner=owner, base=base, lease_seconds=lease_seconds
        )
        if claimed:
            own = intake.own_addresses()
            for at in range(0, len(claimed), GROUP):
                _store_group(channel, claimed[at : at + GROUP], own, result)


def _store_group(channel: Channel, paths: list[Path], own: set[str], result: Drained) -> None:
    """Some claimed files in one transaction (`intake.ingest_many`, as the IMAP poller
    stores a chunk), then their deletion."""
    messages = []
    for path in paths:
        try:
            messages.append(spool.read(path))
        except FileNotFoundError:  # another worker took it over after our lease (see spool)
            continue
    if not messages:
        return
    assert not connection.in_atomic_block, "the spool is stored outside any transaction"
    try:
        outcomes = intake.ingest_many(
            channel,
            [(m.raw, SOURCE) for m in messages],
            own=own,
            senders=[m.sender for m in messages],
        )
    except DatabaseError:  # database down or locked: the files wait for the next round
        log.warning("%d spooled mails not stored yet: database error", len(messages), exc_info=True)
        result.left += len(messages)
        return
    # ingest_many committed (it ran outside any transaction): only now the files may go.
    spool.done([m.path for m in messages])
    for outcome in outcomes:
        result.outcomes[outcome.status] = result.outcomes.get(outcome.status, 0) + 1
