"""The case status state machine, as plain data."""

from __future__ import annotations

ALLOWED: dict[str, frozenset[str]] = {
    "new": frozenset({"open", "awaiting_info", "resolved", "cancelled"}),
    "open": frozenset({"awaiting_info", "resolved", "cancelled"}),
    "awaiting_info": frozenset({"open", "resolved", "cancelled"}),
    "resolved": frozenset({"open", "closed"}),  # resolved -> open is a reopening
    "closed": frozenset(),
    "cancelled": frozenset(),
}

FINAL = frozenset({"closed", "cancelled"})
ACTIVE = frozenset({"new", "open", "awaiting_info"})

LABELS_ES = {
    "new": "Nuevo",
    "open": "Abierto",
    "awaiting_info": "En espera de información",
    "resolved": "Resuelto",
    "closed": "Cerrado",
    "cancelled": "Cancelado",
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
