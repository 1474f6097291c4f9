"""Site-wide values loaded from the configuration (case policy, classification, editable
texts), with their defaults."""

from __future__ import annotations

from typing import Any

DEFAULTS: dict[str, Any] = {
    "classification": "public",
    "cases.auto_close_after_days": 7,
    "cases.reopen_within_days": 7,
    "cases.default_type": "request",
    "cases.default_priority": "moderate",
    "organization.name": "Mesa de ayuda",
    # Business minutes (on the case's SLA schedule) before an undecided escalation request
    # reminds its verifier, and between reminders.
    "escalations.reminder_after_minutes": 60,
    # Editable texts (`texts:` in the configuration file). A key must be listed here to be
    # accepted by the loader, so a typo in the file is refused instead of silently unused.
    "texts.canales.title": "Canales de atención",
    "texts.canales.intro": "",
    "texts.canales.section.phone": "Atención telefónica",
    "texts.canales.section.email": "Atención por correo electrónico",
    "texts.canales.section.whatsapp": "Atención por WhatsApp",
    "texts.canales.section.portal": "Atención portal",
    "texts.canales.section.api": "Atención por API",
    "texts.canales.section.internal": "Atención interna",
    "texts.canales.address.phone": "Número",
    "texts.canales.address.email": "Correo electrónico",
    "texts.canales.address.whatsapp": "Enlace",
    "texts.canales.address.portal": "URL",
    "texts.canales.address.api": "Dirección",
    "texts.canales.address.internal": "Dirección",
    "texts.canales.hours.phone": "Horarios de atención",
    "texts.canales.hours.email": "Horarios de recepción de solicitudes",
    "texts.canales.hours.whatsapp": "Horario",
    "texts.canales.hours.portal": "Horario",
    "texts.canales.hours.api": "Horario",
    "texts.canales.hours.internal": "Horario",
    "texts.escalation.title": "Niveles de escalamiento",
    "texts.escalation.intro": "",
    "texts.escalation.rule": "",
}

CLASSIFICATION_LABELS = {
    "public": "Público",
    "internal": "Uso interno",
    "confidential": "Confidencial",
}


_model: Any = None
_snapshot: Any = None


def use_model(model: Any) -> None:
    """The model whose rows (key, value) hold the stored values: the configuration app
    hands over its `Setting` when it is ready, so this module imports no app (the rows
    keep their table, admin pages and audit labels where the configuration loads them)."""
    global _model, _snapshot
    _model, _snapshot = model, None


def _values() -> dict[str, Any]:
    """Every stored value, from a per-process snapshot (see core.snapshot): case creation
    reads several of them and they change only when the configuration is loaded."""
    global _snapshot
    if _snapshot is None:
        from atiende.core.snapshot import Snapshot

        if _model is None:
            raise RuntimeError("site settings read before the configuration app was ready")
        model = _model
        _snapshot = Snapshot(lambda: dict(model.objects.values_list("key", "value")), watch=[model])
    return _snapshot.get()


def get(key: str) -> Any:
    value = _values().get(key)
    return DEFAULTS.get(key) if value is None else value
