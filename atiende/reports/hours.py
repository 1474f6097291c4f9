"""Local days and a channel's attention hours, as the reports use them."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from atiende.sla.calendar import BusinessCalendar
from atiende.sla.schedules import calendar

LOCAL = ZoneInfo("America/Bogota")


def local_day_bounds(day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """[start, end) of a local (America/Bogota) date, as aware instants."""
    start = dt.datetime.combine(day, dt.time(), tzinfo=LOCAL)
    return start, start + dt.timedelta(days=1)


def attention_schedule(channel) -> str | None:
    """The schedule of a channel's ordinary requests: its hours rule without a `when`
    (the last rule when every rule has one). Rules for particular requests (critical
    incidents on 24x7) are exceptions to the attention hours, not the hours."""
    rules = channel.hours or []
    for rule in rules:
        if not rule.get("when"):
            return rule.get("schedule")
    return rules[-1].get("schedule") if rules else None


def attention_calendar(channel) -> BusinessCalendar | None:
    slug = attention_schedule(channel)
    if not slug:
        return None
    try:
        return calendar(slug)
    except Exception:  # a schedule that no longer exists: nothing counts as closed
        return None


def weekly_open_grid(cal: BusinessCalendar | None) -> list[list[bool]]:
    """7 x 24: is the channel open at some moment of each hour of an ordinary week
    (Monday first; holidays and special dates aside)."""
    grid = [[cal is None] * 24 for _ in range(7)]
    if cal is None:
        return grid
    if getattr(cal, "always_open", False):
        return [[True] * 24 for _ in range(7)]
    for weekday, intervals in cal.weekly.items():
        for start, end in intervals:
            for hour in range(24):
                if start < (hour + 1) * 3600 and end > hour * 3600:
                    grid[weekday][hour] = True
    return grid
