"""Raw mail in, one note out: the path shared by the IMAP poller, `ingest-email` and the
quarantine's retry. Parsing is `inbound/`; storing goes through the one door,
`channels.services.receive_message`. The poller stores each fetch's mail in groups
(`ingest_many`): one transaction, one lookup of Message-IDs, senders and recent answers
for the group, and one INSERT per table for what the group creates besides its cases and
notes.

Outcomes: "stored" (a note), "duplicate" (already stored: same Message-ID and content),
"bounce" (a delivery report about our own mail: that note is marked failed, no case is
opened), "quarantined" (kept raw for an admin). A database error propagates: the caller
leaves the message where it is (IMAP) or answers "try later" (MTA pipe, exit 75).
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import logging
from dataclasses import dataclass, field

from django.conf import settings
from django.db import DatabaseError, transaction
from django.db.models import Count

from atiende.cases import blobs, statuses, storage
from atiende.cases import services as case_services
from atiende.cases.blobs import clean_filename
from atiende.cases.models import Delivery, Note, Visibility
from atiende.channels.email import images, inbound, parallel
from atiende.channels.email.models import QuarantinedEmail, ReceivedEmail, SentEmail
from atiende.channels.messages import InboundAttachment, IntakeContext
from atiende.channels.services import notification_failed, receive_message
from atiende.core import clock, deferred, rows
from atiende.core.errors import DomainError, NotFound
from atiende.core.transactions import batch, service_scope
from atiende.customers import selectors as customers
from atiende.customers import services as contact_services
from atiende.customers.models import Contact
from atiende.directory.models import Channel

log = logging.getLogger(__name__)

DEFAULT_AUTO_REPLY_INTERVAL = 3600
DEFAULT_AUTO_REPLY_MAX = 3
DEFAULT_AUTO_REPLY_MAX_PER_HOUR = 200
# The whole message as it came, for agents only: it keeps what intake refused (executables,
# oversized parts) and the sender's transport headers, which customers never get.
ORIGINAL_EML = "mensaje-original.eml"
MAX_ATTACHMENTS_PER_MESSAGE = 100
MAX_REFUSED_NAMED = 20  # refused attachments named one by one in the note


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


def trusted_mtas(channel: Channel) -> frozenset[str]:
    """The authserv-ids (setting `trusted_authserv_ids`: a list, or one string) of the MTAs
    that receive this mailbox's mail and write Authentication-Results we believe."""
    value = (channel.settings or {}).get("trusted_authserv_ids") or []
    if isinstance(value, str):
        value = [value]
    return frozenset(str(v).strip().lower() for v in value if str(v).strip())


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
            trusted_authserv_ids=trusted_mtas(channel),
        )
    except inbound.Unparseable as exc:
        return quarantine(channel, raw, str(exc), source=source, envelope_sender=envelope_sender)
    try:
        with service_scope():
            return _store_all(channel, [(parsed, raw, source)])[0]
    except DomainError as exc:  # e.g. the channel was deactivated: keep the mail for later
        return quarantine(
            channel,
            raw,
            f"{exc.message} {getattr(exc, 'errors', '') or ''}".strip(),
            source=source,
            envelope_sender=envelope_sender,
        )


def ingest_many(
    channel: Channel,
    items: list[tuple[bytes, str]],
    *,
    own: set[str],
    senders: list[str | None] | None = None,
    parsed: list[inbound.ParsedEmail | None] | None = None,
) -> list[Outcome]:
    """Store several mails (raw bytes, source) in one transaction: one commit, and the
    lookups and inserts of all of them together (`transactions.batch`). If any of them
    fails, each is stored on its own, so that no message holds back the others. A
    database error propagates (nothing of the group is committed). `senders`: the
    envelope sender of each mail where known (the MTA pipe's spool), as in `ingest`.
    `parsed`: the mails already parsed (`parallel.parse_group` with this channel's slug,
    own addresses, trusted MTAs and these senders; None where parsing failed)."""
    envelopes = senders if senders is not None else [None] * len(items)
    if parsed is None:
        parsed = parallel.parse_group(
            [raw for raw, _ in items],
            envelopes,
            channel=channel.slug,
            own=frozenset(own),
            trusted=trusted_mtas(channel),
        )
    if len(parsed) != len(items):
        raise ValueError(f"{len(parsed)} parsed mails for {len(items)} raw ones")
    if len(items) > 1 and any(p is not None for p in parsed):
        try:
            with batch():
                mails = [
                    (p, raw, source)
                    for p, (raw, source) in zip(parsed, items, strict=True)
                    if p is not None
                ]
                outcomes = iter(_store_all(channel, mails))
                stored = [next(outcomes) if p is not None else None for p in parsed]
        except Exception as exc:
            log.info("storing %d mails together failed (%r): one by one", len(items), exc)
        else:
            return [
                done or ingest_safely(channel, raw, source=source, own=own, envelope_sender=env)
                for done, (raw, source), env in zip(stored, items, envelopes, strict=True)
            ]
    return [
        ingest_safely(channel, raw, source=source, own=own, envelope_sender=env)
        for (raw, source), env in zip(items, envelopes, strict=True)
    ]


