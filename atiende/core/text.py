"""Text that ends up in a header line (an email subject, a display name)."""

from __future__ import annotations

import re

# Line breaks in every form Python (and a mail client) may honour, and the other control
# characters: none belongs in a one-line field. A tab is allowed.
LINE_BREAKS = re.compile(r"[\x00-\x08\x0a-\x1f\x7f\x85\u2028\u2029]")


def one_line_problem(value: str | None) -> str | None:
    """A Spanish reason why `value` cannot be a one-line (header-bound) field, or None."""
    if value and LINE_BREAKS.search(value):
        return "Debe ser una sola línea, sin saltos de línea ni caracteres de control."
    return None


def one_line(value: str) -> str:
    """`value` with line breaks and control characters turned into spaces."""
    return LINE_BREAKS.sub(" ", value)
