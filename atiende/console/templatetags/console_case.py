"""Template helpers of the case page: labels of the domain's values, words for the audit
trail's events, file sizes, image previews."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.translation import gettext as _

from atiende.cases.models import CaseType, Classification, Delivery, Priority, Status
from atiende.escalations.models import Via

register = template.Library()

LABELS: dict[str, dict[str, str]] = {
    "status": dict(Status.choices),
    "type": dict(CaseType.choices),
    "priority": dict(Priority.choices),
    "classification": dict(Classification.choices),
    "delivery": {**dict(Delivery.choices), "pending": "En cola"},
    "via": dict(Via.choices),
    "kind": {
        "email": "Correo electrónico",
        "whatsapp": "WhatsApp",
        "portal": "Portal",
        "phone": "Teléfono",
        "api": "API",
        "internal": "Interno",
    },
}

FIELD_LABELS = {
    "status": "Estado",
    "type": "Tipo",
    "priority": "Prioridad",
    "classification": "Etiquetado",
    "subject": "Asunto",
    "description": "Descripción",
    "assignee": "Asignado a",
    "group": "Grupo",
    "level": "Nivel",
    "channel": "Canal",
    "visibility": "Visibilidad",
    "template": "Plantilla",
    "error": "Error",
}

# Bookkeeping the audit trail keeps and the page does not need to repeat (the SLA card
# shows the clocks; the header shows the organization and the contact).
QUIET_FIELDS = frozenset(
    {
        "number",
        "organization",
        "requester",
        "sla_schedule",
        "sla_started_at",
        "met_at",
        "breached",
        "timer",
        "kind",
    }
)


def _quiet(field: str) -> bool:
    return field in QUIET_FIELDS or field.endswith("_due")


EVENT_TITLES = {
    "case.created": "Caso creado",
    "case.status_changed": "Cambio de estado",
    "case.reopened": "Caso reabierto",
    "case.updated": "Datos del caso cambiados",
    "case.assignee_changed": "Asignación",
    "case.group_changed": "Grupo",
    "case.level_changed": "Cambio de nivel de escalamiento",
    "sla.paused": "ANS en pausa",
    "sla.resumed": "ANS reanudado",
    "sla.breached": "ANS incumplido",
    "sla.at_risk": "ANS en riesgo",
    "sla.retargeted": "Objetivos de ANS recalculados",
    "sla.first_response_met": "Primera respuesta cumplida",
    "sla.level_target_started": "Objetivo de primera respuesta del nuevo nivel",
    "escalation.requested": "Escalamiento solicitado",
    "escalation.accepted": "Escalamiento aceptado",
    "escalation.rejected": "Escalamiento rechazado",
    "escalation.reminded": "Recordatorio de escalamiento",
    "note.confirmed": "Nota de remitente no verificado confirmada",
    "note.sent_as_template": "Enviada como plantilla de WhatsApp",
    "call.attached": "Llamada vinculada",
}


@register.filter
def label(value: Any, kind: str) -> str:
    if value is None or value == "":
        return "—"
    return _(LABELS.get(kind, {}).get(str(value), str(value)))


@register.filter
def event_title(action: str) -> str:
    return _(EVENT_TITLES.get(action, action))


def _value(field: str, value: Any) -> str:
    if value is None or value == "":
        return "—"
    if field in LABELS:
        return label(value, field)
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return str(value)


@register.filter
def event_changes(changes: Any) -> list[str]:
    """The audit entry's changes as short lines: «Estado: Abierto → Resuelto»."""
    if not isinstance(changes, dict):
        return []
    lines = []
    for field, change in changes.items():
        if _quiet(field):
            continue
        name = _(FIELD_LABELS.get(field, field.replace("_", " ")))
        if isinstance(change, list) and len(change) == 2:
            old, new = change
            if old is None:
                lines.append(f"{name}: {_value(field, new)}")
            else:
                lines.append(f"{name}: {_value(field, old)} → {_value(field, new)}")
        elif field == "reason" and change:
            lines.append(f"{_('Motivo')}: {change}")
        elif change not in (None, "", [], {}):
            lines.append(f"{name}: {_value(field, change)}")
    return lines


@register.filter
def filesize(size: int) -> str:
    size = int(size or 0)
    if size < 1024:
        return f"{size} B"
    if size < 1024 * 1024:
        return f"{size / 1024:.0f} KB"
    return f"{size / (1024 * 1024):.1f} MB"


PREVIEWABLE = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp"})


@register.filter
def is_image(attachment: Any) -> bool:
    return (attachment.content_type or "").split(";")[0].strip().lower() in PREVIEWABLE


@register.filter
def tel(number: str) -> str:
    """A `tel:` URI: the E.164 number without spaces."""
    return "tel:" + "".join(ch for ch in number or "" if ch.isdigit() or ch == "+")


@register.filter
def wa_link(number: str) -> str:
    return "https://wa.me/" + "".join(ch for ch in number or "" if ch.isdigit())


@register.filter
def item(mapping: Any, key: Any) -> Any:
    return mapping.get(key) if hasattr(mapping, "get") else None
