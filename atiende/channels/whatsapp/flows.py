"""Guided conversations on the two WhatsApp lines, in Spanish, with editable texts.

Monitoring line (attends critical incidents only): the first message opens a critical
incident at once — the acknowledgement with the case number goes out and the level-1
group and the monitoring on-call are paged immediately — then the flow asks for the
organization (when the number is unknown), the affected service and what is happening;
every answer is a note on that case.

Corporate line: a contact with an open case on the line simply talks on it. Otherwise a
menu: new request, report an incident, status of my case (answered only for cases of the
contact's own organization; anything else gets the same "not found"), talk to an agent.

Texts: every prompt has a key in `options.TEXTS`; a channel overrides it with the setting
`text_<key>` (the configuration loader refuses unknown keys and placeholders).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from django.db import IntegrityError, transaction

from atiende.cases import acknowledgements
from atiende.channels import services as door
from atiende.channels.messages import InboundMessage, Received
from atiende.channels.models import Channel
from atiende.channels.whatsapp import selectors as reads
from atiende.channels.whatsapp.inbound import WaMessage
from atiende.channels.whatsapp.models import Conversation, ProcessedMessage
from atiende.channels.whatsapp.options import TEXTS, split_list
from atiende.core import clock
from atiende.customers import selectors as customer_selectors
from atiende.sla.schedules import calendar
from atiende.worker import queue

if TYPE_CHECKING:
    from atiende.cases.models import Case
    from atiende.customers.models import Contact

log = logging.getLogger(__name__)

MENU = [
    ("menu:solicitud", "Nueva solicitud", "Requerimientos y cambios"),
    ("menu:incidente", "Reportar un incidente", "Fallas del servicio"),
    ("menu:estado", "Estado de mi caso", "Consultar con el número"),
    ("menu:agente", "Hablar con un agente", "Atención personalizada"),
]
MENU_WORDS = {"menu", "menú", "inicio", "opciones", "hola"}
STATUS_ES = {
    "new": "Nuevo",
    "open": "Abierto",
    "awaiting_info": "En espera de información",
    "resolved": "Resuelto",
    "closed": "Cerrado",
    "cancelled": "Cancelado",
}


def text(ch: Channel, key: str, /, **values: object) -> str:
    template = (ch.settings or {}).get(f"text_{key}") or TEXTS[key]
    for k, v in values.items():
        template = template.replace("{" + k + "}", str(v))
    return template


def is_monitoring(channel: Channel) -> bool:
    flow = (channel.settings or {}).get("flow")
    if flow:
        return flow == "monitoring"
    return channel.attends_request("incident", "critical") and not channel.attends_request(
        "request", "moderate"
    )


# -- sending (through the outbox: a job per message) ---------------------------------------


def _send(channel: Channel, to: str, payload: dict) -> None:
    if not to:
        # The user hides the number (BSUID only) and the Cloud API reference we follow
        # says nothing of addressing a message by BSUID: the prompt is not sent (the case
        # still records everything; see docs/whatsapp.md, "Users who hide their number").
        log.info("whatsapp: flow message on %s not sent: the user hides the number", channel.slug)
        return
    queue.enqueue("whatsapp.send", {"channel_id": channel.pk, "to": to, "payload": payload})


def say(channel: Channel, to: str, body: str) -> None:
    _send(channel, to, {"type": "text", "text": {"body": body[:4096], "preview_url": False}})


def buttons(channel: Channel, to: str, body: str, options: list[tuple[str, str]]) -> None:
    _send(
        channel,
        to,
        {
            "type": "interactive",
            "interactive": {
                "type": "button",
                "body": {"text": body[:1024]},
                "action": {
                    "buttons": [
                        {"type": "reply", "reply": {"id": i, "title": t[:20]}}
                        for i, t in options[:3]
                    ]
                },
            },
        },
    )


def menu(channel: Channel, to: str, name: str) -> None:
    _send(
        channel,
        to,
        {
            "type": "interactive",
            "interactive": {
                "type": "list",
                "body": {
                    "text": text(
                        channel, "menu", name=f" {name}" if name else "", channel=channel.name
                    )[:1024]
                },
                "action": {
                    "button": text(channel, "menu_button")[:20],
                    "sections": [
                        {
                            "title": "Opciones",
                            "rows": [
                                {"id": i, "title": t[:24], "description": d[:72]}
                                for i, t, d in MENU
                            ],
                        }
                    ],
                },
            },
        },
    )


# -- entry point ---------------------------------------------------------------------------


def handle(channel: Channel, m: WaMessage) -> None:
    """Handle one inbound message exactly once (a redelivery is a no-op)."""
    now = clock.now()
    with transaction.atomic():
        try:
            with transaction.atomic():
                ProcessedMessage.objects.create(channel=channel, message_id=m.id, received_at=now)
        except IntegrityError:
            return
        if not (m.wa_id or m.user_id):
            log.warning("whatsapp: message %s on %s has no sender; ignored", m.id, channel.slug)
            return
        conv = _conversation(channel, m, now)
        if conv.last_inbound_at is None or m.sent_at > conv.last_inbound_at:
            conv.last_inbound_at, conv.last_inbound_id = m.sent_at, m.id
        if m.type != "reaction":
            queue.enqueue(
                "whatsapp.mark_read", {"channel_id": channel.pk, "message_id": m.id}, max_attempts=3
            )
        if is_monitoring(channel):
            _monitoring(channel, conv, m)
        else:
            _corporate(channel, conv, m)
        conv.updated_at = now
        conv.save()


def _find_conversation(channel: Channel, m: WaMessage) -> Conversation | None:
    """The BSUID decides when the message has one; the number otherwise."""
    found = None
    if m.user_id:
        found = Conversation.objects.filter(channel=channel, user_id=m.user_id).first()
    if found is None and m.wa_id:
        found = Conversation.objects.filter(channel=channel, wa_id=m.wa_id).first()
    return found


def _conversation(channel: Channel, m: WaMessage, now) -> Conversation:
    """The locked conversation of the sender, created on the first message; an id it
    learns later (the BSUID of a user first seen by number, or the reverse) is kept."""
    conv = _find_conversation(channel, m)
    if conv is None:
        try:
            with transaction.atomic():
                conv = Conversation.objects.create(
                    channel=channel, wa_id=m.wa_id, user_id=m.user_id or "", updated_at=now
                )
        except IntegrityError:  # created concurrently
            conv = _find_conversation(channel, m)
    assert conv is not None
    conv = Conversation.objects.select_for_update().get(pk=conv.pk)
    if m.user_id and not conv.user_id:
        conv.user_id = m.user_id
    if m.wa_id and not conv.wa_id:
        other = (
            Conversation.objects.select_for_update()
            .filter(channel=channel, wa_id=m.wa_id)
            .exclude(pk=conv.pk)
            .first()
        )
        if other is None:
            conv.wa_id = m.wa_id
        elif not other.user_id:
            conv = _merge(into=other, gone=conv)
    return conv


def _merge(*, into: Conversation, gone: Conversation) -> Conversation:
    """The user wrote by number, then hid it (a second conversation, by BSUID), and now a
    message carries both: one conversation, the one with the number (it can be answered),
    with the latest window and the flow step of the latest message."""
    into.user_id = gone.user_id
    if gone.last_inbound_at and (
        into.last_inbound_at is None or gone.last_inbound_at > into.last_inbound_at
    ):
        into.last_inbound_at, into.last_inbound_id = gone.last_inbound_at, gone.last_inbound_id
        into.state = gone.state
    gone.delete()
    return into


def _contact(m: WaMessage) -> Contact | None:
    return customer_selectors.whatsapp_contact(
        wa_id=m.wa_id or None, user_id=m.user_id, by_phone=True
    )


def _inbound(channel: Channel, m: WaMessage, **kw) -> InboundMessage:
    return InboundMessage(
        channel=channel.slug,
        external_id=m.id,
        body_text=kw.pop("body", None) or m.text or "(mensaje vacío)",
        sender_whatsapp=m.wa_id or None,
        sender_whatsapp_user=m.user_id,
        sender_name=m.name,
        in_reply_to=[x for x in (m.context_id, m.reaction_to) if x],
        received_at=m.sent_at,
        **kw,
    )


def store(channel: Channel, m: WaMessage, **kw) -> Received:
    """The one door, and the media download for what it stored."""
    received = door.receive_message(_inbound(channel, m, **kw))
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


# -- monitoring line -----------------------------------------------------------------------


def _monitoring(channel: Channel, conv: Conversation, m: WaMessage) -> None:
    if m.reply_id and m.reply_id.startswith("escalar:"):
        escalate(channel, conv.wa_id, m, m.reply_id.split(":", 1)[1])
        return
    r = store(channel, m, join_open_case=True, type="incident", priority="critical")
    case = r.case
    state = conv.state or {}
    if r.new_case:
        page(channel, case)
        if not conv.wa_id:
            return  # the user hides the number: no interview we could send (see `_send`)
        contact = case.requester
        steps = (["org"] if contact is None or contact.organization_id is None else []) + [
            "service",
            "what",
        ]
        conv.state = {"flow": "incident", "case": case.number, "steps": steps}
        say(channel, conv.wa_id, text(channel, f"incident_{steps[0]}"))
    elif state.get("flow") == "incident" and state.get("case") == case.number and not r.duplicate:
        steps = list(state.get("steps") or [])[1:]
        if steps:
            conv.state = state | {"steps": steps}
            say(channel, conv.wa_id, text(channel, f"incident_{steps[0]}"))
        else:
            conv.state = {}
            buttons(
                channel,
                conv.wa_id,
                text(channel, "incident_done", number=case.number),
                [(f"escalar:{case.number}", text(channel, "escalate_button"))],
            )


def page(channel: Channel, case: Case) -> None:
    """Page the level-1 group and the monitoring on-call: WhatsApp (template) where they
    have a number, email for the rest; through the "notify" job."""
    recipients: list[dict[str, str]] = []
    seen: set[tuple[str, str]] = set()
    template = (channel.settings or {}).get("template_page") or "pagina_incidente_critico"

    def add(kind: str, address: str, name: str = "") -> None:
        address = address.strip()
        if kind == "whatsapp":
            address = "".join(ch for ch in address if ch.isdigit())
            if len(address) == 10:  # a Colombian mobile written the local way
                address = "57" + address
        if address and (kind, address) not in seen:
            seen.add((kind, address))
            recipients.append(
                {"kind": kind, "address": address, "name": name}
                | ({"template": template} if kind == "whatsapp" else {})
            )

    level = reads.first_level()
    if level is not None:
        for c in level.contacts or []:
            if c.get("kind") in ("whatsapp", "email"):
                add(c["kind"], str(c.get("value", "")), c.get("label", ""))
        for user in reads.active_members(level):
            add("email", user.email, user.name)
    settings = channel.settings or {}
    for number in split_list(settings.get("oncall_whatsapp")):
        add("whatsapp", number)
    for address in split_list(settings.get("oncall_email")):
        add("email", address)
    if not recipients:
        log.warning("whatsapp: nobody to page for %s", case.number)
        return
    who = case.requester.name if case.requester else "un contacto"
    body = text(
        channel, "page", number=case.number, channel=channel.name, who=who, subject=case.subject
    )
    queue.enqueue(
        "notify",
        {
            "case_id": case.pk,
            "event": "incident.page",
            "subject": f"Incidente crítico {case.number}",
            "body": body,
            "recipients": recipients,
        },
    )


# -- corporate line ------------------------------------------------------------------------


def _corporate(channel: Channel, conv: Conversation, m: WaMessage) -> None:
    if not conv.wa_id:
        # The user hides the number: a menu could not reach them, so every message goes
        # to their open case on the line (or opens one) for an agent.
        store(channel, m, join_open_case=True)
        return
    state = conv.state or {}
    choice = m.reply_id or ""
    words = (m.text or "").strip().lower().strip("¡!¿?.")
    if choice.startswith("escalar:"):
        escalate(channel, conv.wa_id, m, choice.split(":", 1)[1])
        return
    if choice.startswith("menu:"):
        _choose(channel, conv, m, choice, state)
        return
    flow = state.get("flow")
    if flow in ("await_request", "await_incident"):
        conv.state = {}
        _open(channel, conv, m, "incident" if flow == "await_incident" else "request")
        return
    if flow == "await_number":
        conv.state = {}
        _status(channel, conv.wa_id, m)
        return
    contact = _contact(m)
    has_open = contact is not None and reads.has_open_case(contact_id=contact.pk, channel=channel)
    if has_open and words not in MENU_WORDS:
        store(channel, m, join_open_case=True)
        return
    conv.state = {"flow": "menu"} | (
        {"pending": {"id": m.id, "text": m.text}} if words not in MENU_WORDS else {}
    )
    menu(channel, conv.wa_id, m.name)


def _choose(channel: Channel, conv: Conversation, m: WaMessage, choice: str, state: dict) -> None:
    pending = state.get("pending")
    if choice in ("menu:solicitud", "menu:incidente"):
        kind = "incident" if choice == "menu:incidente" else "request"
        if pending:
            conv.state = {}
            _open(channel, conv, m, kind, external_id=pending["id"], body=pending["text"])
        else:
            conv.state = {"flow": "await_incident" if kind == "incident" else "await_request"}
            say(
                channel,
                conv.wa_id,
                text(channel, "ask_incident" if kind == "incident" else "ask_request"),
            )
    elif choice == "menu:estado":
        conv.state = {"flow": "await_number"}
        say(channel, conv.wa_id, text(channel, "ask_number"))
    elif choice == "menu:agente":
        conv.state = {}
        body = pending["text"] if pending else "El cliente pidió hablar con un agente de servicio."
        _open(
            channel,
            conv,
            m,
            "request",
            external_id=pending["id"] if pending else m.id,
            body=body,
            ack_extra=text(channel, "agent"),
        )
    else:
        menu(channel, conv.wa_id, m.name)


def _open(
    channel: Channel,
    conv: Conversation,
    m: WaMessage,
    type_: str,
    *,
    external_id: str | None = None,
    body: str | None = None,
    ack_extra: str = "",
) -> None:
    msg = _inbound(channel, m, type=type_, body=body)
    if external_id:
        msg.external_id = external_id
    r = door.receive_message(msg)
    if m.media and m.media.id and not r.duplicate and not external_id:
        queue.enqueue(
            "whatsapp.media",
            {
                "note_id": r.note.pk,
                "channel_id": channel.pk,
                "media_id": m.media.id,
                "filename": m.media.filename,
                "mime_type": m.media.mime_type,
                "type": m.type,
            },
        )
    if ack_extra:
        say(channel, conv.wa_id, ack_extra)
    case = r.case
    slug = channel.schedule_slug_for(case.type, case.priority)
    if (
        r.new_case
        and case.type != "incident"
        and slug
        and not calendar(slug).is_open(case.created_at)
    ):
        # Out of hours for a request: the incident channels that attend 24/7.
        others = [
            acknowledgements.describe_channel(c)
            for c in acknowledgements.channels_24x7_for_incidents()
            if c.pk != channel.pk
        ]
        if others:
            say(
                channel,
                conv.wa_id,
                acknowledgements.texts.render(
                    acknowledgements.text("ack_incident_24x7"), channels_24x7=", ".join(others)
                ),
            )


def find_case_for(m: WaMessage, number: str) -> Case | None:
    """Only a case of the contact's organization (or, without one, their own)."""
    contact = _contact(m)
    if contact is None:
        return None
    case = reads.case_by_number(number)
    if case is None:
        return None
    if contact.organization_id is not None and case.organization_id == contact.organization_id:
        return case
    if case.requester_id == contact.pk:
        return case
    return None


def _status(channel: Channel, to: str, m: WaMessage) -> None:
    number = door.find_case_number(m.text)
    if not number:
        say(channel, to, text(channel, "no_number"))
        return
    case = find_case_for(m, number)
    if case is None:
        say(channel, to, text(channel, "not_found", number=number))
        return
    last = reads.last_public_answer(case)
    tail = f"\nÚltima respuesta: {last.body_text[:500]}" if last else ""
    body = text(
        channel,
        "status",
        number=case.number,
        subject=case.subject,
        status=STATUS_ES.get(case.status, case.status),
        level=case.level,
        last=tail,
    )
    if case.status in ("resolved", "closed", "cancelled"):
        say(channel, to, body)
    else:
        buttons(channel, to, body, [(f"escalar:{case.number}", text(channel, "escalate_button"))])


# -- escalation ----------------------------------------------------------------------------


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
                contact=_contact(m),
                reason="Solicitado por el cliente por WhatsApp.",
            )
    except DomainError as exc:
        say(channel, to, text(channel, "escalate_refused", number=case.number, reason=str(exc)))
