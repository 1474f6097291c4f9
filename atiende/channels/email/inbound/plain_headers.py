"""The sender and the subject of a plain-shaped header, read without the policy's parser.

`policy.default` parses an address header into a full RFC 5322 token tree: a third of a
realistic message's parse, nearly all of it the From header (docs/benchmarks.md, issue 17,
session 18). Most senders write one of a few shapes: `Name <user@host>`, with the name in
plain words and RFC 2047 encoded words, or a bare `user@host`; most subjects are words and
encoded words. For exactly those shapes this module gives what the policy gives (the same
display name and address, the same decoded subject); anything else — quotes, comments,
groups, several addresses, a dot or a backslash in a name, raw 8-bit bytes, an encoded word
that is malformed, uses an unknown charset or does not decode cleanly — returns None and
takes the policy's path, unchanged. `tests/test_plain_headers.py` holds both paths to the
same results, over generated headers and the test corpus.

What the policy does, and this module repeats for those shapes: in a subject, whitespace
between two adjacent encoded words is dropped (RFC 2047 section 6.2) and any other run of
it becomes one space (the caller folds it); in a display name, every run of whitespace
between two words becomes one space, encoded words or not.
"""

from __future__ import annotations

import binascii
import re

# An atom (RFC 5322 atext), an encoded word, an address with a dot-atom local part.
_ATEXT = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]"
_ADDR = rf"{_ATEXT}+(?:\.{_ATEXT}+)*@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*"
_NAMED = re.compile(rf"[ \t]*([^\"<>()\[\],;:\\@.]*?)[ \t]*<({_ADDR})>[ \t]*")
_BARE = re.compile(rf"[ \t]*({_ADDR})[ \t]*")
_ATOM = re.compile(rf"{_ATEXT}+")
_WORD = re.compile(r"=\?([A-Za-z0-9_-]+)\?([QqBb])\?([^?\s]+)\?=")
_Q_TEXT = re.compile(r"(?:[^=]|=[0-9A-Fa-f]{2})*")
_Q_BYTE = re.compile(rb"=([0-9A-Fa-f]{2})")
_CONTROL = re.compile(r"[^\x20-\x7e\t]")


def _unfolded(value: str) -> str | None:
    """The header's value on one line, as the policy reads it; None when it holds anything
    but printable ASCII and whitespace (raw 8-bit bytes arrive as surrogate escapes)."""
    if not value.isascii():
        return None
    value = "".join(value.splitlines())
    return None if _CONTROL.search(value) else value


def _decoded_word(word: str) -> str | None:
    """An encoded word's text, or None when the policy might read it otherwise."""
    m = _WORD.fullmatch(word)
    if m is None:
        return None
    charset, kind, text = m.groups()
    try:
        if kind in "Qq":
            if not _Q_TEXT.fullmatch(text):
                return None
            data = _Q_BYTE.sub(
                lambda h: bytes.fromhex(h.group(1).decode()), text.replace("_", " ").encode()
            )
        else:
            if len(text) % 4:
                return None
            data = binascii.a2b_base64(text.encode(), strict_mode=True)
        decoded = data.decode(charset)
    except (LookupError, ValueError, binascii.Error):
        return None
    if not decoded.isprintable() or "\ufffd" in decoded:
        return None
    return decoded


def mailbox(value: str) -> tuple[str, str] | None:
    """(display name, address) of a From-like header holding one plain-shaped mailbox, as
    the policy's `addresses[0]` gives them (the address not yet lowercased); None: ask
    the policy."""
    line = _unfolded(value)
    if line is None:
        return None
    bare = _BARE.fullmatch(line)
    if bare is not None:
        return "", bare.group(1)
    named = _NAMED.fullmatch(line)
    if named is None:
        return None
    phrase, address = named.groups()
    out: list[str] = []
    for word in phrase.split():
        if word.startswith("=?"):
            text = _decoded_word(word)
            if text is None or text != " ".join(text.split()):
                return None  # the policy folds whitespace inside a name its own way
            out.append(text)
        elif "=?" in word or not _ATOM.fullmatch(word):
            return None
        else:
            out.append(word)
    return " ".join(out), address


def unstructured(value: str) -> str | None:
    """A Subject-like header's text with its encoded words decoded, whitespace folded to
    single spaces (as `decoding.header` gives it); None: ask the policy."""
    line = _unfolded(value)
    if line is None:
        return None
    if "=?" not in line:
        return " ".join(line.split())
    pieces: list[str] = []
    last_encoded = False
    for word in line.split():
        encoded = word.startswith("=?")
        text = _decoded_word(word) if encoded else word
        if text is None or (not encoded and "=?" in word):
            return None
        if pieces and not (encoded and last_encoded):  # adjacent encoded words join
            pieces.append(" ")
        pieces.append(text)
        last_encoded = encoded
    return " ".join("".join(pieces).split())