def ingest_safely(
    channel: Channel,
    raw: bytes,
    *,
    source: str,
    own: set[str],
    envelope_sender: str | None = None,
) -> Outcome:
    """`ingest`, with a bug on one message quarantining it instead of blocking the mailbox."""
    try:
        return ingest(raw, channel=channel, source=source, own=own, envelope_sender=envelope_sender)
    except DatabaseError:
        raise
    except Exception as exc:
        log.exception("email %s could not be stored; quarantined", source)
        return quarantine(
            channel,
            raw,
            f"Error inesperado: {exc!r}",
            source=source,
            envelope_sender=envelope_sender,
        )


def _store_all(
    channel: Channel, mails: list[tuple[inbound.ParsedEmail, bytes, str]]
) -> list[Outcome]:
    known = _Known.load(channel, [parsed for parsed, _, _ in mails])
    outcomes = [_store(channel, parsed, raw, source, known) for parsed, raw, source in mails]
    images.link_stored_images(known.notes)
    if known.withheld:  # one line per group: a flood would otherwise log a line per mail
        log.warning(
            "channel %s sent %d automatic answers in the last hour: no acknowledgement to %s",
            channel.slug,
            known.answers_overall,
            ", ".join(known.withheld),
        )
    return outcomes


@dataclass
class _Known:
    """What storing some mails needs to know from the database, read with one query each
    for all of them, and kept current as they are stored one after the other."""

    # Mail already kept, by Message-ID (or, without one, by content key external id).
    earlier: dict[tuple[str, str], list[ReceivedEmail]]
    # Sender address -> contact: found, or made for the group's first-time senders. Absent:
    # no address, or one `create_email_contacts` refused (the one-by-one path says why).
    contacts: dict[str, Contact]
    answers: dict[int | None, int]  # contact id -> automatic answers sent within the interval
    answer_limit: int
    # Message-IDs of mail we sent (`SentEmail`) that these mails name in In-Reply-To or
    # References -> the number of the case it was about.
    ours: dict[str, str]
    answers_overall: int  # automatic answers this channel sent in the last hour
    overall_limit: int
    notes: list[tuple[Note, inbound.ParsedEmail]] = field(default_factory=list)  # stored
    withheld: list[str] = field(default_factory=list)  # senders not acknowledged: the ceiling

    @classmethod
    def load(cls, channel: Channel, mails: list[inbound.ParsedEmail]) -> _Known:
        keys = {_key(p) for p in mails}
        mids = {k for kind, k in keys if kind == "mid"}
        eids = {k for kind, k in keys if kind == "eid"}
        earlier: dict[tuple[str, str], list[ReceivedEmail]] = {}
        if keys:
            condition = _earlier_condition(len(mids), len(eids))
            kept = rows.select(ReceivedEmail, condition, [channel.pk, *mids, *eids])
            for row in kept:
                if row.message_id in mids:
                    earlier.setdefault(("mid", row.message_id), []).append(row)
                if row.external_id in eids:
                    earlier.setdefault(("eid", row.external_id), []).append(row)
        senders = {_address(p) for p in mails} - {""}
        contacts = customers.contacts_by_email(senders) if senders else {}
        opts = channel.settings or {}
        interval = int(opts.get("auto_reply_interval_seconds", DEFAULT_AUTO_REPLY_INTERVAL))
        asking = {contacts[a].pk for a in senders if a in contacts}
        # The first-time senders of the mails that will be notes, made together (the first
        # mail's display name names the contact, as when they were made one by one).
        new: dict[str, str] = {}
        for p in mails:
            address = _address(p)
            if address and address not in contacts and _will_be_a_note(p, earlier):
                new.setdefault(address, p.message.sender_name or "")
        if new:
            contacts.update(contact_services.create_email_contacts(senders=new))
        answers: dict[int | None, int] = {}
        if asking:
            since = clock.now() - dt.timedelta(seconds=interval)
            answers = dict(
                Note.objects.filter(
                    automatic=True, case__requester_id__in=asking, created_at__gte=since
                )
                .values_list("case__requester_id")
                .annotate(n=Count("id"))
            )
        limit = int(opts.get("auto_reply_max", DEFAULT_AUTO_REPLY_MAX))
        hints = {h for p in mails if p.message.case_number is None for h in p.message.in_reply_to}
        ours: dict[str, str] = {}
        if hints:
            ours = dict(
                SentEmail.objects.filter(message_id__in=hints, case__isnull=False).values_list(
                    "message_id", "case__number"
                )
            )
        overall_limit = int(opts.get("auto_reply_max_per_hour", DEFAULT_AUTO_REPLY_MAX_PER_HOUR))
        overall = Note.objects.filter(
            automatic=True, channel=channel, created_at__gte=clock.now() - dt.timedelta(hours=1)
        ).count()
        return cls(earlier, contacts, answers, limit, ours, overall, overall_limit)

    def thread_by_our_mail(self, msg) -> None:
        """A reply without our case tag that names a message we sent: its case."""
        if msg.case_number is None:
            msg.case_number = next((self.ours[h] for h in msg.in_reply_to if h in self.ours), None)

    def too_many_answers(self) -> bool:
        """Beyond the per-sender limit, a ceiling for the whole channel: forged senders are
        endless, so each getting "only" a few answers would still make us a spam cannon."""
        return self.answers_overall >= self.overall_limit

    def answered_recently(self, contact: Contact | None) -> bool:
        """RFC 3834's rate limit: a sender gets at most a few automatic answers per
        interval, so an autoresponder that hides its headers cannot make us open and answer
        cases forever. A first-time sender has had no answers."""
        return contact is not None and self.answers.get(contact.pk, 0) >= self.answer_limit


