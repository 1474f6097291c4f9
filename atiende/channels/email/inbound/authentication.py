"""Sender authentication: whether the receiving MTA vouches for the From: address (DMARC)."""

from __future__ import annotations

import re
from email.message import Message

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
