"""Snapshots of the configuration tables, to compare database states in tests."""

from __future__ import annotations

from atiende.accounts.models import SupportGroup
from atiende.configuration.models import Setting
from atiende.directory.models import Channel
from atiende.escalations.models import EscalationLevel
from atiende.sla.models import Schedule, SlaTarget

MODELS = {
    "groups": (SupportGroup, ("slug",), ["slug", "name", "email"]),
    "schedules": (Schedule, ("slug",), None),
    "sla_targets": (
        SlaTarget,
        ("type", "priority"),
        ["type", "priority", "first_response_seconds", "resolution_seconds", "schedule__slug"],
    ),
    "channels": (Channel, ("slug",), None),
    "escalation_levels": (EscalationLevel, ("number",), None),
    "settings": (Setting, ("key",), ["key", "value"]),
}


def config_state() -> dict[str, list[dict]]:
    """Every configuration row, without database ids (foreign keys by slug)."""
    state = {}
    for name, (model, order, fields) in MODELS.items():
        if fields is None:
            fields = [
                f.name
                for f in model._meta.concrete_fields
                if not f.primary_key and not f.is_relation
            ]
            if model is EscalationLevel:
                fields.append("group__slug")
        state[name] = list(model.objects.order_by(*order).values(*fields))
    return state


def config_ids() -> dict[str, list[int]]:
    return {
        name: sorted(model.objects.values_list("pk", flat=True))
        for name, (model, _, _) in MODELS.items()
    }


def empty_configuration() -> None:
    """Remove every configuration row (tests only: the loader itself never deletes)."""
    EscalationLevel.objects.all().delete()
    Channel.objects.all().delete()
    SlaTarget.objects.all().delete()
    Schedule.objects.all().delete()
    SupportGroup.objects.all().delete()
    Setting.objects.all().delete()
