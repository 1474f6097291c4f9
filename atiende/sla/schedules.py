"""Schedules and SLA targets as the engine reads them: a per-process snapshot.

Every case creation needs its SLA target and schedule; reading them from the database each
time costs more than the rest of the arithmetic. The snapshot is rebuilt when this process
saves or deletes a Schedule or SlaTarget (signals) and at most ten seconds after another
process (another worker or web server) changed them (see core.snapshot).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from atiende.core.errors import NotFound
from atiende.core.snapshot import Snapshot
from atiende.sla.calendar import BusinessCalendar
from atiende.sla.models import Schedule, SlaTarget


@dataclass(frozen=True)
class Target:
    first_response_seconds: int
    resolution_seconds: int
    schedule: str | None  # the target's own schedule slug, if it names one


@dataclass
class _Config:
    schedules: dict[str, Schedule] = field(default_factory=dict)
    targets: dict[tuple[str, str], Target] = field(default_factory=dict)
    calendars: dict[str, BusinessCalendar] = field(default_factory=dict)


_calendars: dict[tuple, BusinessCalendar] = {}  # by schedule content; survives snapshot reloads


def _fingerprint(s: Schedule) -> tuple:
    return (
        s.timezone,
        s.always_open,
        repr(s.weekly),
        s.holiday_country,
        repr(s.closed_dates),
        repr(s.special_openings),
    )


def calendar_of(schedule: Schedule) -> BusinessCalendar:
    key = _fingerprint(schedule)
    cal = _calendars.get(key)
    if cal is None:
        cal = BusinessCalendar(
            timezone=schedule.timezone,
            weekly=schedule.weekly or {},
            holiday_country=schedule.holiday_country or None,
            closed_dates=schedule.closed_dates or (),
            special_openings=schedule.special_openings or {},
            always_open=schedule.always_open,
        )
        _calendars[key] = cal
    return cal


def _build() -> _Config:
    schedules = {s.slug: s for s in Schedule.objects.all()}
    targets = {
        (t.type, t.priority): Target(
            t.first_response_seconds,
            t.resolution_seconds,
            t.schedule.slug if t.schedule_id else None,
        )
        for t in SlaTarget.objects.select_related("schedule")
    }
    return _Config(schedules, targets, {slug: calendar_of(s) for slug, s in schedules.items()})


_snapshot = Snapshot(_build, watch=[Schedule, SlaTarget])
_current = _snapshot.get
invalidate = _snapshot.invalidate


def calendar(slug: str) -> BusinessCalendar:
    cal = _current().calendars.get(slug)
    if cal is None:
        invalidate()  # maybe created a moment ago by another process
        cal = _current().calendars.get(slug)
    if cal is None:
        raise NotFound(f"No existe el horario {slug!r}.")
    return cal


def target(type: str, priority: str) -> Target | None:
    return _current().targets.get((type, priority))
