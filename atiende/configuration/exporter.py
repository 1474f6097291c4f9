"""Write the loaded configuration back as YAML, in the format the loader reads.

`load(export())` changes nothing: every row the loader manages is written out, with the
values it holds, in the same order (channels by position).
"""

from __future__ import annotations

from typing import Any

import yaml

from atiende.accounts.models import SupportGroup
from atiende.configuration.loader import CASE_TYPES, CASES_KEYS, PRIORITIES, format_duration
from atiende.configuration.models import Setting
from atiende.customers.models import Organization
from atiende.directory.models import Channel
from atiende.escalations.models import EscalationLevel
from atiende.sla.models import WEEKDAYS, Schedule, SlaTarget

HEADER = (
    "# atiende configuration, exported from the database.\n"
    "# Load it with `atiende load-config FILE`; the format is in docs/configuration.md.\n"
)


class _Flow(dict):
    """A small mapping written on one line: {type: incident, priority: critical}."""


class _FlowList(list):
    """A short list written on one line: ["07:00-19:00"]."""


class _Dumper(yaml.SafeDumper):
    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        # Indent list items under their key, as people write YAML.
        super().increase_indent(flow, False)


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.Node:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _represent_str)
_Dumper.add_representer(
    _Flow, lambda d, v: d.represent_mapping("tag:yaml.org,2002:map", v, flow_style=True)
)
_Dumper.add_representer(
    _FlowList, lambda d, v: d.represent_sequence("tag:yaml.org,2002:seq", v, flow_style=True)
)


def _schedule(s: Schedule) -> dict[str, Any]:
    out: dict[str, Any] = {"slug": s.slug, "name": s.name, "timezone": s.timezone}
    if s.always_open:
        out["always_open"] = True
    weekly = {day: _FlowList(s.weekly[day]) for day in WEEKDAYS if s.weekly.get(day)}
    if weekly:
        out["weekly"] = weekly
    if s.holiday_country:
        out["holiday_country"] = s.holiday_country
    if s.closed_dates:
        out["closed_dates"] = list(s.closed_dates)
    if s.special_openings:
        out["special_openings"] = {d: _FlowList(v) for d, v in sorted(s.special_openings.items())}
    return out


def _sla_target(t: SlaTarget) -> dict[str, Any]:
    out = _Flow(
        type=t.type,
        priority=t.priority,
        first_response=format_duration(t.first_response_seconds),
        resolution=format_duration(t.resolution_seconds),
    )
    if t.schedule_id:
        out["schedule"] = t.schedule.slug
    return out


def _channel(c: Channel) -> dict[str, Any]:
    out: dict[str, Any] = {"slug": c.slug, "kind": c.kind, "name": c.name}
    if c.address:
        out["address"] = c.address
    # The loader defaults it to the address as written; the stored address is normalised.
    if c.display_address != c.address:
        out["display_address"] = c.display_address
    for key in ("link", "description"):
        if getattr(c, key):
            out[key] = getattr(c, key)
    out["attends"] = c.attends if c.attends == "all" else [_Flow(rule) for rule in c.attends]
    if c.attends_label:
        out["attends_label"] = c.attends_label
    hours = []
    for rule in c.hours:
        item: dict[str, Any] = {}
        if rule.get("when"):
            item["when"] = _Flow(rule["when"])
        item["schedule"] = rule.get("schedule", "")
        if rule.get("label"):
            item["label"] = rule["label"]
        hours.append(item)
    out["hours"] = hours
    if c.settings:
        out["settings"] = dict(c.settings)
    if not c.public:
        out["public"] = False
    if not c.active:
        out["active"] = False
    return out


def _level(lv: EscalationLevel) -> dict[str, Any]:
    out: dict[str, Any] = {"number": lv.number, "name": lv.name, "title": lv.title}
    if lv.responsible_name:
        out["responsible"] = lv.responsible_name
    if lv.group_id:
        out["group"] = lv.group.slug
    if lv.auto_escalate_on_breach:
        out["auto_escalate_on_breach"] = True
    contacts = []
    for contact in lv.contacts:
        item = _Flow(kind=contact.get("kind", ""), value=contact.get("value", ""))
        if contact.get("label"):
            item["label"] = contact["label"]
        contacts.append(item)
    out["contacts"] = contacts
    return out


def _rank(order: tuple[str, ...], value: str) -> int:
    return order.index(value) if value in order else len(order)


def as_data() -> dict[str, Any]:
    """The configuration as plain data, in the file's shape."""
    settings = dict(Setting.objects.values_list("key", "value"))
    data: dict[str, Any] = {}
    if "organization.name" in settings:
        data["organization"] = {"name": settings["organization.name"]}
    if "classification" in settings:
        data["classification"] = settings["classification"]
    cases = {key: settings[s] for key, s in CASES_KEYS.items() if s in settings}
    if cases:
        data["cases"] = cases
    data["schedules"] = [_schedule(s) for s in Schedule.objects.order_by("slug")]
    targets = sorted(
        SlaTarget.objects.select_related("schedule"),
        key=lambda t: (
            _rank(CASE_TYPES, t.type),
            _rank(PRIORITIES, t.priority),
            t.type,
            t.priority,
        ),
    )
    data["sla_targets"] = [_sla_target(t) for t in targets]
    data["groups"] = [
        {"slug": g.slug, "name": g.name, **({"email": g.email} if g.email else {})}
        for g in SupportGroup.objects.order_by("slug")
    ]
    data["channels"] = [_channel(c) for c in Channel.objects.order_by("position", "slug")]
    data["escalation_levels"] = [
        _level(lv) for lv in EscalationLevel.objects.select_related("group").order_by("number")
    ]
    texts = {
        k.removeprefix("texts."): v for k, v in sorted(settings.items()) if k.startswith("texts.")
    }
    if texts:
        data["texts"] = texts
    organizations = [
        {"slug": o.slug, "name": o.name, "email_domains": _FlowList(o.email_domains or [])}
        for o in Organization.objects.order_by("slug")
    ]
    if organizations:
        data["customer_organizations"] = organizations
    return data


def export() -> str:
    """The loaded configuration as YAML text that `loader.load` accepts."""
    body = yaml.dump(
        as_data(), Dumper=_Dumper, allow_unicode=True, sort_keys=False, width=100, indent=2
    )
    return HEADER + "\n" + body
