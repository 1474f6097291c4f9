"""Channel senders: each adapter (channels/<kind>/outbound.py) registers one for its kind.

The registry lives with the worker, whose delivery jobs call the senders, below the domain
apps: `cases` asks it whether a kind delivers without importing `channels` (imports run one
way), and the adapters register into it.

A sender sends one outbound note (to the case's customer) or one notification (to a
person about a case event) and returns the provider's message id, or raises
`atiende.worker.errors.DeliveryError` marked permanent or temporary.

The registry is the one list of kinds that deliver: `cases` asks `delivers(kind)` before it
queues a note's delivery, and the worker's jobs ask `for_kind(kind)` for the sender, so no
domain code names a channel kind. Tests use `recording(kind, ...)`, which puts a
`RecordingSender` (like Django's locmem mail backend) in place of the real senders.

Adapters register their sender by the dotted path of its class: it is imported and made
when a job first asks for it, so a process that starts (the worker, the email poller) does
not import every adapter's transport, httpx for WhatsApp (issue 17, process start).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Protocol

from django.utils.module_loading import import_string

from atiende.worker.errors import DeliveryError

# A case's note (cases.models.Note) and a notification (channels.models.Notification): the
# worker names no domain model.
Note = Any
Notification = Any


class Sender(Protocol):
    def send_note(self, note: Note) -> str | None: ...

    def send_notification(self, notification: Notification) -> str | None: ...


# A kind's sender, or the dotted path of its class until a job first asks for it.
_SENDERS: dict[str, Sender | str] = {}


def register(kind: str, sender: Sender | str) -> None:
    """Register `sender` for `kind`: an object, or the dotted path of a class that takes no
    arguments (imported and made on first use)."""
    _SENDERS[kind] = sender


def unregister(kind: str) -> None:
    _SENDERS.pop(kind, None)


def for_kind(kind: str) -> Sender | None:
    sender = _SENDERS.get(kind)
    if isinstance(sender, str):
        sender = _SENDERS[kind] = import_string(sender)()
    return sender


def delivers(kind: str) -> bool:
    """Whether an answer on a channel of `kind` leaves through that channel (a sender is
    registered for it); on any other channel (the portal, the API) the customer reads it
    where they are."""
    return kind in _SENDERS


class RecordingSender:
    """A sender for tests: keeps what it is asked to send, in order, and sends nothing.
    Set `fail` to a DeliveryError to make every send raise it."""

    def __init__(self) -> None:
        self.notes: list[Note] = []
        self.notifications: list[Notification] = []
        self.fail: DeliveryError | None = None

    def send_note(self, note: Note) -> str | None:
        if self.fail is not None:
            raise self.fail
        self.notes.append(note)
        return f"recorded-note-{note.pk}"

    def send_notification(self, notification: Notification) -> str | None:
        if self.fail is not None:
            raise self.fail
        self.notifications.append(notification)
        return f"recorded-notification-{notification.pk}"


@contextmanager
def recording(*kinds: str) -> Iterator[RecordingSender]:
    """One RecordingSender registered for each of `kinds` while the block runs; the senders
    registered before are put back after it."""
    previous = {kind: _SENDERS.get(kind) for kind in kinds}
    sender = RecordingSender()
    for kind in kinds:
        _SENDERS[kind] = sender
    try:
        yield sender
    finally:
        for kind, old in previous.items():
            if old is None:
                _SENDERS.pop(kind, None)
            else:
                _SENDERS[kind] = old
