"""Plain messages that channel adapters produce and consume: no provider details here."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from atiende.cases.models import Case, Note


@dataclass(frozen=True)
class InboundAttachment:
    filename: str
    content: bytes
    content_type: str = ""
    inline: bool = False
    agents_only: bool = False  # kept from customers (e.g. a mail's original .eml)
    # The hash under which these bytes are already durable in the local attachment store
    # (an email parse worker wrote them: cases/blobs.py); "" when they are not.
    synced: str = ""


@dataclass
class InboundMessage:
    """One message from a customer, as an adapter understood it.

    `external_id` is the provider's id for the message (Message-ID, WhatsApp message id,
    CTI call id); with the channel it makes intake idempotent. Threading hints, strongest
    first: `case_number` (e.g. "[CS0000123]" in a subject), `in_reply_to` (provider ids of
    earlier messages, ours or theirs), and `join_open_case` (chat channels: the contact's
    most recent open case on this channel).
    """

    channel: str
    external_id: str
    body_text: str
    sender_email: str | None = None
    sender_phone: str | None = None
    sender_whatsapp: str | None = None
    # WhatsApp business-scoped user id (BSUID): the sender's key on WhatsApp, and the only
    # one when the user hides the number (`sender_whatsapp` is then None).
    sender_whatsapp_user: str | None = None
    sender_name: str = ""
    subject: str = ""
    body_html: str = ""
    attachments: list[InboundAttachment] = field(default_factory=list)
    case_number: str | None = None
    in_reply_to: list[str] = field(default_factory=list)
    join_open_case: bool = False
    type: str | None = None
    priority: str | None = None
    acknowledge: bool = True
    # Whether the provider vouches for the sender's identity. WhatsApp and phone numbers
    # are the provider's own; an email `From:` is whatever the sender wrote, unless a
    # trusted MTA says DMARC passed. An unauthenticated sender not known on the case
    # (`cases.selectors.known_on_case`) adds an unverified internal note.
    sender_authenticated: bool = True
    received_at: dt.datetime | None = None


@dataclass(frozen=True)
class IntakeContext:
    """What an adapter storing many messages at once already looked up for one of them,
    so that `receive_message` does not ask the database again. Performance only: the
    outcome is the same with or without it (docs/decisions/0005-intake-context.md).

    `looked_up`: the adapter found no note with this message's external id (the unique
    (channel, external id) still decides a race). `sender`: the sender's contact, when the
    adapter found or made one (a `customers.models.Contact`: the email poller makes a
    group's first-time senders together); None means "look it up".
    """

    looked_up: bool = False
    sender: object | None = None


NO_CONTEXT = IntakeContext()


@dataclass
class Received:
    case: Case
    note: Note
    new_case: bool
    duplicate: bool
    unverified: bool = False
