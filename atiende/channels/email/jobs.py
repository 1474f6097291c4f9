"""Worker tasks of the email channel: the IMAP poll, every minute, on one worker at a time;
the mail spool of the MTA pipe, every second, in every worker (`spooled.py`)."""

from __future__ import annotations

from atiende.worker.registry import local, periodic


@periodic("email.poll", every=60)
def poll_mailboxes() -> None:
    from atiende.channels.email import imap

    imap.poll_all()


@local("email.spool", every=1.0)
def drain_spool() -> None:
    from atiende.channels.email import spooled

    spooled.drain()
