"""Bounces: delivery-status reports (RFC 3464) and the text bounces of MTAs that send none,
with the Message-ID of the mail they report on."""

from __future__ import annotations

import email
import email.header
import email.policy
import email.utils
import re
from dataclasses import dataclass
from email.message import Message

from atiende.channels.email.inbound.decoding import (
    MAX_ID,
    POLICY,
    _utf8_or_cp1252,
    header,
    message_ids,
)
from atiende.channels.email.inbound.parts import _content


@dataclass
class Bounce:
    """A delivery-status notification (RFC 3464) about a message we sent."""

    action: str  # failed | delayed | delivered | relayed | expanded | "" (non-standard)
    status: str  # RFC 3463 code, e.g. 5.1.1
    recipients: list[str]
    original_message_id: str | None
    diagnostic: str = ""

    @property
    def permanent(self) -> bool:
        return self.action == "failed" or self.status.startswith("5")


def _embedded_message_id(msg: Message) -> str | None:
    """The Message-ID of the original inside a bounce: an attached message/rfc822, or
    text/rfc822-headers (RFC 3462)."""
    for part in msg.walk() if msg.is_multipart() else []:
        t = part.get_content_type()
        if t == "message/rfc822":
            inner = part.get_payload()
            inner = inner[0] if isinstance(inner, list) and inner else inner
            if isinstance(inner, Message):
                ids = message_ids(header(inner, "Message-ID"))
                if ids:
                    return ids[0]
        elif t == "text/rfc822-headers":
            inner = email.message_from_bytes(_content(part), policy=POLICY)
            ids = message_ids(header(inner, "Message-ID"))
            if ids:
                return ids[0]
    return None


# "Message-ID: <...>" quoted in a bounce's text, possibly indented or behind "> ".
_QUOTED_MESSAGE_ID = re.compile(r"(?im)^[\s>]*Message-ID:\s*(<[^<>\s]+>)")


def _quoted_message_id(body: str, own_id: str | None) -> str | None:
    for found in _QUOTED_MESSAGE_ID.finditer(body):
        if found.group(1) != own_id:
            return found.group(1)[:MAX_ID]
    return None


def _body_of(raw: bytes) -> str:
    """Everything after the top-level header block, as text (for quoted headers)."""
    body = raw.replace(b"\r\n", b"\n")
    cut = body.find(b"\n\n")
    return _utf8_or_cp1252(body[cut + 2 :] if cut >= 0 else b"")


def _original_id(msg: Message, raw: bytes, own_id: str | None) -> str | None:
    """The Message-ID of the mail a bounce reports on: from the copy it attaches, else
    quoted in its text."""
    return _embedded_message_id(msg) or _quoted_message_id(_body_of(raw), own_id)


def _bounce(msg: Message, raw: bytes, own_id: str | None) -> Bounce | None:
    ctype = msg.get_content_type()
    report = (
        ctype == "multipart/report"
        and (msg.get_param("report-type") or "").lower() == "delivery-status"
    )
    if not report:
        return None
    action = status = diagnostic = ""
    recipients: list[str] = []
    for part in msg.walk() if msg.is_multipart() else []:
        if part.get_content_type() == "message/delivery-status":
            groups = part.get_payload()
            for g in groups[1:] if isinstance(groups, list) else []:
                if not isinstance(g, Message):
                    continue
                action = action or header(g, "Action").lower()
                status = status or header(g, "Status")
                diagnostic = diagnostic or header(g, "Diagnostic-Code")
                rcpt = header(g, "Final-Recipient") or header(g, "Original-Recipient")
                if rcpt:
                    recipients.append(rcpt.split(";", 1)[-1].strip().lower())
    return Bounce(
        action=action,
        status=status,
        recipients=recipients,
        original_message_id=_original_id(msg, raw, own_id),
        diagnostic=diagnostic,
    )


# -- bounces that are not RFC 3464 reports (qmail, Exim, old Postfix/Sendmail, Exchange) --

