"""Email out: public notes and notifications sent by SMTP from the worker (the outbox).

Every message carries our own Message-ID (returned to the worker, which stores it on the
note, so replies find their case by In-Reply-To/References), the case tag in the subject,
`Reply-To` the channel address, text and HTML parts and the note's attachments. Automatic
answers say `Auto-Submitted: auto-replied` and go with an empty envelope sender, so a
bounce of an acknowledgement can never start a loop.
"""

from __future__ import annotations

import contextlib
import email.header
import html
import re
import secrets
import smtplib
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime

from django.db import IntegrityError, transaction

from atiende.cases import storage
from atiende.cases.models import Direction, Note
from atiende.channels.email import conf
from atiende.channels.email.inbound import message_ids
from atiende.channels.email.models import SentEmail
from atiende.channels.models import Notification
from atiende.core import clock
from atiende.core.errors import InvalidInput
from atiende.directory.models import Channel
from atiende.worker.errors import DeliveryError

MAX_REFERENCES = 20
TIMEOUT = 30

# Line breaks of any kind (CR, LF, NEL, U+2028/2029) and other control characters: in a
# header they would end it and start another one (or the body). Customers write subjects
# and names; they become one line here.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]+")
# One plain address: no spaces, no list or route syntax, exactly one @.
_ADDRESS = re.compile(r"[^\s<>(),;:\"\\\[\]@]+@[^\s<>(),;:\"\\\[\]@]+")


def one_line(text: str) -> str:
    """Header text from anything: control characters become spaces, spaces collapse, and
    no RFC 2047 encoded word is left for the email library to decode into a line break
    (it decodes `=?utf-8?q?a=0D=0ABcc:_x?=` in a value it is given, and then writes the
    break out as a real one)."""
    text = " ".join(_CONTROL.sub(" ", text or "").split())
    for _ in range(3):
        if "=?" not in text:
            return text
        try:
            decoded = str(email.header.make_header(email.header.decode_header(text)))
        except Exception:
            break
        decoded = " ".join(_CONTROL.sub(" ", decoded).split())
        if decoded == text:
            break
        text = decoded
    return text.replace("=?", "= ?")


def _mailbox(name: str, address: str) -> Address:
    """A header address built as an object, never as text the library would parse again:
    a name with commas, quotes or encoded words stays a name."""
    return Address(display_name=one_line(name), addr_spec=address)


def checked_address(address: str, *, what: str) -> str:
    """`address` when it is one plain address; a permanent delivery error otherwise (a
    line break or a list in it would add recipients or SMTP commands)."""
    if not (address and address.isprintable() and _ADDRESS.fullmatch(address)):
        raise DeliveryError(
            f"La dirección de correo {what} {address!r} no es válida; corríjala y reenvíe.",
            permanent=True,
        )
    return address


def _domain(channel: Channel) -> str:
    address = channel.address or ""
    return address.rsplit("@", 1)[-1] if "@" in address else "atiende.invalid"


def new_message_id(left: str, channel: Channel) -> str:
    """`<left.RANDOM.atiende@domain>`: the random part (80 bits from `secrets`) makes the id
    unguessable, so no message of someone else's can take it first (the notes' and the
    ledger's unique ids would then refuse our own send), and a reply can only name it if
    our mail reached them."""
    return f"<{left}.{secrets.token_hex(10)}.atiende@{_domain(channel)}>"


def message_id_for(
    channel: Channel, *, note: Note | None = None, notification: Notification | None = None
) -> str:
    """The Message-ID of a note or notification, recorded (`SentEmail`) before it is sent:
    made once and reused by every retry (a repeated send is the same message), and known
    to intake from that moment, so a reply threads even if the worker dies after handing
    the message to the server."""
    owner = {"note": note} if note is not None else {"notification": notification}
    row = SentEmail.objects.filter(**owner).only("message_id").first()
    if row is not None:
        return row.message_id
    case_id: int | None
    if note is not None:
        left, case_id = f"{note.case.number}.n{note.pk}", note.case_id
    else:
        assert notification is not None
        left, case_id = f"notif.{notification.pk}", notification.case_id
    message_id = new_message_id(left, channel)
    try:
        with transaction.atomic():
            SentEmail.objects.create(
                message_id=message_id, case_id=case_id, created_at=clock.now(), **owner
            )
    except IntegrityError:  # another worker sending the same message recorded it first
        return SentEmail.objects.get(**owner).message_id
    return message_id


