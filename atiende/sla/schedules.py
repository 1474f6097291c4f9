"""Schedules and SLA targets as the engine reads them: a per-process snapshot.

Every case creation needs its SLA target and schedule; reading them from the database each
time costs more than the rest of the arithmetic. The snapshot is rebuilt when this process
saves or deletes a Schedule or SlaTarget (signals) and at most `TTL_SECONDS` after another
process (another worker or web server) changed them.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from atiende.core.errors import NotFound
from atiende.sla.calendar import BusinessCalendar
from atiende.sla.models import Schedule, SlaTarget

TTL_SECONDS = 10.0


@dataclass(frozen=True)
class Target:
    first_response_seconds: int
    resolution_seconds: int
    schedule: str | None  # the target's own schedule slug, if it names one


@dataclass
class _Snapshot:
    loaded_at: float
    schedules: dict[str, Schedule] = field(default_factory=dict)
    targets: dict[tuple[str, str], Target] = field(default_factory=dict)
    calendars: dict[str, BusinessCalendar] = field(default_factory=dict)


_snapshot: _Snapshot | None = None
_lock = threading.Lock()
_calendars: dict[tuple, BusinessCalendar] = {}  # by schedule content; survives snapshot reloads


def _fingerprint(s: Schedule) -> tuple:
    return (s.timezone, s.always_open, repr(s.weekly), s.holiday_country,
            repr(s.closed_dates), repr(s.special_openings))


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


def _current() -> _Snapshot:
    global _snapshot
    snap = _snapshot
    if snap is not None and time.monotonic() - snap.loaded_at < TTL_SECONDS:
        return snap
    with _lock:
        schedules = {s.slug: s for s in Schedule.objects.all()}
        targets = {
            (t.type, t.priority): Target(t.first_response_seconds, t.resolution_seconds,
                                         t.schedule.slug if t.schedule_id else None)
            for t in SlaTarget.objects.select_related("schedule")
        }
        snap = _Snapshot(time.monotonic(), schedules, targets,
                         {slug: calendar_of(s) for slug, s in schedules.items()})
        _snapshot = snap
    return snap


def invalidate() -> None:
    global _snapshot
    _snapshot = None


@receiver([post_save, post_delete], sender=Schedule)
@receiver([post_save, post_delete], sender=SlaTarget)
def _changed(**kwargs) -> None:
    invalidate()


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
