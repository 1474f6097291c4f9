"""Text that ends up in a header line (an email subject, a display name)."""

from __future__ import annotations

import re
from collections.abc import Mapping

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


# -- editable texts -------------------------------------------------------------------------


def fill(template: str, /, **values: object) -> str:
    """`template` with each `{name}` of `values` replaced by the value. Any other brace is
    left as written, so a text an admin edited never breaks the message it is part of."""
    for name, value in values.items():
        template = template.replace("{" + name + "}", str(value))
    return template


def text(
    key: str,
    /,
    *,
    custom: str | None = None,
    defaults: Mapping[str, str] | None = None,
    **values: object,
) -> str:
    """The one text-template helper: the wording of the editable text `key` — the `custom`
    wording an admin configured (a site text `texts.<key>`, a channel's `text_<key>`) when
    there is one, else `defaults[key]` (else "") — filled with `values`. Callers look the
    custom wording up where it is kept (`configuration.selectors.text`,
    `cases.acknowledgements.text`, `channels.whatsapp.actions.text`)."""
    if custom:
        template = custom
    elif defaults is not None:
        template = defaults[key]
    else:
        template = ""
    return fill(template, **values)
