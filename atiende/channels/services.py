"""The one door every channel uses: a plain inbound message becomes exactly one note.

Adapters (channels/<kind>/) turn provider bytes into an `InboundMessage` and call
`receive_message`; it recognises the contact, finds the case the message belongs to (or
opens one through the same case service the portal and API use), and adds the note, all in
one transaction. The unique (channel, external id) of notes decides duplicates: a message
delivered twice, even concurrently, is stored once and any case opened for the loser is
rolled back with it.
"""

from __future__ import annotations

import functools
from typing import Any

from atiende.cases import merging, numbers, statuses
from atiende.cases import selectors as case_selectors
from atiende.cases import services as cases
from atiende.cases.models import Case, Note
from atiende.channels.messages import NO_CONTEXT, InboundMessage, IntakeContext, Received
from atiende.channels.models import Notification, NotificationStatus
from atiende.core import audit, clock, rows
from atiende.core.errors import InvalidInput, NotFound
from atiende.core.transactions import service, service_scope
from atiende.customers import phones
from atiende.customers import services as customers
from atiende.customers.models import Contact
from atiende.directory import selectors
from atiende.directory.models import Channel
from atiende.worker import queue


class _Duplicate(Exception):
    def __init__(self, note: Note) -> None:
        self.note = note


def _contact_for(msg: InboundMessage) -> Contact:
    if msg.sender_whatsapp or msg.sender_whatsapp_user:
        return customers.find_or_create_whatsapp_contact(
            wa_id=msg.sender_whatsapp, user_id=msg.sender_whatsapp_user, name=msg.sender_name
        )
    return customers.find_or_create_contact(
        email=msg.sender_email, phone=msg.sender_phone, name=msg.sender_name
    )


def _thread(msg: InboundMessage, channel: Channel, contact: Contact) -> Case | None:
    """The case `msg` belongs to, if any. Found by number or as the contact's open case,
    its row is read locked, as `add_note` would lock it (`cases.locked_here`)."""
    number = msg.case_number or numbers.find_in_text(msg.subject)
    if number:
        case = rows.one(Case, lock=True, number=number)  # unique; one statement built once
        if case is not None:
            return cases.locked_here(case)
    if msg.in_reply_to:
        note = (
            Note.objects.select_related("case")
            .filter(external_id__in=msg.in_reply_to)
            .order_by("-created_at")
            .first()
        )
        if note is not None:
            return note.case
    if msg.join_open_case:
        # a duplicate merged into another case still threads (to its survivor)
        sql, done = _latest_open_case()
        found = rows.select(Case, sql, [contact.pk, channel.pk, *done], lock=True)
        return cases.locked_here(found[0]) if found else None
    return None


@functools.cache
def _latest_open_case() -> tuple[str, list[str]]:
    """The contact's latest case on the channel that is not done (or was merged): every
    WhatsApp message asks it, so the statement is written once (core/rows.py, 0008)."""
    col = {f.name: f'"{f.column}"' for f in Case._meta.concrete_fields}
    done = sorted(str(getattr(s, "value", s)) for s in statuses.DONE)
    marks = ", ".join(["%s"] * len(done))
    sql = (
        f"WHERE {col['requester']} = %s AND {col['channel']} = %s "
        f"AND ({col['status']} NOT IN ({marks}) OR {col['merged_into']} IS NOT NULL) "
        f"ORDER BY {col['created_at']} DESC, {col['id']} DESC LIMIT 1"
    )
    return sql, done


def receive_message(msg: InboundMessage, *, context: IntakeContext = NO_CONTEXT) -> Received:
    """Store `msg` exactly once, as a note on its case or on a new case.

    An adapter that stores many messages at once may look them up together first and say
    what it found in `context` (an `IntakeContext`); the outcome does not depend on it."""
    channel = selectors.channel(msg.channel)
    if channel is None:
        raise NotFound(f"No existe el canal {msg.channel!r}.")
    if not msg.external_id:
        raise InvalidInput(
            "El mensaje no tiene identificador.", errors={"external_id": "obligatorio"}
        )
    if not context.looked_up:
        # the common case is a new message: ask cheaply first (unique per channel)
        existing = rows.one(Note, channel_id=channel.pk, external_id=msg.external_id)
        if existing is not None:
            return Received(case=existing.case, note=existing, new_case=False, duplicate=True)
    try:
        with service_scope():
            sender = context.sender
            assert sender is None or isinstance(sender, Contact)
            return _receive(msg, channel, sender)
    except _Duplicate as dup:
        return Received(case=dup.note.case, note=dup.note, new_case=False, duplicate=True)


