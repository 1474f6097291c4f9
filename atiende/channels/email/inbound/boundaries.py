"""Multipart boundaries matched without compiling a regular expression for each one.

The stdlib's feed parser compiles, for every multipart part it meets, a pattern of the
form `(?P<sep>--BOUNDARY)(?P<end>--)?(?P<ws>[ \\t]*)(?P<linesep>\\r\\n|\\r|\\n)?$`. Every
message has its own boundary, so each is a cache miss and a compile of the escaped
boundary, character by character: about a fifth of a realistic message's cold parse after
the plain headers (docs/benchmarks.md, issue 17, session 18).

`install` gives the feed parser a view of the `re` module whose `compile` recognises
exactly that form and returns a matcher that checks the literal boundary with
`str.startswith` and the rest with one pattern compiled once: the same matches, the same
`end`, `ws` and `linesep` groups. Any other pattern, or a form a later Python writes
differently, goes to `re.compile` as before (`tests/test_boundaries.py` checks the form is
still recognised, so a change shows, and compares the two on generated lines).
"""

from __future__ import annotations

import re
import types
from email import feedparser
from typing import Any

_PREFIX = "(?P<sep>"
_SUFFIX = r")(?P<end>--)?(?P<ws>[ \t]*)(?P<linesep>\r\n|\r|\n)?$"
_TAIL = re.compile(r"(?P<end>--)?(?P<ws>[ \t]*)(?P<linesep>\r\n|\r|\n)?$")
_ESCAPED = re.compile(r"\\(.)", re.DOTALL)


class Boundary:
    """What the feed parser uses of a compiled boundary pattern: `match`."""

    __slots__ = ("pattern", "separator")

    def __init__(self, separator: str, pattern: str) -> None:
        self.separator = separator
        self.pattern = pattern

    def match(self, line: str) -> re.Match[str] | None:
        if not line.startswith(self.separator):
            return None
        return _TAIL.match(line, len(self.separator))


def compile(pattern: Any, flags: int = 0) -> Any:  # stands in for re.compile
    if (
        not flags
        and isinstance(pattern, str)
        and pattern.startswith(_PREFIX)
        and pattern.endswith(_SUFFIX)
    ):
        escaped = pattern[len(_PREFIX) : -len(_SUFFIX)]
        separator = _ESCAPED.sub(r"\1", escaped)
        if re.escape(separator) == escaped:  # exactly what the parser wrote: a literal
            return Boundary(separator, pattern)
    return re.compile(pattern, flags)


def install() -> None:
    """Give `email.feedparser` the `re` with this `compile` (idempotent)."""
    if getattr(vars(feedparser)["re"], "compile", None) is compile:
        return
    view = types.ModuleType("re", "re, with multipart boundaries matched literally")
    view.__dict__.update({k: v for k, v in vars(re).items() if not k.startswith("__")})
    view.compile = compile  # type: ignore[attr-defined]
    setattr(feedparser, "re", view)  # noqa: B010 - the stubs do not name it
