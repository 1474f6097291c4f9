"""A case's statuses and the groups the rest of the code asks about — the one place.

The transition table (`transitions.py`) says which moves are allowed; this module says what
each status is. Code outside `cases` asks these groups (`status in statuses.FINISHED`), never
lists status strings itself.
"""

from __future__ import annotations

from django.db import models

from atiende.sla.phases import Phase


class Status(models.TextChoices):
    NEW = "new", "Nuevo"
    OPEN = "open", "Abierto"
    AWAITING_INFO = "awaiting_info", "En espera de información"
    RESOLVED = "resolved", "Resuelto"
    CLOSED = "closed", "Cerrado"
    CANCELLED = "cancelled", "Cancelado"


# Being worked on: the desk owes the customer something.
ACTIVE = frozenset({Status.NEW, Status.OPEN, Status.AWAITING_INFO})
# Nothing moves the case any more: no notes, attachments, changes or escalations; a message
# about it starts a new case.
FINISHED = frozenset({Status.CLOSED, Status.CANCELLED})
# Done for the customer: resolved (it may still be reopened) or finished. A channel does not
# join a new message to such a case, nor offer to escalate it.
DONE = frozenset({Status.RESOLVED}) | FINISHED
# The SLA clock is paused: waiting for the customer, or resolved.
PAUSED = frozenset({Status.AWAITING_INFO, Status.RESOLVED})

LABELS_ES: dict[str, str] = {s.value: s.label for s in Status}

_PHASES = {
    Status.NEW: Phase.RUNNING,
    Status.OPEN: Phase.RUNNING,
    Status.AWAITING_INFO: Phase.WAITING,
    Status.RESOLVED: Phase.MET,
    Status.CLOSED: Phase.STOPPED,
    Status.CANCELLED: Phase.STOPPED,
}


def sla_phase(status: str) -> Phase:
    """What `status` means for the case's SLA clock."""
    return _PHASES[Status(status)]


def label(status: str) -> str:
    """The Spanish name of `status` (the value itself if it is not one)."""
    return LABELS_ES.get(status, status)


def is_reopening(old: str, new: str) -> bool:
    return old == Status.RESOLVED and new == Status.OPEN