_DAEMON = re.compile(r"^(mailer-daemon|postmaster|mail-?daemon|mdaemon)([+\-.].*)?$", re.IGNORECASE)
_BOUNCE_SUBJECT = re.compile(
    r"(?i)undeliver(ed|able)|non[- ]?deliver|delivery (status notification|failure|failed|"
    r"problem|has failed)|mail delivery failed|returned mail|returning message to sender|"
    r"failure notice|could not be delivered|delayed mail|delivery delayed|"
    r"no se (pudo|puede) entregar|no entregado|devuelto al remitente|error de entrega|"
    r"non remis|unzustellbar"
)
_BOUNCE_BODY = re.compile(
    r"(?i)qmail-send program|mail delivery (software|subsystem|system)|"
    r"could not be delivered|couldn't be delivered|wasn't able to deliver|"
    r"was not delivered|delivery (to the following recipients? )?has failed|"
    r"delivery to the following recipients? failed|permanent (fatal )?error|"
    r"following address(es)? failed|returning message to sender|"
    r"no se (pudo|puede) entregar|still being retried|will (keep|continue) trying"
)
_DELAY = re.compile(
    r"(?i)still being retried|will (keep|continue) trying|delivery delayed|delayed mail|"
    r"not yet been delivered|temporary (failure|error)|sigue intentando"
)
# Where the copy of the original starts in a text bounce: the report is what comes before.
_COPY_START = re.compile(
    r"(?im)^[\s-]*(below this line is a copy of the message|this is a copy of the message|"
    r"original message (headers )?follows|original message|mensaje original|"
    r"the original message|copia del mensaje)\b|^(Return-Path|Received|Message-ID):"
)
_STATUS = re.compile(r"(?<![\d.])([245])\.(\d{1,3})\.(\d{1,3})(?![\d.]*\d)")
_SMTP_REPLY = re.compile(r"(?<!\d)([45])\d\d(?=[\s-])")
_LONE_ADDRESS = re.compile(r"(?m)^\s*<?([^<>\s@:]+@[^<>\s:]+\.[^<>\s:]+?)>?:?\s*$")


def _looks_like_bounce(sender: str, display: str, return_path: str | None, subject: str, text: str):
    automated = (
        _DAEMON.match(sender.split("@", 1)[0])
        or "mail delivery" in display.lower()
        or return_path == ""
    )
    return bool(automated) and bool(_BOUNCE_SUBJECT.search(subject) or _BOUNCE_BODY.search(text))


def _text_bounce(
    msg: Message,
    raw: bytes,
    *,
    sender: str,
    display: str,
    return_path: str | None,
    subject: str,
    text: str,
    own_id: str | None,
    hints: list[str],
    own: set[str],
) -> Bounce | None:
    """A bounce written for people, recognised by who sends it and how it reads."""
    if not _looks_like_bounce(sender, display, return_path, subject, text):
        return None
    cut = _COPY_START.search(text)
    report = text[: cut.start()] if cut else text
    found = _STATUS.search(report)
    if found:
        status = ".".join(found.groups())
    else:
        reply = _SMTP_REPLY.search(report)
        status = f"{reply.group(1)}.0.0" if reply else ""
    delayed = _DELAY.search(report) and not status.startswith("5")
    action = "delayed" if delayed else "failed"
    diagnostic = ""
    for line in report.splitlines():
        if _STATUS.search(line) or _SMTP_REPLY.search(line):
            diagnostic = " ".join(line.split())[:200]
            break
    recipients = list(
        dict.fromkeys(
            a.lower()
            for a in _LONE_ADDRESS.findall(report)
            if a.lower() not in own and a.lower() != sender
        )
    )
    return Bounce(
        action=action,
        status=status,
        recipients=recipients,
        original_message_id=_original_id(msg, raw, own_id) or (hints[0] if hints else None),
        diagnostic=diagnostic,
    )