@functools.lru_cache(maxsize=64)
def _earlier_condition(mids: int, eids: int) -> str:
    """The records of a channel's mail under some Message-IDs or external ids (for
    `rows.select`): every group asks it, so the statement is written once per count of
    each (core/rows.py, decision 0008), not built by the ORM each time."""
    column = {f.name: f'"{f.column}"' for f in ReceivedEmail._meta.concrete_fields}
    either = [
        f"{column[name]} IN ({', '.join(['%s'] * n)})"
        for name, n in (("message_id", mids), ("external_id", eids))
        if n
    ]
    return f"WHERE {column['channel']} = %s AND ({' OR '.join(either)})"


def _will_be_a_note(
    parsed: inbound.ParsedEmail, earlier: dict[tuple[str, str], list[ReceivedEmail]]
) -> bool:
    """Not a delivery report, nor this very mail stored already (see `_store`)."""
    if parsed.bounce is not None:
        return False
    return all(r.content_key != parsed.content_key for r in earlier.get(_key(parsed), []))


def _key(parsed: inbound.ParsedEmail) -> tuple[str, str]:
    if parsed.message_id:
        return ("mid", parsed.message_id)
    return ("eid", parsed.message.external_id)


def _address(parsed: inbound.ParsedEmail) -> str:
    return (parsed.message.sender_email or "").strip().lower()


def _store(
    channel: Channel, parsed: inbound.ParsedEmail, raw: bytes, source: str, known: _Known
) -> Outcome:
    msg = parsed.message
    key = _key(parsed)
    earlier = known.earlier.get(key, [])
    same = next((r for r in earlier if r.content_key == parsed.content_key), None)
    if same is not None:
        return _duplicate(same)
    if earlier:  # a sender reusing one Message-ID for different mail: two notes
        msg.external_id = f"{(parsed.message_id or '')[:200]}#{parsed.content_key[:16]}"

    if parsed.bounce is not None:
        return _bounce(channel, parsed, source)

    address = _address(parsed)
    contact = known.contacts.get(address)
    if msg.acknowledge and known.answered_recently(contact):
        msg.acknowledge = False
    known.thread_by_our_mail(msg)
    if msg.acknowledge and known.too_many_answers():
        known.withheld.append(address)
        msg.acknowledge = False
    msg.attachments, refused = _acceptable(msg.attachments)
    if refused:
        msg.body_text += "\n\n[Adjuntos no aceptados: " + "; ".join(refused) + "]"
    if len(raw) <= settings.ATIENDE_MAX_ATTACHMENT_BYTES:
        msg.attachments.append(
            InboundAttachment(
                ORIGINAL_EML, raw, "message/rfc822", agents_only=True, synced=parsed.raw_synced
            )
        )

    # Nothing under this Message-ID in our records: the note is new unless another poller
    # stores it at this moment, which the unique external id settles.
    got = receive_message(msg, context=IntakeContext(looked_up=True, sender=contact))
    note = got.note
    if got.duplicate:  # stored by a concurrent intake, with its record, in one transaction
        return Outcome("duplicate", note.pk, got.case.number)
    known.notes.append((note, parsed))
    if address and note.author_contact is not None:
        known.contacts[address] = note.author_contact
    if got.new_case and msg.acknowledge:
        known.answers[note.author_contact_id] = known.answers.get(note.author_contact_id, 0) + 1
        known.answers_overall += 1
    # No savepoint of its own: a clash here means another poller stored this mail at the
    # same moment; the error rolls back this message's transaction and the caller's retry
    # finds it stored.
    known.earlier.setdefault(key, []).append(
        _record(channel, parsed, msg.external_id, note=note, outcome="note", source=source)
    )
    return Outcome(
        "stored",
        note.pk,
        got.case.number,
        detail=parsed.no_auto_reply or "",
    )


