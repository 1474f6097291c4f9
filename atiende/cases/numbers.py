"""Case numbers — `CS` + 7 digits — in one place: formatting, and finding one in text.

Plain data and functions, no models: channel adapters, the API and the pages use it too.
"""

from __future__ import annotations

import re

PREFIX = "CS"
DIGITS = 7
# For building other patterns (a URL, a route) around a case number.
PATTERN = rf"{PREFIX}\d{{{DIGITS}}}"

_IN_TEXT = re.compile(rf"\b{PATTERN}\b", re.IGNORECASE)
# A subject's tag is written by people and mail clients too: "[CS0000123]", "CS 0000123",
# "cs#0000123", "CS-0000123".
_TAG = re.compile(rf"\b{PREFIX}[\s#:-]*(\d{{{DIGITS}}})\b", re.IGNORECASE)


def format_number(value: int) -> str:
    """1 -> 'CS0000001'."""
    return f"{PREFIX}{value:0{DIGITS}d}"


def find_in_text(text: str | None) -> str | None:
    """The first case number written as one word in `text` ('CS0000123', any case)."""
    match = _IN_TEXT.search(text or "")
    return match.group(0).upper() if match else None


def find_tag(subject: str | None) -> str | None:
    """The case number tagged in an email subject, however loosely it is written."""
    match = _TAG.search(subject or "")
    return format_number(int(match.group(1))) if match else None


def normalise(number: str | None) -> str:
    """A number as typed ('cs0000123 ') as it is stored ('CS0000123')."""
    return (number or "").strip().upper()


def looks_like(text: str) -> bool:
    """Whether a search term may be a case number (it starts with the prefix)."""
    return text.upper().startswith(PREFIX)
