"""Worker tasks of the email channel: the IMAP poll, every minute, on one worker at a time."""

from __future__ import annotations

from atiende.worker.registry import periodic


@periodic("email.poll", every=60)
def poll_mailboxes() -> None:
    from atiende.channels.email import imap

    imap.poll_all()
