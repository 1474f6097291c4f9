"""Applying a validated file to the database: upserts by stable id, audited, reported."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import models

from atiende.accounts import services as accounts
from atiende.accounts.models import SupportGroup
from atiende.configuration.loader.report import Report, Spec
from atiende.configuration.models import Setting
from atiende.core import audit, clock
from atiende.directory.models import Channel
from atiende.escalations.models import EscalationLevel
from atiende.sla.models import Schedule, SlaTarget
from atiende.sla.schedules import calendar_of


def _upsert(
    model: type[models.Model],
    entity: str,
    key: str,
    lookup: dict[str, Any],
    values: dict[str, Any],
    report: Report,
    actor: Any,
) -> models.Model:
    manager = model._default_manager
    obj = manager.filter(**lookup).first()
    if obj is None:
        obj = manager.create(**lookup, **values)
        changes = {name: [None, value] for name, value in {**lookup, **values}.items()}
        audit.record(actor=actor, action=f"{entity}.created", obj=obj, changes=changes)
        report.add(entity, key, "created")
        return obj
    changes = {}
    for name, value in values.items():
        old = getattr(obj, name)
        if old != value:
            changes[name] = [old, value]
            setattr(obj, name, value)
    if changes:
        obj.save(update_fields=list(changes))
        audit.record(actor=actor, action=f"{entity}.updated", obj=obj, changes=changes)
        report.add(entity, key, "updated", changes)
    else:
        report.add(entity, key, "unchanged")
    return obj


def apply(spec: Spec, *, actor: Any = None) -> Report:
    """Write a validated configuration. Call inside a transaction (load() does)."""
    report = Report(spec.source)

    groups = {}
    for g in spec.groups:
        existing = SupportGroup.objects.filter(slug=g["slug"]).first()
        groups[g["slug"]] = accounts.ensure_group(
            slug=g["slug"], name=g["name"], email=g["email"], actor=actor
        )
        if existing is None:
            report.add("group", g["slug"], "created")
        elif (existing.name, existing.email) != (g["name"], g["email"]):
            changes = {"name": [existing.name, g["name"]], "email": [existing.email, g["email"]]}
            report.add(
                "group", g["slug"], "updated", {k: v for k, v in changes.items() if v[0] != v[1]}
            )
        else:
            report.add("group", g["slug"], "unchanged")
    _report_kept(
        report,
        "group",
        SupportGroup.objects.exclude(slug__in=groups).values_list("slug", flat=True),
    )

    schedules = {}
    for s in spec.schedules:
        values = {k: v for k, v in s.items() if k != "slug"}
        schedules[s["slug"]] = _upsert(
            Schedule, "schedule", s["slug"], {"slug": s["slug"]}, values, report, actor
        )
    _report_kept(
        report,
        "schedule",
        Schedule.objects.exclude(slug__in=schedules).values_list("slug", flat=True),
    )

    seen_targets = set()
    for t in spec.sla_targets:
        key = f"{t['type']}/{t['priority']}"
        seen_targets.add(key)
        values = {
            "first_response_seconds": t["first_response_seconds"],
            "resolution_seconds": t["resolution_seconds"],
            "schedule": schedules[t["schedule"]] if t["schedule"] else None,
        }
        lookup = {"type": t["type"], "priority": t["priority"]}
        _upsert(SlaTarget, "sla_target", key, lookup, values, report, actor)
    _report_kept(
        report,
        "sla_target",
        [
            f"{t}/{p}"
            for t, p in SlaTarget.objects.values_list("type", "priority")
            if f"{t}/{p}" not in seen_targets
        ],
    )

    slugs = []
    for c in spec.channels:
        slugs.append(c["slug"])
        values = {k: v for k, v in c.items() if k != "slug"}
        _upsert(Channel, "channel", c["slug"], {"slug": c["slug"]}, values, report, actor)
    # Channels missing from the file are switched off and moved after the file's channels,
    # in their previous order, so an export loads back to the same positions.
    missing = Channel.objects.exclude(slug__in=slugs).order_by("position", "slug")
    for position, channel in enumerate(missing, start=len(slugs) + 1):
        changes = {}
        if channel.active:
            changes["active"] = [True, False]
        if channel.position != position:
            changes["position"] = [channel.position, position]
        if changes:
            channel.active, channel.position = False, position
            channel.save(update_fields=list(changes))
            action = "deactivated" if "active" in changes else "updated"
            audit.record(actor=actor, action=f"channel.{action}", obj=channel, changes=changes)
            report.add("channel", channel.slug, action, changes)
        else:
            report.add("channel", channel.slug, "kept")

    numbers = []
    for lv in spec.levels:
        numbers.append(lv["number"])
        values = {k: v for k, v in lv.items() if k != "number"}
        values["group"] = groups[lv["group"]] if lv["group"] else None
        _upsert(
            EscalationLevel,
            "escalation_level",
            str(lv["number"]),
            {"number": lv["number"]},
            values,
            report,
            actor,
        )
    _report_kept(
        report,
        "escalation_level",
        [
            str(n)
            for n in EscalationLevel.objects.exclude(number__in=numbers).values_list(
                "number", flat=True
            )
        ],
    )

    _apply_organizations(spec, report, actor)

    for key, value in spec.settings.items():
        _upsert(Setting, "setting", key, {"key": key}, {"value": value}, report, actor)
    _report_kept(
        report,
        "setting",
        Setting.objects.exclude(key__in=spec.settings).values_list("key", flat=True),
    )
    _compute_holidays()
    return report


def _compute_holidays() -> None:
    """The holidays of last year, this one and the next, for every schedule that has them:
    computed once here, when a deployment is set up, and read from a file by every process
    after it (sla/holiday_files.py) instead of importing the `holidays` package."""
    year = clock.now().year
    for schedule in Schedule.objects.exclude(holiday_country=""):
        for y in (year - 1, year, year + 1):
            calendar_of(schedule).is_holiday(dt.date(y, 1, 1))


def _apply_organizations(spec: Spec, report: Report, actor: Any) -> None:
    """Customer organizations, through the customers services (validated and audited
    there). Organizations missing from the file are kept: they hold contacts and cases."""
    from atiende.customers import services as customers
    from atiende.customers.models import Organization

    for org in spec.organizations:
        existing = Organization.objects.filter(slug=org["slug"]).first()
        if existing is None:
            customers.create_organization(
                slug=org["slug"], name=org["name"], email_domains=org["email_domains"], actor=actor
            )
            report.add("organization", org["slug"], "created")
            continue
        before = {"name": existing.name, "email_domains": list(existing.email_domains or [])}
        customers.update_organization(
            organization=existing, name=org["name"], email_domains=org["email_domains"], actor=actor
        )
        after = {"name": existing.name, "email_domains": list(existing.email_domains or [])}
        changes = {k: [before[k], after[k]] for k in before if before[k] != after[k]}
        report.add("organization", org["slug"], "updated" if changes else "unchanged", changes)


def _report_kept(report: Report, entity: str, keys: Any) -> None:
    for key in keys:
        report.add(entity, key, "kept")
