"""Django admin for the configuration entities. Edits are validated with the loader's
rules (the same messages as for a file) and audited like a configuration load."""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.contrib import admin
from django.db import transaction

from atiende.configuration import loader
from atiende.configuration.models import Setting
from atiende.core import audit
from atiende.directory.models import Channel
from atiende.escalations.models import EscalationLevel
from atiende.sla.models import Schedule, SlaTarget


class AuditedAdmin(admin.ModelAdmin):
    """Every save and delete through the admin leaves an audit entry: who, what, old -> new."""

    audit_entity = ""

    def _fields(self, obj: Any) -> list[str]:
        return [f.name for f in obj._meta.concrete_fields if not f.primary_key]

    def save_model(self, request, obj, form, change):
        fields = self._fields(obj)
        before = {}
        if change:
            before = audit.snapshot(type(obj).objects.get(pk=obj.pk), fields)
        super().save_model(request, obj, form, change)
        if change:
            changes = audit.diff(obj, before, fields)
            if changes:
                audit.record(
                    actor=request.user,
                    action=f"{self.audit_entity}.updated",
                    obj=obj,
                    changes=changes,
                )
        else:
            changes = {name: [None, getattr(obj, name)] for name in fields}
            audit.record(
                actor=request.user, action=f"{self.audit_entity}.created", obj=obj, changes=changes
            )

    def delete_model(self, request, obj):
        fields = self._fields(obj)
        changes = {name: [getattr(obj, name), None] for name in fields}
        audit.record(
            actor=request.user, action=f"{self.audit_entity}.deleted", obj=obj, changes=changes
        )
        super().delete_model(request, obj)

    @transaction.atomic
    def delete_queryset(self, request, queryset):
        for obj in queryset:
            self.delete_model(request, obj)


def _raise_problems(
    form: forms.ModelForm, problems: loader.Problems, fields: dict[str, str]
) -> None:
    """Attach the loader's problems to the form fields they concern."""
    for path, message in problems.found:
        head = re.split(r"[.\[]", path, maxsplit=1)[0]
        name = fields.get(head, head)
        where = path[len(head) :].lstrip(".")
        text = f"{where}: {message}" if where else message
        form.add_error(name if name in form.fields else None, text)


def _present(data: dict, names: tuple[str, ...]) -> dict[str, Any]:
    return {n: data[n] for n in names if data.get(n) not in (None, "")}


class ScheduleForm(forms.ModelForm):
    class Meta:
        model = Schedule
        fields = (
            "slug",
            "name",
            "timezone",
            "always_open",
            "weekly",
            "holiday_country",
            "closed_dates",
            "special_openings",
        )

    def clean(self):
        data = super().clean()
        raw = _present(data, ("slug", "name", "timezone", "holiday_country"))
        raw["always_open"] = bool(data.get("always_open"))
        for name in ("weekly", "closed_dates", "special_openings"):
            if data.get(name):
                raw[name] = data[name]
        problems = loader.Problems("")
        loader.parse_schedule(raw, "", problems)
        _raise_problems(self, problems, {})
        return data


class ChannelForm(forms.ModelForm):
    class Meta:
        model = Channel
        # The same fields the configuration file has, plus the position the file's order gives.
        fields = (*loader.CHANNEL_KEYS, "position")

    def clean(self):
        data = super().clean()
        raw = _present(
            data,
            (
                "slug",
                "kind",
                "name",
                "address",
                "display_address",
                "link",
                "description",
                "attends_label",
            ),
        )
        raw["attends"] = data.get("attends") or "all"
        raw["hours"] = data.get("hours") or []
        raw["settings"] = data.get("settings") or {}
        raw["public"] = bool(data.get("public"))
        raw["active"] = bool(data.get("active"))
        problems = loader.Problems("")
        schedules = set(Schedule.objects.values_list("slug", flat=True))
        spec = loader.parse_channel(raw, "", problems, schedules)
        _raise_problems(self, problems, {})
        if not problems:
            data["address"] = spec["address"]
            data["display_address"] = spec["display_address"]
        return data


class EscalationLevelForm(forms.ModelForm):
    class Meta:
        model = EscalationLevel
        fields = (
            "number",
            "name",
            "title",
            "responsible_name",
            "contacts",
            "group",
            "auto_escalate_on_breach",
        )

    def clean(self):
        data = super().clean()
        problems = loader.Problems("")
        contacts = data.get("contacts") or []
        if not isinstance(contacts, list):
            problems.add("contacts", "expected a list of {kind, value, label}")
        else:
            data["contacts"] = [
                loader.parse_contact(c, f"contacts[{i}]", problems) for i, c in enumerate(contacts)
            ]
        number = data.get("number")
        if number is not None and not 1 <= number <= loader.MAX_LEVELS:
            problems.add("number", f"levels go from 1 to {loader.MAX_LEVELS}")
        _raise_problems(self, problems, {})
        return data


class SlaTargetForm(forms.ModelForm):
    type = forms.ChoiceField(choices=[(t, t) for t in loader.CASE_TYPES], label="Tipo")
    priority = forms.ChoiceField(choices=[(p, p) for p in loader.PRIORITIES], label="Prioridad")

    class Meta:
        model = SlaTarget
        fields = ("type", "priority", "first_response_seconds", "resolution_seconds", "schedule")


@admin.register(Schedule)
class ScheduleAdmin(AuditedAdmin):
    form = ScheduleForm
    audit_entity = "schedule"
    list_display = ("slug", "name", "timezone", "always_open", "holiday_country")
    search_fields = ("slug", "name")


@admin.register(SlaTarget)
class SlaTargetAdmin(AuditedAdmin):
    form = SlaTargetForm
    audit_entity = "sla_target"
    list_display = ("type", "priority", "first_response", "resolution", "schedule")
    list_filter = ("type", "priority")

    @admin.display(description="primera respuesta")
    def first_response(self, obj: SlaTarget) -> str:
        return loader.format_duration(obj.first_response_seconds)

    @admin.display(description="resolución")
    def resolution(self, obj: SlaTarget) -> str:
        return loader.format_duration(obj.resolution_seconds)


@admin.register(Channel)
class ChannelAdmin(AuditedAdmin):
    form = ChannelForm
    audit_entity = "channel"
    list_display = (
        "position",
        "slug",
        "name",
        "kind",
        "display_address",
        "attends_label",
        "public",
        "active",
    )
    list_display_links = ("slug", "name")
    list_filter = ("kind", "public", "active")
    search_fields = ("slug", "name", "address", "display_address")
    ordering = ("position", "slug")


@admin.register(EscalationLevel)
class EscalationLevelAdmin(AuditedAdmin):
    form = EscalationLevelForm
    audit_entity = "escalation_level"
    list_display = (
        "number",
        "name",
        "title",
        "responsible_name",
        "group",
        "auto_escalate_on_breach",
    )
    list_display_links = ("number", "name")


@admin.register(Setting)
class SettingAdmin(AuditedAdmin):
    audit_entity = "setting"
    list_display = ("key", "value")
    search_fields = ("key",)
