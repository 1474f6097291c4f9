"""Raw mail in, one note out: the path shared by the IMAP poller, `ingest-email` and the
quarantine's retry. Parsing is `inbound.py`; storing goes through the one door,
`channels.services.receive_message`.

Outcomes: "stored" (a note), "duplicate" (already stored: same Message-ID and content),
"bounce" (a delivery report about our own mail: that note is marked failed, no case is
opened), "quarantined" (kept raw for an admin). A database error propagates: the caller
leaves the message where it is (IMAP) or answers "try later" (MTA pipe, exit 75).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import os
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction

from atiende.cases import services as case_services
from atiende.cases.models import Delivery, Direction, Note, Visibility
from atiende.cases.storage import _EXECUTABLE_MAGIC, DANGEROUS_EXTENSIONS, clean_filename
from atiende.channels.email import images, inbound
from atiende.channels.email.models import QuarantinedEmail, ReceivedEmail
from atiende.channels.messages import InboundAttachment
from atiende.channels.models import Channel
from atiende.channels.services import receive_message
from atiende.core import clock
from atiende.core.errors import DomainError, NotFound
from atiende.core.transactions import service_scope
from atiende.customers.models import ContactEmail

log = logging.getLogger(__name__)

DEFAULT_AUTO_REPLY_INTERVAL = 3600
DEFAULT_AUTO_REPLY_MAX = 3


@dataclass
class Outcome:
    status: str  # stored | duplicate | bounce | quarantined
    note_id: int | None = None
    case_number: str | None = None
    detail: str = ""


def channel_for(slug: str) -> Channel:
    channel = Channel.objects.filter(slug=slug).first()
    if channel is None or channel.kind != "email":
        raise NotFound(f"No existe un canal de correo {slug!r}.")
    return channel


def own_addresses() -> set[str]:
    return {
        a.lower()
        for a in Channel.objects.filter(kind="email").values_list("address", flat=True)
        if a
    }


def ingest(
    raw: bytes,
    *,
    channel: Channel | str,
    source: str = "",
    envelope_sender: str | None = None,
    own: set[str] | None = None,
) -> Outcome:
    channel = channel_for(channel) if isinstance(channel, str) else channel
    try:
        parsed = inbound.parse(
            raw,
            channel=channel.slug,
            own_addresses=own_addresses() if own is None else own,
            envelope_sender=envelope_sender,
        )
    except inbound.Unparseable as exc:
        return quarantine(channel, raw, str(exc), source=source)
    try:
        with service_scope():
            return _store(channel, parsed, raw, source)
    except DomainError as exc:  # e.g. the channel was deactivated: keep the mail for later
        return quarantine(
            channel, raw, f"{exc.message} {getattr(exc, 'errors', '') or ''}".strip(), source=source
        )


def _store(channel: Channel, parsed: inbound.ParsedEmail, raw: bytes, source: str) -> Outcome:
    msg = parsed.message
    mid = parsed.message_id
    # One query: every mail we kept under this Message-ID (or this content key when it has none).
    rows = ReceivedEmail.objects.filter(channel=channel).only("pk", "content_key")
    earlier = list(rows.filter(message_id=mid) if mid else rows.filter(external_id=msg.external_id))
    same = next((r for r in earlier if r.content_key == parsed.content_key), None)
    if same is not None:
        return _duplicate(ReceivedEmail.objects.select_related("note__case").get(pk=same.pk))
    if earlier:  # a sender reusing one Message-ID for different mail: two notes
        msg.external_id = f"{mid[:200]}#{parsed.content_key[:16]}"

    if parsed.bounce is not None:
        return _bounce(channel, parsed, source)

    if msg.acknowledge and _answered_recently(channel, msg.sender_email or ""):
        msg.acknowledge = False
    msg.attachments, refused = _acceptable(msg.attachments)
    if refused:
        msg.body_text += "\n\n[Adjuntos no aceptados: " + "; ".join(refused) + "]"
    if len(raw) <= settings.ATIENDE_MAX_ATTACHMENT_BYTES:
        msg.attachments.append(InboundAttachment("mensaje-original.eml", raw, "message/rfc822"))

    got = receive_message(msg)
    images.link_stored_images(got.note, parsed)
    note = got.note
    if got.duplicate:  # stored by a concurrent intake, with its record, in one transaction
        return Outcome("duplicate", note.pk, got.case.number)
    # No savepoint of its own: a clash here means another poller stored this mail at the
    # same moment; the error rolls back this message's savepoint and the caller's retry
    # finds it stored.
    _record(channel, parsed, msg.external_id, note=note, outcome="note", source=source)
    return Outcome(
        "stored",
        note.pk,
        got.case.number,
        detail=parsed.no_auto_reply or "",
    )


def _duplicate(row: ReceivedEmail) -> Outcome:
    note = row.note
    return Outcome(
        "duplicate", row.note_id, note.case.number if note is not None else None, detail=row.detail
    )


def _record(
    channel: Channel,
    parsed: inbound.ParsedEmail,
    external_id: str,
    *,
    note: Note | None,
    outcome: str,
    source: str,
    detail: str = "",
) -> None:
    ReceivedEmail.objects.create(
        channel=channel,
        external_id=external_id,
        message_id=parsed.message_id or "",
        content_key=parsed.content_key,
        note=note,
        outcome=outcome,
        detail=detail[:300],
        source=source[:300],
        created_at=clock.now(),
    )


def _answered_recently(channel: Channel, sender: str) -> bool:
    """RFC 3834's rate limit: a sender gets at most a few automatic answers per interval,
    so an autoresponder that hides its headers cannot make us open and answer cases forever."""
    opts = channel.settings or {}
    interval = int(opts.get("auto_reply_interval_seconds", DEFAULT_AUTO_REPLY_INTERVAL))
    limit = int(opts.get("auto_reply_max", DEFAULT_AUTO_REPLY_MAX))
    since = clock.now() - dt.timedelta(seconds=interval)
    contact = ContactEmail.objects.filter(address=sender).values_list("contact_id", flat=True)
    contact_id = next(iter(contact[:1]), None)
    if contact_id is None:  # a first-time sender has had no answers
        return False
    sent = Note.objects.filter(
        automatic=True, case__requester_id=contact_id, created_at__gte=since
    ).values_list("pk", flat=True)
    return len(sent[:limit]) >= limit


def _acceptable(attachments: list[InboundAttachment]) -> tuple[list[InboundAttachment], list[str]]:
    """Attachments the store would refuse are left out (the .eml keeps them) and named in
    the note, instead of failing the whole message."""
    keep, refused = [], []
    limit = settings.ATIENDE_MAX_ATTACHMENT_BYTES
    for att in attachments:
        name = clean_filename(att.filename)
        if os.path.splitext(name)[1].lower() in DANGEROUS_EXTENSIONS or att.content.startswith(
            _EXECUTABLE_MAGIC
        ):
            refused.append(f"{name} (ejecutable)")
        elif len(att.content) > limit:
            refused.append(f"{name} (supera {limit // (1024 * 1024)} MB)")
        else:
            keep.append(att)
    return keep, refused


def _bounce(channel: Channel, parsed: inbound.ParsedEmail, source: str) -> Outcome:
    bounce = parsed.bounce
    assert bounce is not None
    ours = None
    if bounce.original_message_id:
        ours = (
            Note.objects.select_related("case")
            .filter(external_id=bounce.original_message_id, direction=Direction.OUTBOUND)
            .first()
        )
    who = ", ".join(bounce.recipients) or "el destinatario"
    detail = f"{bounce.action or 'rebote'} {bounce.status} {bounce.diagnostic}".strip()
    if ours is None:
        _record(
            channel,
            parsed,
            parsed.message.external_id,
            note=None,
            outcome="bounce",
            source=source,
            detail=f"sin mensaje nuestro: {detail}",
        )
        return Outcome("bounce", detail=f"informe de entrega sin mensaje nuestro ({detail})")
    if bounce.permanent:
        case_services.record_delivery(
            note=ours, status=Delivery.FAILED, error=f"El correo a {who} no se entregó: {detail}"
        )
    text = (
        f"Informe de entrega del servidor de correo: el mensaje a {who} "
        f"{'no se entregó' if bounce.permanent else 'está demorado'} ({detail})."
    )
    info = None
    if ours.case.status not in ("closed", "cancelled"):
        info = case_services.add_note(
            case=ours.case, body_text=text, visibility=Visibility.INTERNAL
        )
    _record(
        channel,
        parsed,
        parsed.message.external_id,
        note=info or ours,
        outcome="bounce",
        source=source,
        detail=detail,
    )
    return Outcome("bounce", (info or ours).pk, ours.case.number, detail=detail)


def quarantine(channel: Channel, raw: bytes, reason: str, *, source: str = "") -> Outcome:
    """Keep a message we cannot store, once per content, for an admin to look at and retry."""
    sha = hashlib.sha256(raw).hexdigest()
    subject = sender = ""
    try:
        import email
        import email.policy

        head = email.message_from_bytes(raw[:65536], policy=email.policy.compat32)
        subject, sender = inbound.header(head, "Subject")[:300], inbound.header(head, "From")[:300]
    except Exception:
        pass
    with transaction.atomic():
        row, created = QuarantinedEmail.objects.get_or_create(
            channel=channel,
            sha256=sha,
            defaults=dict(
                raw=raw,
                size=len(raw),
                subject=subject,
                sender=sender,
                reason=reason,
                source=source[:300],
                created_at=clock.now(),
            ),
        )
        if not created:
            QuarantinedEmail.objects.filter(pk=row.pk).update(
                attempts=row.attempts + 1, reason=reason
            )
    log.warning("email quarantined on %s: %s", channel.slug, reason)
    return Outcome("quarantined", detail=reason)


def retry_quarantined(row: QuarantinedEmail) -> Outcome:
    """Run a quarantined message through intake again (after a fix or a configuration change)."""
    outcome = ingest(bytes(row.raw), channel=row.channel, source=row.source)
    if outcome.status != "quarantined":
        QuarantinedEmail.objects.filter(pk=row.pk).update(
            resolved_at=clock.now(), note_id=outcome.note_id
        )
    return outcome
