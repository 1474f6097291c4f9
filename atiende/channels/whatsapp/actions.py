"""What both guided flows do: say things (through the outbox), store a message through the
one door (with its media download), find a case the sender may ask about, and request an
escalation. Texts come from `options.TEXTS`, overridden per channel by `text_<key>`."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from django.db import transaction

from atiende.cases import selectors as case_selectors
from atiende.channels import services as door
from atiende.channels.messages import InboundMessage, IntakeContext, Received
from atiende.channels.whatsapp import payloads
from atiende.channels.whatsapp import selectors as reads
from atiende.channels.whatsapp.inbound import WaMessage
from atiende.channels.whatsapp.options import TEXTS
from atiende.core import text as core_text
from atiende.customers import selectors as customer_selectors
from atiende.directory.models import Channel
from atiende.worker import queue

if TYPE_CHECKING:
    from atiende.cases.models import Case
    from atiende.customers.models import Contact

log = logging.getLogger(__name__)


def text(ch: Channel, key: str, /, **values: object) -> str:
    """A flow's text: the channel's own wording (setting `text_<key>`), else the default."""
    custom = (ch.settings or {}).get(f"text_{key}")
    return core_text.text(key, custom=custom, defaults=TEXTS, **values)


# -- sending (through the outbox: a job per message) ---------------------------------------


def send(channel: Channel, to: str, payload: dict[str, Any]) -> None:
    if not to:
        # The user hides the number (BSUID only) and the Cloud API reference we follow
        # says nothing of addressing a message by BSUID: the prompt is not sent (the case
        # still records everything; see docs/whatsapp.md, "Users who hide their number").
        log.info("whatsapp: flow message on %s not sent: the user hides the number", channel.slug)
        return
    queue.enqueue(
        "whatsapp.send",
        {"channel_id": channel.pk, "to": to, "payload": payload},
        ordering_key=f"whatsapp:{channel.pk}:{to}",  # one conversation's prompts in order
        retry_for=queue.DELIVERY_RETRY,  # through an outage of the Graph API
    )


def say(channel: Channel, to: str, body: str) -> None:
    send(channel, to, payloads.text(body))


def buttons(channel: Channel, to: str, body: str, options: list[tuple[str, str]]) -> None:
    send(channel, to, payloads.buttons(body, options))


def menu(channel: Channel, to: str, name: str) -> None:
    greeting = text(channel, "menu", name=f" {name}" if name else "", channel=channel.name)
    send(channel, to, payloads.menu(greeting, text(channel, "menu_button")))


# -- storing -------------------------------------------------------------------------------


def contact_of(m: WaMessage) -> Contact | None:
    return customer_selectors.whatsapp_contact(
        wa_id=m.wa_id or None, user_id=m.user_id, by_phone=True
    )


def inbound_message(channel: Channel, m: WaMessage, **kw: Any) -> InboundMessage:
    return InboundMessage(
        channel=channel.slug,
        external_id=kw.pop("external_id", None) or m.id,
        body_text=kw.pop("body", None) or m.text or "(mensaje vacío)",
        sender_whatsapp=m.wa_id or None,
        sender_whatsapp_user=m.user_id,
        sender_name=m.name,
        in_reply_to=[x for x in (m.context_id, m.reaction_to) if x],
        received_at=m.sent_at,
        **kw,
    )


_NEW = IntakeContext(looked_up=True)


def store(channel: Channel, m: WaMessage, **kw: Any) -> Received:
    """The one door, and the media download for what it stored (through the media job).

    A message gets here only after `flows.handle` recorded its id as new on the channel
    (`ProcessedMessage`), so the door is told not to look for a note with it first; the
    unique (channel, external id) of notes still decides (`IntakeContext`)."""
    received = door.receive_message(inbound_message(channel, m, **kw), context=_NEW)
    if m.media and m.media.id and not received.duplicate:
        queue.enqueue(
            "whatsapp.media",
            {
                "note_id": received.note.pk,
                "channel_id": channel.pk,
                "media_id": m.media.id,
                "filename": m.media.filename,
                "mime_type": m.media.mime_type,
                "type": m.type,
            },
        )
    return received


def store_all(channel: Channel, messages: list[WaMessage], **first: Any) -> Received | None:
    """Store messages in order on one case: the first as `first` says (opening a case or
    joining one), the others as notes on the case it landed on."""
    received = None
    for m in messages:
        if received is None:
            received = store(channel, m, **first)
        else:
            store(channel, m, case_number=received.case.number)
    return received


# -- cases the sender asks about -----------------------------------------------------------


def find_case_for(m: WaMessage, number: str) -> Case | None:
    """Only a case of the contact's organization (or, without one, their own)."""
    contact = contact_of(m)
    if contact is None:
        return None
    case = reads.case_by_number(number)
    if case is None:
        return None
    return case if case_selectors.contact_may_see(contact, case) else None


def escalate(channel: Channel, to: str, m: WaMessage, number: str) -> None:
    """The customer's escalation button: the escalation service decides. On success it
    writes the customer a public note itself (delivered here through the outbox); a
    refusal is answered with its Spanish reason."""
    case = find_case_for(m, number)
    if case is None:
        say(channel, to, text(channel, "not_found", number=number))
        return
    try:
        from atiende.escalations.services import request_escalation
    except ImportError:  # an installation without the escalation ladder
        store(
            channel,
            m,
            case_number=case.number,
            body="El cliente solicitó el escalamiento del caso por WhatsApp.",
        )
        say(channel, to, text(channel, "escalate_unavailable", number=case.number))
        return
    from atiende.core.errors import DomainError

    try:
        with transaction.atomic():
            request_escalation(
                case=case,
                actor=None,
                via="whatsapp",
                contact=contact_of(m),
                reason="Solicitado por el cliente por WhatsApp.",
            )
    except DomainError as exc:
        say(channel, to, text(channel, "escalate_refused", number=case.number, reason=str(exc)))
