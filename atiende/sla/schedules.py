"""Schedules (database rows) as business calendars, built once per process and version."""

from __future__ import annotations

import threading

from atiende.core.errors import NotFound
from atiende.sla.calendar import BusinessCalendar
from atiende.sla.models import Schedule

_cache: dict[str, tuple[tuple, BusinessCalendar]] = {}
_lock = threading.Lock()


def _fingerprint(s: Schedule) -> tuple:
    return (s.timezone, s.always_open, repr(s.weekly), s.holiday_country,
            repr(s.closed_dates), repr(s.special_openings))


def calendar_of(schedule: Schedule) -> BusinessCalendar:
    key = _fingerprint(schedule)
    hit = _cache.get(schedule.slug)
    if hit is not None and hit[0] == key:
        return hit[1]
    cal = BusinessCalendar(
        timezone=schedule.timezone,
        weekly=schedule.weekly or {},
        holiday_country=schedule.holiday_country or None,
        closed_dates=schedule.closed_dates or (),
        special_openings=schedule.special_openings or {},
        always_open=schedule.always_open,
    )
    with _lock:
        _cache[schedule.slug] = (key, cal)
    return cal


def calendar(slug: str) -> BusinessCalendar:
    schedule = Schedule.objects.filter(slug=slug).first()
    if schedule is None:
        raise NotFound(f"No existe el horario {slug!r}.")
    return calendar_of(schedule)