def _thread_ids(note: Note) -> tuple[str | None, list[str]]:
    """(In-Reply-To, References) for a note: the customer's latest message and the chain."""
    rows = (
        Note.objects.filter(case_id=note.case_id, external_id__isnull=False, channel__kind="email")
        .exclude(pk=note.pk)
        .values_list("created_at", "id", "external_id", "direction")
    )
    # An acknowledgement is written in the same instant as the message it answers, just
    # before it: at equal times the customer's message comes first.
    earlier = [
        (external_id, direction)
        for _, _, external_id, direction in sorted(
            rows, key=lambda r: (r[0], r[3] != Direction.INBOUND, r[1])
        )
    ]
    chain: list[str] = []
    parent = None
    for external_id, direction in earlier:
        ids = message_ids(external_id)
        if not ids:
            continue
        chain.append(ids[0])
        if direction == Direction.INBOUND:
            parent = ids[0]
    chain = list(dict.fromkeys(chain))
    if len(chain) > MAX_REFERENCES - 1:  # the root, the most recent ones, and ours (below)
        chain = chain[:1] + chain[-(MAX_REFERENCES - 2) :]
    return parent, chain


def _html_from_text(text: str) -> str:
    paragraphs = [p for p in text.replace("\r\n", "\n").split("\n\n") if p.strip()]
    return "".join(f"<p>{html.escape(p).replace(chr(10), '<br>')}</p>" for p in paragraphs)


def _subject(case, *, reply: bool) -> str:
    tag = f"[{case.number}]"
    subject = one_line(case.subject).replace(tag, "").strip()
    return f"{'RE: ' if reply else ''}{tag} {subject}".strip()


def build_note_message(note: Note, channel: Channel, to: str, to_name: str = "") -> EmailMessage:
    case = note.case
    parent, chain = _thread_ids(note)
    msg = EmailMessage()
    msg["From"] = _mailbox(channel.name, channel.address)
    msg["To"] = _mailbox(to_name, checked_address(to, what="del solicitante"))
    msg["Reply-To"] = channel.address
    msg["Subject"] = _subject(case, reply=parent is not None)
    msg["Date"] = format_datetime(clock.now())
    own = message_id_for(channel, note=note)
    msg["Message-ID"] = own
    if parent:
        msg["In-Reply-To"] = parent
    # Our own id ends the chain too: a relay that rewrites Message-ID (some do) leaves
    # References alone, so replies still name a message we know.
    msg["References"] = " ".join([*chain, own])
    if note.automatic:
        msg["Auto-Submitted"] = "auto-replied"
        msg["X-Auto-Response-Suppress"] = "All"  # no out-of-office answers to our acknowledgement
    msg["X-Loop"] = channel.address
    footer = f"\n\n--\n{channel.name} · Caso {case.number}. Para responder, conserve [{case.number}] en el asunto."
    msg.set_content((note.body_text or "").rstrip() + footer)
    body_html = note.body_html or _html_from_text(note.body_text or "")
    msg.add_alternative(
        f'<html><body>{body_html}<p style="color:#666">{html.escape(footer.strip())}</p>'
        "</body></html>",
        subtype="html",
    )
    for att in note.attachments.all():
        data = storage.path_for(att.sha256).read_bytes()
        maintype, _, subtype = (att.content_type or "application/octet-stream").partition("/")
        msg.add_attachment(
            data,
            maintype=maintype,
            subtype=subtype or "octet-stream",
            filename=one_line(att.filename) or "adjunto",
        )
    return msg


def _connect(url: conf.MailURL) -> smtplib.SMTP:
    context = url.ssl_context() if url.ssl or url.starttls else None
    if url.ssl:
        smtp: smtplib.SMTP = smtplib.SMTP_SSL(url.host, url.port, timeout=TIMEOUT, context=context)
    else:
        smtp = smtplib.SMTP(url.host, url.port, timeout=TIMEOUT)
    try:
        smtp.ehlo()
        if url.starttls:
            smtp.starttls(context=context)
            smtp.ehlo()
        if url.auth == "xoauth2":
            token = url.token()
            smtp.auth(
                "XOAUTH2",
                lambda challenge=None: conf.xoauth2(url.user, token),
                initial_response_ok=True,
            )
        elif url.auth == "password" and url.user:
            smtp.login(url.user, url.password)
    except BaseException:
        smtp.close()
        raise
    return smtp


