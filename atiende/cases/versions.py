"""The stale-page guard: a change made on a page that shows an older state of the case is
refused instead of silently overwriting what someone else did meanwhile (no lost update).

A page renders `version_of(case)` into its forms (a hidden field named `version`); the
service that applies the change receives it as `expected_version=` and calls `check`
on the case row it has locked. Every change of a case moves `Case.updated_at` (fields,
status, level, notes), so the token is that instant in microseconds: cheap, no extra
column, and the same on SQLite and PostgreSQL.
"""

from __future__ import annotations

import datetime as dt

from atiende.core.errors import DomainError

_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


class StaleChange(DomainError):
    status = 409
    code = "stale"


def version_of(case) -> str:
    """The token a form carries: the case's last change, in microseconds since 1970."""
    return str((case.updated_at - _EPOCH) // dt.timedelta(microseconds=1))


def check(case, expected: str | None) -> None:
    """Refuse the change when the (locked, current) case moved since the page was drawn.
    `expected=None` (the API, channels, the system) does not ask for the check."""
    if expected is None:
        return
    if str(expected).strip() != version_of(case):
        raise StaleChange(
            f"El caso {case.number} cambió desde que abrió esta página (otra persona lo "
            "actualizó o llegó un mensaje). Recargue la página para ver lo nuevo y vuelva a "
            "intentarlo; su cambio no se aplicó.",
            number=case.number,
            version=version_of(case),
        )
