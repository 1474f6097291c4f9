"""Channel senders: each adapter (channels/<kind>/outbound.py) registers one for its kind.

A sender sends one outbound note (to the case's customer) or one notification (to a
person about a case event) and returns the provider's message id, or raises
`atiende.worker.errors.DeliveryError` marked permanent or temporary.
"""

from __future__ import annotations

from typing import Protocol

from atiende.cases.models import Note
from atiende.channels.models import Notification


class Sender(Protocol):
    def send_note(self, note: Note) -> str | None: ...

    def send_notification(self, notification: Notification) -> str | None: ...


_SENDERS: dict[str, Sender] = {}


def register(kind: str, sender: Sender) -> None:
    _SENDERS[kind] = sender


def unregister(kind: str) -> None:
    _SENDERS.pop(kind, None)


def for_kind(kind: str) -> Sender | None:
    return _SENDERS.get(kind)
