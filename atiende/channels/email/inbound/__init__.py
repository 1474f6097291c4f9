"""RFC 5322 bytes → `InboundMessage`: pure, no database, no clock.

Parsing never crashes on bad encodings: charsets are decoded the way browsers do
(ISO-8859-1 and US-ASCII labels mean Windows-1252, and valid UTF-8 wins over a wrong
label), undecodable bytes are replaced. Only a message with no sender address at all, or
one the stdlib parser cannot walk, raises `Unparseable` (the caller quarantines it).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import email
import email.utils
import hashlib
from dataclasses import dataclass, field
from email.message import EmailMessage

from atiende.cases import numbers
from atiende.channels.email.inbound import boundaries
from atiende.channels.email.inbound.authentication import dmarc_passed
from atiende.channels.email.inbound.autoreplies import _no_auto_reply
from atiende.channels.email.inbound.bodies import (
    content_id,
    html_to_text,
    link_inline_images,
    sanitize_html,
    trim_quoted,
)
from atiende.channels.email.inbound.bounces import Bounce, _bounce, _text_bounce
from atiende.channels.email.inbound.decoding import (
    POLICY,
    RawHeaders,
    _addresses,
    _raw_header,
    header,
    message_ids,
    part_text,
)
from atiende.channels.email.inbound.parts import _content, _filename, _is_attachment, _leaves
from atiende.channels.messages import InboundAttachment, InboundMessage

__all__ = [
    "POLICY",
    "Bounce",
    "ParsedEmail",
    "Unparseable",
    "content_key",
    "dmarc_passed",
    "header",
    "html_to_text",
    "link_inline_images",
    "message_ids",
    "parse",
    "sanitize_html",
    "trim_quoted",
    "without_nul",
]


boundaries.install()


class Unparseable(Exception):
    """The message cannot be turned into a note; keep its bytes in quarantine."""


@dataclass
class ParsedEmail:
    message: InboundMessage
    message_id: str | None  # as the sender wrote it; None when missing
    content_key: str  # sha256 of sender, date, subject and body: same mail → same key
    no_auto_reply: str | None = None  # why we must not answer automatically (RFC 3834)
    bounce: Bounce | None = None
    return_path: str | None = None
    defects: list[str] = field(default_factory=list)
    # Content-ID (without <>) → the attachment it names, for `cid:` links in the HTML.
    content_ids: dict[str, InboundAttachment] = field(default_factory=dict)
    # The hash under which the raw mail is already durable in the attachment store (a
    # parse worker wrote it, `parallel.keep_files`); "" when it is not.
    raw_synced: str = ""


def content_key(raw: bytes, sender: str, date: str, subject: str) -> str:
    """The same mail delivered twice (two folders, two fetches) has the same key even when
    transport headers (Received, Delivered-To) differ."""
    body = raw.replace(b"\r\n", b"\n")
    cut = body.find(b"\n\n")
    body = body[cut + 2 :] if cut >= 0 else b""
    h = hashlib.sha256()
    for piece in (sender, date, subject):
        h.update(piece.encode("utf-8", "replace") + b"\0")
    h.update(body.rstrip())
    return h.hexdigest()


def without_nul(text: str) -> str:
    """PostgreSQL text cannot hold NUL: a message carrying one in a header or its text would
    fail every attempt to store it (or even to quarantine it) and hold the mailbox up."""
    return text.replace("\x00", "\ufffd") if "\x00" in text else text


def _without_nul(obj) -> None:
    for f in dataclasses.fields(obj):
        value = getattr(obj, f.name)
        if isinstance(value, str):
            setattr(obj, f.name, without_nul(value))
        elif isinstance(value, list) and value and isinstance(value[0], str):
            setattr(obj, f.name, [without_nul(v) for v in value])
    if isinstance(obj, InboundMessage):
        obj.attachments = [
            dataclasses.replace(a, filename=without_nul(a.filename)) for a in obj.attachments
        ]


def parse(
    raw: bytes,
    *,
    channel: str,
    own_addresses: set[str] | frozenset[str] = frozenset(),
    envelope_sender: str | None = None,
    trusted_authserv_ids: set[str] | frozenset[str] = frozenset(),
) -> ParsedEmail:
    """Understand one message. `envelope_sender` is the SMTP MAIL FROM when known ("" = <>);
    `trusted_authserv_ids` are the MTAs whose Authentication-Results we believe."""
    try:
        msg: EmailMessage = email.message_from_bytes(raw, policy=POLICY)  # type: ignore[arg-type]
        parsed = _parse(msg, raw, channel, {a.lower() for a in own_addresses}, envelope_sender)
        parsed.message.sender_authenticated = dmarc_passed(
            msg, parsed.message.sender_email or "", {t.lower() for t in trusted_authserv_ids}
        )
        _without_nul(parsed.message)
        _without_nul(parsed)
        if parsed.bounce is not None:
            _without_nul(parsed.bounce)
        return parsed
    except Unparseable:
        raise
    except Exception as exc:  # the parser's own bugs on hostile input: quarantine, don't crash
        raise Unparseable(f"{type(exc).__name__}: {exc}") from exc


def _parse(
    msg: EmailMessage, raw: bytes, channel: str, own: set[str], envelope_sender: str | None
) -> ParsedEmail:
    raw_headers = RawHeaders(msg)
    senders = (
        _addresses(msg, "From", raw_headers)
        or _addresses(msg, "Sender", raw_headers)
        or _addresses(msg, "Reply-To", raw_headers)
    )
    if not senders:
        raise Unparseable("El mensaje no tiene una dirección de remitente legible (From).")
    name, sender = senders[0]
    subject = header(msg, "Subject", raw_headers)
    date = raw_headers.get("Date")
    ids = message_ids(raw_headers.get("Message-ID"))
    message_id = ids[0] if ids else None
    key = content_key(raw, sender, date, subject)
    external_id = message_id or f"<{key[:40]}@sin-message-id.atiende>"

    if envelope_sender is not None:
        return_path: str | None = envelope_sender.strip().strip("<>").lower()
    elif "Return-Path" in raw_headers:
        return_path = raw_headers.get("Return-Path").strip().strip("<>").lower()
    else:
        return_path = None

    plain = html_part = None
    try:
        plain = msg.get_body(preferencelist=("plain",))
        html_part = msg.get_body(preferencelist=("html",))
    except Exception:
        pass
    if plain is None and html_part is None and not msg.is_multipart():
        plain = msg  # e.g. a single part with an odd content type
    html_body = sanitize_html(part_text(html_part)) if html_part is not None else ""
    text = part_text(plain) if plain is not None else (html_to_text(html_body) if html_body else "")
    if plain is msg and msg.get_content_maintype() not in ("text", "multipart"):
        text, plain = "", None

    attachments = []
    content_ids: dict[str, InboundAttachment] = {}
    n = 0
    for part in _leaves(msg):
        if part is plain or part is html_part or not _is_attachment(part):
            continue
        n += 1
        cid = content_id(_raw_header(part, "Content-ID") or "")
        attachment = InboundAttachment(
            filename=_filename(part, n),
            content=_content(part),
            content_type=part.get_content_type(),
            inline=(part.get_content_disposition() == "inline" or bool(cid))
            and part.get_content_disposition() != "attachment",
        )
        attachments.append(attachment)
        if cid:
            content_ids.setdefault(cid, attachment)

    refs = message_ids(raw_headers.get("References"))
    in_reply = message_ids(raw_headers.get("In-Reply-To"))
    hints = list(dict.fromkeys(in_reply + refs[::-1]))
    try:
        when = email.utils.parsedate_to_datetime(date) if date else None
        if when is not None and when.tzinfo is None:
            when = when.replace(tzinfo=dt.UTC)
    except Exception:
        when = None
    bounce = _bounce(msg, raw, message_id) or _text_bounce(
        msg,
        raw,
        sender=sender,
        display=name,
        return_path=return_path,
        subject=subject,
        text=text,
        own_id=message_id,
        hints=hints,
        own=own,
    )
    body = trim_quoted(text) if text.strip() else ""
    if not body and not attachments:
        body = "(mensaje sin texto)"
    inbound = InboundMessage(
        channel=channel,
        external_id=external_id,
        body_text=body or "(ver adjuntos)",
        sender_email=sender,
        sender_name=name,
        subject=subject,
        body_html=html_body,
        attachments=attachments,
        case_number=numbers.find_tag(subject),
        in_reply_to=hints,
        received_at=when,
        sender_authenticated=False,  # set by `parse` from Authentication-Results
    )
    reason = _no_auto_reply(msg, raw_headers, sender, return_path, own)
    if reason:
        inbound.acknowledge = False
    defects = [type(d).__name__ for d in getattr(msg, "defects", [])]
    return ParsedEmail(
        message=inbound,
        message_id=message_id,
        content_key=key,
        no_auto_reply=reason,
        bounce=bounce,
        return_path=return_path,
        defects=defects,
        content_ids=content_ids,
    )
