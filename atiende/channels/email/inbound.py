"""RFC 5322 bytes → `InboundMessage`: pure, no database, no clock.

Parsing never crashes on bad encodings: charsets are decoded the way browsers do
(ISO-8859-1 and US-ASCII labels mean Windows-1252, and valid UTF-8 wins over a wrong
label), undecodable bytes are replaced. Only a message with no sender address at all, or
one the stdlib parser cannot walk, raises `Unparseable` (the caller quarantines it).
"""

from __future__ import annotations

import codecs
import contextlib
import dataclasses
import datetime as dt
import email
import email.header
import email.policy
import email.utils
import functools
import hashlib
import html
import mimetypes
import re
from dataclasses import dataclass, field
from email.message import EmailMessage, Message
from urllib.parse import unquote

import nh3

from atiende.cases import numbers
from atiende.channels.messages import InboundAttachment, InboundMessage

MAX_ID = 255
_IDS = re.compile(r"<[^<>\s]+>")
# Labels that in practice carry Windows-1252 (WHATWG Encoding Standard).
_CP1252_LABELS = {
    "iso-8859-1",
    "iso8859-1",
    "iso_8859-1",
    "latin1",
    "latin-1",
    "l1",
    "cp819",
    "us-ascii",
    "ascii",
    "ansi_x3.4-1968",
    "windows-1252",
    "cp1252",
    "x-cp1252",
}
_NO_REPLY_SENDER = re.compile(
    r"^(mailer-daemon|postmaster|no-?reply|do-?not-?reply|bounces?)([+\-.].*)?$", re.IGNORECASE
)


class _Policy(email.policy.EmailPolicy):
    """`policy.default`, remembering parsed headers: the stdlib parses Content-Type again
    on every get_content_type()/get_param() call, some twenty times per message."""

    def header_fetch_parse(self, name, value):
        if hasattr(value, "name") or len(value) > 2000:
            return super().header_fetch_parse(name, value)
        return _parsed_header(self, name, value)


@functools.lru_cache(maxsize=4096)
def _parsed_header(policy: email.policy.EmailPolicy, name: str, value: str):
    return email.policy.EmailPolicy.header_fetch_parse(policy, name, value)


POLICY = _Policy()


class Unparseable(Exception):
    """The message cannot be turned into a note; keep its bytes in quarantine."""


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


# -- decoding -------------------------------------------------------------------------


def _cp1252_fallback(exc: UnicodeError) -> tuple[str, int]:
    """Bytes that are not UTF-8 inside otherwise UTF-8 text: read them as Windows-1252."""
    if not isinstance(exc, UnicodeDecodeError):
        raise exc
    bad = exc.object[exc.start : exc.end]
    return bad.decode("cp1252", errors="replace"), exc.end


codecs.register_error("atiende-cp1252", _cp1252_fallback)


def _utf8_or_cp1252(data: bytes) -> str:
    return data.decode("utf-8", errors="atiende-cp1252")


def decode_bytes(data: bytes, label: str | None) -> str:
    """Decode text the way a mail reader should: never raise, prefer what the bytes are."""
    label = (label or "").strip().strip('"').lower()
    if label in _CP1252_LABELS or not label:
        try:
            return data.decode("utf-8")  # pure ASCII, or UTF-8 sent with a wrong label
        except UnicodeDecodeError:
            return data.decode("cp1252", errors="replace")
    try:
        codecs.lookup(label)
    except LookupError:  # unknown-8bit, x-unknown, typos: UTF-8 where it is, cp1252 elsewhere
        return _utf8_or_cp1252(data)
    try:
        return data.decode(label)
    except UnicodeDecodeError:
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            return data.decode(label, errors="replace")


def _fix_surrogates(value: str) -> str:
    """Raw 8-bit header bytes arrive as surrogate escapes; decode them as UTF-8 or cp1252."""
    if not any("\udc80" <= ch <= "\udcff" for ch in value):
        return value
    return _utf8_or_cp1252(value.encode("utf-8", "surrogateescape"))


def _raw_header(msg: Message, name: str) -> str | None:
    """The header as it came (8-bit bytes kept as surrogate escapes), decoded by hand."""
    for key, value in msg.raw_items():
        if key.lower() == name.lower():
            text = _fix_surrogates(str(value))
            if "=?" in text:
                with contextlib.suppress(Exception):
                    text = str(email.header.make_header(email.header.decode_header(text)))
            return text
    return None