def send(url: conf.MailURL, msg: EmailMessage, *, envelope_from: str, to: list[str]) -> None:
    """Hand one message to the SMTP server. 5xx answers are permanent, the rest temporary."""
    try:
        smtp = _connect(url)
        try:
            smtp.send_message(msg, from_addr=envelope_from, to_addrs=to)
        finally:
            with contextlib.suppress(smtplib.SMTPException, OSError):
                smtp.quit()
    except smtplib.SMTPRecipientsRefused as exc:
        codes = [code for code, _ in exc.recipients.values()]
        detail = "; ".join(
            f"{rcpt}: {code} {text.decode(errors='replace') if isinstance(text, bytes) else text}"
            for rcpt, (code, text) in exc.recipients.items()
        )
        raise DeliveryError(
            f"El servidor de correo rechazó el destinatario ({detail}).",
            permanent=all(c >= 500 for c in codes),
        ) from exc
    except smtplib.SMTPResponseException as exc:
        text = (
            exc.smtp_error.decode(errors="replace")
            if isinstance(exc.smtp_error, bytes)
            else str(exc.smtp_error)
        )
        permanent = exc.smtp_code >= 500 and not isinstance(exc, smtplib.SMTPAuthenticationError)
        raise DeliveryError(
            f"El servidor de correo respondió {exc.smtp_code} {text}", permanent=permanent
        ) from exc
    except (TimeoutError, smtplib.SMTPException, OSError) as exc:
        raise DeliveryError(
            f"No se pudo conectar al servidor de correo {url.host}:{url.port} ({exc})."
        ) from exc
    except InvalidInput as exc:  # no OAuth2 token yet, CA file missing: fixable, so retried
        raise DeliveryError(f"{exc.message} ({url.host}:{url.port})") from exc


def _smtp_url(channel: Channel) -> conf.MailURL:
    try:
        url = conf.url_for(channel, "smtp")
    except Exception as exc:
        raise DeliveryError(
            f"La URL SMTP del canal «{channel.name}» es inválida: {exc}", permanent=True
        ) from exc
    if url is None:
        env = (channel.settings or {}).get("smtp_url_env") or "smtp_url_env"
        raise DeliveryError(
            f"No hay un medio de envío configurado para el canal «{channel.name}»: falta la URL SMTP "
            f"(variable {env}); responda al cliente por otro canal.",
            permanent=True,
        )
    conf.warn_if_cleartext(url, who=f"email sender {channel.slug}")
    return url


def _recipient(note: Note) -> tuple[str, str]:
    requester = note.case.requester
    address = (
        requester.emails.order_by("id").values_list("address", flat=True).first()
        if requester
        else None
    )
    if not address:
        raise DeliveryError(
            f"El solicitante del caso {note.case.number} no tiene correo electrónico.",
            permanent=True,
        )
    return address, requester.name if requester else ""


class SmtpSender:
    """The sender registered for channel kind "email"."""

    def send_note(self, note: Note) -> str:
        channel = note.channel or note.case.channel
        url = _smtp_url(channel)
        to, name = _recipient(note)
        msg = build_note_message(note, channel, to, name)
        send(url, msg, envelope_from="" if note.automatic else channel.address, to=[to])
        return msg["Message-ID"]

    def send_notification(self, notification: Notification) -> str:
        case = notification.case
        channel = case.channel if case is not None and case.channel.kind == "email" else None
        if channel is None:
            for candidate in Channel.objects.filter(kind="email", active=True).order_by(
                "position", "slug"
            ):
                if (candidate.settings or {}).get("smtp_url_env") and conf.url_for(
                    candidate, "smtp"
                ):
                    channel = candidate
                    break
        if channel is None:
            raise DeliveryError(
                "No hay un canal de correo con SMTP configurado para enviar notificaciones.",
                permanent=True,
            )
        url = _smtp_url(channel)
        to = checked_address(notification.address, what="del destinatario")
        msg = EmailMessage()
        msg["From"] = _mailbox(channel.name, channel.address)
        msg["To"] = _mailbox(notification.name, to)
        subject = one_line(notification.subject or notification.event)
        msg["Subject"] = (
            f"[{case.number}] {subject}"
            if case is not None and case.number not in subject
            else subject
        )
        msg["Date"] = format_datetime(clock.now())
        msg["Message-ID"] = message_id_for(channel, notification=notification)
        msg["Auto-Submitted"] = "auto-generated"
        msg["X-Loop"] = channel.address
        msg.set_content(notification.body)
        msg.add_alternative(
            f"<html><body>{_html_from_text(notification.body)}</body></html>", subtype="html"
        )
        send(url, msg, envelope_from=channel.address, to=[to])
        return msg["Message-ID"]
