"""Parts: the leaves of a message's structure, which of them are attachments, their names
and their bytes."""

from __future__ import annotations

import contextlib
import email
import email.header
import email.policy
import email.utils
import mimetypes
from email.message import Message

from atiende.channels.email.inbound.decoding import _fix_surrogates


def _leaves(part: Message):
    """Leaf parts, not descending into attached messages (message/rfc822 is one attachment)."""
    if part.get_content_type() == "message/rfc822" or not part.is_multipart():
        yield part
        return
    payload = part.get_payload()
    for sub in payload if isinstance(payload, list) else []:
        if isinstance(sub, Message):
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
    assert isinstance(data, bytes)
    return data