class RawHeaders:
    """Headers that need no RFC 2047 decoding (ids, dates, flags), read once and unparsed:
    the policy's header classes are the costliest part of parsing a message."""

    def __init__(self, msg: Message) -> None:
        self.values: dict[str, str] = {}
        for key, value in msg.raw_items():
            self.values.setdefault(key.lower(), str(value))

    def __contains__(self, name: str) -> bool:
        return name.lower() in self.values

    def get(self, name: str) -> str:
        value = self.values.get(name.lower())
        return " ".join(_fix_surrogates(value).split()) if value else ""


def header(msg: Message, name: str) -> str:
    try:
        value = msg.get(name)
    except Exception:  # a header the policy cannot parse (e.g. an encoded line break in
        # a display name): its raw text, read without the policy's parser
        value = _raw_header(msg, name)
    if value is None:
        return ""
    try:
        text = str(value)
    except Exception:
        text = _raw_header(msg, name) or ""
    if "\ufffd" in text:  # raw 8-bit bytes the policy gave up on
        text = _raw_header(msg, name) or text
    return " ".join(_fix_surrogates(text).split())


def _addresses(msg: Message, name: str) -> list[tuple[str, str]]:
    try:
        value = msg.get(name)
        addrs = getattr(value, "addresses", None)
        if addrs is not None:
            return [
                (_fix_surrogates(a.display_name or ""), (a.addr_spec or "").strip().lower())
                for a in addrs
                if a.addr_spec and "@" in a.addr_spec
            ]
    except Exception:
        pass
    return [
        (" ".join(_fix_surrogates(n).split()), a.strip().lower())
        for n, a in email.utils.getaddresses([header(msg, name)])
        if "@" in a
    ]


def message_ids(value: str) -> list[str]:
    return [i[:MAX_ID] for i in _IDS.findall(value or "")]


def part_text(part: Message) -> str:
    try:
        data = part.get_payload(decode=True)
    except Exception:
        data = None
    if data is None:
        payload = part.get_payload()
        return payload if isinstance(payload, str) else ""
    return decode_bytes(data, part.get_content_charset())


# -- bodies ---------------------------------------------------------------------------

_QUOTE_HEADS = [
    re.compile(r"^\s*(El|On)\s.{3,200}(escribió|wrote)\s*:\s*$", re.IGNORECASE | re.DOTALL),
    re.compile(
        r"^\s*-{2,}\s*(Mensaje original|Original Message|Forwarded message|Mensaje reenviado)\s*-{2,}",
        re.IGNORECASE,
    ),
    re.compile(r"^\s*_{10,}\s*$"),  # Outlook's rule above the quoted headers
]
_OUTLOOK_HEADER = re.compile(r"^\s*\*?(De|From)\s*:\*?\s", re.IGNORECASE)
_OUTLOOK_NEXT = re.compile(r"^\s*\*?(Enviado(\s+el)?|Sent|Fecha|Date|Para|To)\s*:", re.IGNORECASE)


