"""The case status state machine, as plain data (the statuses and their groups:
`statuses.py`)."""

from __future__ import annotations

from atiende.cases.statuses import LABELS_ES, Status

S = Status
ALLOWED: dict[str, frozenset[str]] = {
    S.NEW: frozenset({S.OPEN, S.AWAITING_INFO, S.RESOLVED, S.CANCELLED}),
    S.OPEN: frozenset({S.AWAITING_INFO, S.RESOLVED, S.CANCELLED}),
    S.AWAITING_INFO: frozenset({S.OPEN, S.RESOLVED, S.CANCELLED}),
    S.RESOLVED: frozenset({S.OPEN, S.CLOSED}),  # resolved -> open is a reopening
    S.CLOSED: frozenset(),
    S.CANCELLED: frozenset(),
}


def can_move(current: str, target: str) -> bool:
    return target in ALLOWED.get(current, frozenset())


def refusal(current: str, target: str) -> str:
    allowed = sorted(ALLOWED.get(current, ()))
    if not allowed:
        return (
            f"Un caso {LABELS_ES[current].lower()} no puede cambiar de estado "
            f"(se pidió «{LABELS_ES.get(target, target)}»)."
        )
    options = ", ".join(f"«{LABELS_ES[s]}»" for s in allowed)
    return (
        f"No se puede pasar de «{LABELS_ES[current]}» a «{LABELS_ES.get(target, target)}»; "
        f"desde «{LABELS_ES[current]}» se permite: {options}."
    )
