"""Decoding: charsets the way browsers read them, headers (raw 8-bit ones too), addresses and
Message-IDs, a part's text. Never raises on bad encodings."""

from __future__ import annotations

import codecs
import contextlib
import email
import email.header
import email.policy
import email.utils
import functools
import re
from email.message import Message

from atiende.channels.email.inbound import plain_headers

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


def header(msg: Message, name: str, raw: RawHeaders | None = None) -> str:
    """The header's text, decoded, its whitespace folded; "" when it is missing. With the
    message's `raw` headers, a plain-shaped one is read without the policy's parser."""
    if raw is not None:
        value = raw.values.get(name.lower())
        if value is None:
            return ""
        text = plain_headers.unstructured(value)
        if text is not None:
            return text
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


def _addresses(msg: Message, name: str, raw: RawHeaders | None = None) -> list[tuple[str, str]]:
    if raw is not None:
        value = raw.values.get(name.lower())
        if value is None:
            return []
        mailbox = plain_headers.mailbox(value)
        if mailbox is not None:
            return [(mailbox[0], mailbox[1].strip().lower())]
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


def message_ids(value: str | None) -> list[str]:
    return [i[:MAX_ID] for i in _IDS.findall(value or "")]


def decoded_payload(part: Message) -> bytes | None:
    """The part's body with its transfer encoding undone, or None when it has no such body
    or the encoding is beyond repair."""
    try:
        data = part.get_payload(decode=True)
    except Exception:
        return None
    return data if isinstance(data, bytes) else None


def part_text(part: Message) -> str:
    data = decoded_payload(part)
    if data is None:
        payload = part.get_payload()
        return payload if isinstance(payload, str) else ""
    return decode_bytes(data, part.get_content_charset())
