"""Read site-wide values loaded from the configuration, with their defaults."""

from __future__ import annotations

from typing import Any

DEFAULTS: dict[str, Any] = {
    "classification": "public",
    "cases.auto_close_after_days": 7,
    "cases.reopen_within_days": 7,
    "cases.default_type": "request",
    "cases.default_priority": "moderate",
    "organization.name": "Mesa de ayuda",
}

CLASSIFICATION_LABELS = {"public": "Público", "internal": "Uso interno", "confidential": "Confidencial"}


def get(key: str) -> Any:
    from atiende.configuration.models import Setting

    row = Setting.objects.filter(key=key).values_list("value", flat=True).first()
    return DEFAULTS.get(key) if row is None else row
