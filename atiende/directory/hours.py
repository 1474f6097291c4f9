"""When a channel attends: the one answer to "is it open now, and when does it next open".

The /canales page, the public API, the acknowledgement a customer gets and the WhatsApp
menus all read these; nothing else asks a calendar about a channel's hours.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from atiende.core import clock
from atiende.directory import selectors
from atiende.directory.models import Channel
from atiende.sla.calendar import BusinessCalendar
from atiende.sla.schedules import calendar

KIND_LABELS = {"incident": "Incidentes", "request": "Solicitudes", "change": "Cambios"}


@dataclass(frozen=True)
class RuleState:
    """One hours rule of a channel at a moment: open or not, and its next opening."""

    rule: dict  # the rule as configured: {"when": {...}, "schedule": slug, "label": ...}
    label: str  # "Incidentes" / "Solicitudes" when the channel has several rules, else ""
    calendar: BusinessCalendar
    open_now: bool
    next_opening: dt.datetime  # the moment itself while open


def rule_states(channel: Channel, now: dt.datetime | None = None) -> list[RuleState]:
    """Each hours rule of the channel, in order, open now or not."""
    now = now or clock.now()
    rules = channel.hours or []
    states = []
    for rule in rules:
        cal = calendar(rule["schedule"])
        kind = (rule.get("when") or {}).get("type")
        label = (KIND_LABELS.get(kind, "") if kind else "Solicitudes") if len(rules) > 1 else ""
        states.append(RuleState(rule, label, cal, cal.is_open(now), cal.next_opening(now)))
    return states


def open_now(channel: Channel, now: dt.datetime | None = None) -> bool:
    """Open now for some kind of request."""
    return any(state.open_now for state in rule_states(channel, now))


def next_opening(channel: Channel, now: dt.datetime | None = None) -> dt.datetime | None:
    """The earliest opening of any of its rules (`now` while open); None without rules."""
    openings = [state.next_opening for state in rule_states(channel, now)]
    return min(openings) if openings else None


def calendar_for(channel: Channel, type: str, priority: str) -> BusinessCalendar | None:
    """The calendar of the hours that apply to this kind of request, if any."""
    slug = channel.schedule_slug_for(type, priority)
    return calendar(slug) if slug else None


def open_for(channel: Channel, type: str, priority: str, at: dt.datetime) -> bool:
    """Whether the channel attends this kind of request at `at` (a channel without hours
    always does)."""
    cal = calendar_for(channel, type, priority)
    return cal is None or cal.is_open(at)


def channels_24x7_for_incidents() -> list[Channel]:
    """Public channels whose schedule for critical incidents is always open."""
    out = []
    for ch in selectors.channels():
        if not (ch.public and ch.active):
            continue
        cal = calendar_for(ch, "incident", "critical")
        if ch.attends_request("incident", "critical") and cal is not None and cal.always_open:
            out.append(ch)
    return out


def describe_channel(ch: Channel) -> str:
    where = ch.display_address or ch.address or ch.link
    return f"{ch.name} ({where})" if where else ch.name