def trim_quoted(text: str) -> str:
    """Cut the quoted history of a reply (Gmail, Outlook, Apple Mail styles); the whole
    message stays in the .eml attachment."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    cut = len(lines)
    for i, line in enumerate(lines):
        joined = " ".join(
            x.strip() for x in lines[i : i + 3]
        )  # Gmail wraps long "El ... escribió:"
        if any(p.match(line) for p in _QUOTE_HEADS[1:]) or (
            _QUOTE_HEADS[0].match(line)
            or (
                re.match(r"^\s*(El|On)\s", line)
                and _QUOTE_HEADS[0].match(joined)
                and not line.strip().endswith(".")
            )
        ):
            cut = i
            break
        if _OUTLOOK_HEADER.match(line) and any(
            _OUTLOOK_NEXT.match(x) for x in lines[i + 1 : i + 4]
        ):
            cut = i
            break
    kept = lines[:cut]
    while kept and (kept[-1].strip().startswith(">") or not kept[-1].strip()):
        kept.pop()  # a bottom-quoted tail
    result = "\n".join(kept).strip()
    return result or text.strip()


_ALLOWED_SCHEMES = {"http", "https", "mailto", "cid"}
# The one same-site image source we allow: a case attachment's download URL, which
# `link_inline_images` puts where the message said `cid:`. Any other relative URL is
# dropped, so a sender cannot make an agent's browser request our own pages.
_ATTACHMENT_URL = re.compile(rf"^/api/v1/cases/{numbers.PATTERN}/attachments/\d+/download$")


def _keep_attribute(element: str, attribute: str, value: str) -> str | None:
    if element == "img" and attribute == "src":
        if value.lower().startswith("cid:") or _ATTACHMENT_URL.match(value):
            return value
        return None  # remote images are trackers until an agent asks for them
    return value


def sanitize_html(value: str) -> str:
    return nh3.clean(
        value,
        url_schemes=_ALLOWED_SCHEMES,
        strip_comments=True,
        attribute_filter=_keep_attribute,
        link_rel="noopener noreferrer",
    )


_IMG = re.compile(r"""<img\b(?:[^>"']|"[^"]*"|'[^']*')*>""", re.IGNORECASE)
_CID_SRC = re.compile(r'\ssrc="cid:([^"]*)"', re.IGNORECASE)
_ALT = re.compile(r'\salt="([^"]*)"', re.IGNORECASE)


def content_id(value: str) -> str:
    """A Content-ID header or a `cid:` URL (RFC 2392: percent-encoded) as one comparable key."""
    value = unquote(html.unescape(value or "")).strip()
    if value.lower().startswith("cid:"):
        value = value[4:]
    return value.strip().strip("<>").strip()


def link_inline_images(body_html: str, urls: dict[str, str]) -> str:
    """Point `cid:` images at their stored attachments (`urls`: Content-ID → download URL).
    An image whose part we did not keep becomes a short text placeholder, never a request
    anywhere. Works on `sanitize_html` output and sanitises the result again."""
    if "cid:" not in body_html.lower():
        return body_html

    def one(match: re.Match) -> str:
        tag = match.group(0)
        src = _CID_SRC.search(tag)
        if src is None:
            return tag
        url = urls.get(content_id(src.group(1)))
        if url:
            return tag.replace(src.group(0), f' src="{html.escape(url)}"')
        alt = _ALT.search(tag)
        label = html.unescape(alt.group(1)).strip() if alt else ""
        text = f"[imagen no disponible: {label}]" if label else "[imagen no disponible]"
        return f"<span>{html.escape(text)}</span>"

    return sanitize_html(_IMG.sub(one, body_html))


_BLOCK_END = re.compile(r"(?i)<\s*(br\s*/?|/p|/div|/tr|/li|/h[1-6]|/table|/blockquote)\s*>")


def html_to_text(value: str) -> str:
    value = re.sub(r"(?is)<(style|script|head)[^>]*>.*?</\1\s*>", "", value)
    value = _BLOCK_END.sub("\n", value)
    text = html.unescape(nh3.clean(value, tags=set(), strip_comments=True))
    lines = [" ".join(line.split()) for line in text.split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


# -- structure ------------------------------------------------------------------------


def _leaves(part: Message):
    """Leaf parts, not descending into attached messages (message/rfc822 is one attachment)."""
    if part.get_content_type() == "message/rfc822" or not part.is_multipart():
        yield part
        return
    payload = part.get_payload()
    for sub in payload if isinstance(payload, list) else []:
        yield from _leaves(sub)


def _is_attachment(part: Message) -> bool:
    disposition = (part.get_content_disposition() or "").lower()
    if disposition == "attachment":
        return True
    return not (part.get_content_type() in ("text/plain", "text/html") and not part.get_filename())


def _filename(part: Message, n: int) -> str:
    name = None
    try:
        name = part.get_filename() or part.get_param("name")
    except Exception:
        name = None
    if isinstance(name, tuple):  # RFC 2231 triple under some policies
        name = email.utils.collapse_rfc2231_value(name)
    if name:
        name = _fix_surrogates(str(name))
        if "=?" in name:  # encoded-word inside quotes: legal nowhere, common everywhere
            with contextlib.suppress(Exception):
                name = str(email.header.make_header(email.header.decode_header(name)))
    if name:
        return name
    ctype = part.get_content_type()
    ext = ".eml" if ctype == "message/rfc822" else (mimetypes.guess_extension(ctype) or ".bin")
    return f"adjunto-{n}{ext}"


def _content(part: Message) -> bytes:
    if part.get_content_type() == "message/rfc822":
        inner = part.get_payload()
        inner = inner[0] if isinstance(inner, list) and inner else inner
        try:
            return inner.as_bytes() if isinstance(inner, Message) else b""
        except Exception:
            return str(inner).encode("utf-8", "replace")
    try:
        data = part.get_payload(decode=True)
    except Exception:
        data = None
    if data is None:
        payload = part.get_payload()
        data = payload.encode("utf-8", "surrogateescape") if isinstance(payload, str) else b""
    return data


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


def _no_auto_reply(
    msg: Message, raw: RawHeaders, sender: str, return_path: str | None, own: set[str]
) -> str | None:
    auto = raw.get("Auto-Submitted").lower()
    if auto and auto.split(";")[0].strip() != "no":
        return f"Auto-Submitted: {auto}"
    precedence = raw.get("Precedence").lower()
    if precedence in ("bulk", "list", "junk"):
        return f"Precedence: {precedence}"
    for name in ("List-Id", "List-Unsubscribe", "List-Post"):
        if name in raw:
            return f"lista de correo ({name})"
    suppress = raw.get("X-Auto-Response-Suppress").lower()
    if any(word in suppress for word in ("all", "autoreply", "oof")):
        return f"X-Auto-Response-Suppress: {suppress}"
    if return_path == "":
        return "remitente de sobre vacío (<>)"
    if _NO_REPLY_SENDER.match(sender.split("@", 1)[0]):
        return f"remitente automático ({sender})"
    if msg.get_content_type() == "multipart/report":
        return "informe de entrega"
    if sender in own:
        return f"remitente propio ({sender})"
    if raw.get("X-Loop").lower() in own:
        return "bucle (X-Loop)"
    return None


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


_COMMENT = re.compile(r"\([^()]*\)")


def _without_comments(value: str) -> str:
    for _ in range(5):  # comments nest; a handful of levels is plenty
        stripped = _COMMENT.sub(" ", value)
        if stripped == value:
            break
        value = stripped
    return value


def dmarc_passed(msg: Message, sender: str, trusted: set[str] | frozenset[str]) -> bool:
    """Whether the receiving MTA vouches for the From: address (RFC 8601 + RFC 7489).

    Only an `Authentication-Results` header whose authserv-id (its first word) is one of
    `trusted` counts — any sender can write such headers, with any id, into their mail —
    and of those the topmost, the one our MTA added last. It must say `dmarc=pass` and,
    when it names `header.from`, the From: address's domain. The MTA must remove headers
    with its own id from incoming mail (RFC 8601 section 5), as OpenDMARC, rspamd and
    Exchange Online do."""
    if not trusted:
        return False
    domain = sender.rsplit("@", 1)[-1].lower()
    for key, value in msg.raw_items():
        if key.lower() != "authentication-results":
            continue
        parts = [p.strip() for p in _without_comments(str(value)).split(";")]
        words = parts[0].split()
        if not words or words[0].lower().rstrip(".") not in trusted:
            continue  # someone else's header: ignore it
        for resinfo in parts[1:]:
            tokens = resinfo.split()
            if not tokens or "=" not in tokens[0]:
                continue
            method, _, result = tokens[0].partition("=")
            if method.strip().lower() != "dmarc" or result.strip().lower() != "pass":
                continue
            props = dict(t.lower().partition("=")[::2] for t in tokens[1:] if "=" in t)
            if props.get("header.from", domain).strip('"') == domain:
                return True
        return False  # the topmost trusted header decides
    return False


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
        msg: EmailMessage = email.message_from_bytes(raw, policy=POLICY)  # type: ignore[assignment]
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
    senders = _addresses(msg, "From") or _addresses(msg, "Sender") or _addresses(msg, "Reply-To")
    if not senders:
        raise Unparseable("El mensaje no tiene una dirección de remitente legible (From).")
    name, sender = senders[0]
    raw_headers = RawHeaders(msg)
    subject = header(msg, "Subject")
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
