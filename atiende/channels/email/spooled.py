"""Storing what the MTA pipe spooled: the worker's local task `email.spool`.

Every worker process, about once a second, claims the waiting files of each channel's
spool directory (`spool.claim`: a rename, so several workers on several machines take
disjoint files) and hands each message to the same intake as the IMAP poller
(`intake.ingest`: exactly once by Message-ID and content, quarantine for what cannot be
stored). A file is deleted only after the transaction that stored its message (or its
quarantine) committed; a worker that dies between the two leaves the file, which is taken
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
    """One round over every channel's spool directory."""
    result = Drained()
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
            for path in claimed:
                _store_one(channel, path, own, result)
    return result


def _store_one(channel: Channel, path: Path, own: set[str], result: Drained) -> None:
    try:
        message = spool.read(path)
    except FileNotFoundError:  # another worker took it over after our lease (see spool)
        return
    assert not connection.in_atomic_block, "the spool is stored outside any transaction"
    try:
        outcome = intake.ingest(
            message.raw,
            channel=channel,
            source=SOURCE,
            envelope_sender=message.sender,
            own=own,
        )
    except DatabaseError:  # database down or locked: the file waits for the next round
        log.warning("spooled mail %s not stored yet: database error", path.name, exc_info=True)
        result.left += 1
        return
    except Exception as exc:  # a bug on one message must not hold the spool back
        log.exception("spooled mail %s could not be stored; quarantined", path.name)
        try:
            outcome = intake.quarantine(
                channel, message.raw, f"Error inesperado: {exc!r}", source=SOURCE
            )
        except DatabaseError:
            result.left += 1
            return
    # intake committed (it ran outside any transaction): only now the file may go.
    spool.done(path)
    result.outcomes[outcome.status] = result.outcomes.get(outcome.status, 0) + 1