def _receive(msg: InboundMessage, channel: Channel, sender: Contact | None) -> Received:
    contact = sender or _contact_for(msg)
    case = _thread(msg, channel, contact)
    if case is not None and case.merged_into_id is not None:
        case = merging.survivor_of(case)  # a reply to a merged duplicate joins the survivor
    unverified = False
    new_case = False
    if case is not None and case.status in statuses.FINISHED:
        case = None  # a message about a finished case starts a new one
    if case is not None and not case_selectors.contact_may_see(contact, case):
        # Never let a stranger read or move another organization's case: their message is
        # kept, internal, for an agent to accept (or to open a new case from).
        unverified = True
    elif (
        case is not None
        and not msg.sender_authenticated
        and not case_selectors.known_on_case(contact, case)
    ):
        # Anyone can write any From: a new address at the organization's domain is not
        # the organization speaking until an agent says so.
        unverified = True
    if case is None:
        body = msg.body_text.strip()
        subject = (msg.subject or body.splitlines()[0] if body else "").strip()[
            :300
        ] or "(sin asunto)"
        case = cases.open_case(
            actor=None,
            channel=channel,
            subject=subject,
            description=body,
            type=msg.type,
            priority=msg.priority,
            requester=contact,
            organization=contact.organization,
            acknowledge=msg.acknowledge,
        )
        new_case = True
    note = cases.add_note(
        case=case,
        body_text=msg.body_text,
        body_html=msg.body_html,
        author_contact=contact,
        channel=channel,
        external_id=msg.external_id,
        unverified=unverified,
    )
    if not note.created:
        raise _Duplicate(note)  # lost a race with the same message: undo this attempt
    for att in msg.attachments:
        cases.add_attachment(
            case=case,
            note=note,
            filename=att.filename,
            chunks=[att.content],
            synced=att.synced,
            # An unverified note's attachments are hidden with the note (its visibility);
            # agents-only ones stay hidden when an agent confirms it.
            public=not att.agents_only,
        )
    return Received(case=case, note=note, new_case=new_case, duplicate=False, unverified=unverified)


# -- notifications to people about case events (breaches, escalations, pages) --


@service
def queue_notifications(
    *, case_id: int | None, event: str, subject: str, body: str, recipients: list[dict[str, Any]]
) -> list[Notification]:
    """One Notification per recipient ({kind, address, name?, template?}) and its delivery
    job, in this transaction. This is the one way people are notified: every phone number
    is stored and sent in E.164 (`customers.phones.notification_address`), and a person listed twice for the
    same kind is notified once."""
    now = clock.now()
    out = []
    seen: set[tuple[str, str]] = set()
    for r in recipients:
        address = phones.notification_address(r["address"])
        if (r["kind"], address.lower()) in seen:
            continue
        seen.add((r["kind"], address.lower()))
        n = Notification.objects.create(
            case_id=case_id,
            event=event,
            kind=r["kind"],
            address=address,
            name=r.get("name", ""),
            subject=subject,
            body=body,
            template=r.get("template", ""),
            created_at=now,
        )
        queue.enqueue(
            "deliver_notification",
            {"notification_id": n.pk},
            ordering_key=f"notify:{n.kind}:{n.address}",  # one person's notices in order
            retry_for=queue.DELIVERY_RETRY,  # through an outage of SMTP or the Graph API
        )
        out.append(n)
    return out


@service
def notification_sent(notification: Notification, *, external_id: str = "") -> None:
    _set_notification(
        notification,
        status=NotificationStatus.SENT,
        sent_at=clock.now(),
        external_id=external_id,
        error="",
    )


@service
def notification_failed(notification: Notification, *, error: str) -> None:
    """A notification that will not be delivered (the sender refused it for good, or a
    provider's status callback reported the failure)."""
    _set_notification(notification, status=NotificationStatus.FAILED, error=error[:4000])


def _set_notification(notification: Notification, **fields: Any) -> None:
    before = notification.status
    Notification.objects.filter(pk=notification.pk).update(**fields)
    for name, value in fields.items():
        setattr(notification, name, value)
    audit.record(
        actor=None,
        action=f"notification.{fields['status']}",
        obj=notification,
        case=notification.case,
        changes={
            "status": [before, fields["status"]],
            **({"error": fields["error"]} if fields.get("error") else {}),
        },
    )