def _duplicate(row: ReceivedEmail) -> Outcome:
    deferred.flush()  # a record of this same batch gets its id
    row = ReceivedEmail.objects.select_related("note__case").get(pk=row.pk)
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
) -> ReceivedEmail:
    row = ReceivedEmail(
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
    deferred.insert(row)
    return row


def keep() -> parallel.Keep | None:
    """What the parse workers write for the poller (`parallel.keep_files`): with the
    attachments on local disk, the store and this module's limits; with an object store,
    nothing (the poller's transaction uploads them)."""
    if storage.object_store() is not None:
        return None
    return parallel.Keep(
        root=str(storage.root()),
        max_bytes=settings.ATIENDE_MAX_ATTACHMENT_BYTES,
        per_message=MAX_ATTACHMENTS_PER_MESSAGE,
    )


def _acceptable(attachments: list[InboundAttachment]) -> tuple[list[InboundAttachment], list[str]]:
    """Attachments the store would refuse are left out (the .eml keeps them) and named in
    the note, instead of failing the whole message; beyond MAX_ATTACHMENTS_PER_MESSAGE the
    rest are counted, not stored (a message of thousands of parts is not thousands of
    case attachments)."""
    keep, refused = [], []
    limit = settings.ATIENDE_MAX_ATTACHMENT_BYTES
    for att in attachments:
        name = clean_filename(att.filename)
        if blobs.refused(name, att.content):
            refused.append(f"{name} (ejecutable)")
        elif len(att.content) > limit:
            refused.append(f"{name} (supera {limit // (1024 * 1024)} MB)")
        else:
            keep.append(att)
    if len(keep) > MAX_ATTACHMENTS_PER_MESSAGE:
        extra = len(keep) - MAX_ATTACHMENTS_PER_MESSAGE
        keep = keep[:MAX_ATTACHMENTS_PER_MESSAGE]
        refused.append(f"{extra} adjuntos más (el límite es {MAX_ATTACHMENTS_PER_MESSAGE})")
    if len(refused) > MAX_REFUSED_NAMED:
        refused = [*refused[:MAX_REFUSED_NAMED], f"y {len(refused) - MAX_REFUSED_NAMED} más"]
    return keep, refused


def _bounce(channel: Channel, parsed: inbound.ParsedEmail, source: str) -> Outcome:
    bounce = parsed.bounce
    assert bounce is not None
    sent = None
    if bounce.original_message_id:
        sent = (
            SentEmail.objects.select_related("note__case", "notification")
            .filter(message_id=bounce.original_message_id)
            .first()
        )
    ours = sent.note if sent is not None else None
    who = ", ".join(bounce.recipients) or "el destinatario"
    detail = f"{bounce.action or 'rebote'} {bounce.status} {bounce.diagnostic}".strip()
    if sent is not None and sent.notification is not None:  # a notification to a person
        if bounce.permanent:
            notification_failed(
                sent.notification, error=f"El correo a {who} no se entregó: {detail}"
            )
        _record(
            channel,
            parsed,
            parsed.message.external_id,
            note=None,
            outcome="bounce",
            source=source,
            detail=f"notificación {sent.notification.pk}: {detail}",
        )
        return Outcome("bounce", detail=detail)
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
    if ours.case.status not in statuses.FINISHED:
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


def quarantine(
    channel: Channel,
    raw: bytes,
    reason: str,
    *,
    source: str = "",
    envelope_sender: str | None = None,
) -> Outcome:
    """Keep a message we cannot store, once per content, for an admin to look at and retry
    (with the envelope sender it came with, so the retry applies the same loop rules)."""
    sha = hashlib.sha256(raw).hexdigest()
    reason = inbound.without_nul(reason)
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
                subject=inbound.without_nul(subject),
                sender=inbound.without_nul(sender),
                reason=reason,
                source=inbound.without_nul(source[:300]),
                envelope_sender=(
                    None if envelope_sender is None else inbound.without_nul(envelope_sender)[:300]
                ),
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
    outcome = ingest(
        bytes(row.raw),
        channel=row.channel,
        source=row.source,
        envelope_sender=row.envelope_sender,
    )
    if outcome.status != "quarantined":
        QuarantinedEmail.objects.filter(pk=row.pk).update(
            resolved_at=clock.now(), note_id=outcome.note_id
        )
    return outcome
