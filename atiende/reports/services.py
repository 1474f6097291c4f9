"""Keeping the reports' roll-ups: `refresh` recomputes what may have changed since the last
run (the worker calls it every few minutes); `refresh(full=True)` rebuilds everything.

The roll-ups are derived data — each row can be recomputed from the cases, notes, calls and
SLA clocks at any time — so writing them is not audited. They are written in chunks, each
in its own short transaction, so a rebuild of a million cases never holds one long write.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Iterator
from typing import Any

from django.db import connection, transaction
from django.db.models import Count, Q

from atiende.cases.models import Case, Direction, Note
from atiende.cases.statuses import ACTIVE
from atiende.channels.phone.models import Call
from atiende.channels.phone.models import Direction as CallDirection
from atiende.core import clock
from atiende.directory.models import Channel
from atiende.reports.hours import LOCAL, attention_calendar, local_day_bounds
from atiende.reports.models import (
    CaseFigures,
    ContactHour,
    OrganizationDay,
    RefreshState,
    SlaDay,
    TimerState,
)
from atiende.sla.calendar import BusinessCalendar
from atiende.sla.models import SlaTimer, TimerKind
from atiende.sla.schedules import calendar

CHUNK = 2000
# A case saved while a refresh reads may carry an `updated_at` a little before the refresh's
# start; reading from this much earlier than the last start misses none of them.
MARGIN = dt.timedelta(minutes=10)
# Kinds whose first message opens the case without an inbound note (the form is the case).
CASE_IS_CONTACT = ("portal", "api")


# -- one case's figures ---------------------------------------------------------------


def _parse(value: str | None) -> dt.datetime | None:
    return dt.datetime.fromisoformat(value) if value else None


def timer_state(timer: dict[str, Any] | None) -> str:
    """met: stopped in time; breached: past its due instant (met late, or flagged by the
    sweep); pending: still running, paused, or stopped by cancelling; none: no SLA."""
    if timer is None:
        return TimerState.NONE
    met, due = timer["met_at"], timer["due_at"]
    if timer["breached_at"] is not None or (met is not None and met > due):
        return TimerState.BREACHED
    if met is not None:
        return TimerState.MET
    return TimerState.PENDING


def business_seconds(timer: dict[str, Any] | None, cal: BusinessCalendar | None) -> int | None:
    """Business seconds from the clock's start to when it was met, less its pauses (the
    time the case waited for the customer); None while it runs."""
    if timer is None or cal is None or timer["met_at"] is None:
        return None
    start, end = timer["started_at"], timer["met_at"]
    if end <= start:
        return 0
    total = cal.elapsed(start, end)
    for p_start, p_end in timer["pauses"] or []:
        a = max(_parse(p_start) or start, start)
        b = min(_parse(p_end) or end, end)
        if b > a:
            total -= cal.elapsed(a, b)
    return max(total, 0)


def figures_of(
    case: dict[str, Any], timers: dict[str, dict[str, Any]], now: dt.datetime
) -> dict[str, Any]:
    fr = timers.get(TimerKind.FIRST_RESPONSE)
    res = timers.get(TimerKind.RESOLUTION)
    cal = _calendar((fr or res or {}).get("schedule"))
    return {
        "case_id": case["id"],
        "created_day": case["created_at"].astimezone(LOCAL).date(),
        "channel_id": case["channel_id"],
        "type": case["type"],
        "priority": case["priority"],
        "level": case["level"],
        "organization_id": case["organization_id"],
        "assignee_id": case["assignee_id"],
        "active": case["status"] in ACTIVE,
        "fr_state": timer_state(fr),
        "res_state": timer_state(res),
        "fr_seconds": business_seconds(fr, cal),
        "res_seconds": business_seconds(res, cal),
        "computed_at": now,
    }


def _calendar(slug: str | None) -> BusinessCalendar | None:
    if not slug:
        return None
    try:
        return calendar(slug)
    except Exception:  # a schedule removed since: no business time to count in
        return None


CASE_FIELDS = (
    "id",
    "created_at",
    "channel_id",
    "type",
    "priority",
    "level",
    "organization_id",
    "assignee_id",
    "status",
)
TIMER_FIELDS = ("case_id", "kind", "schedule", "started_at", "due_at", "met_at", "breached_at")
FIGURE_FIELDS = [
    "created_day",
    "channel_id",
    "type",
    "priority",
    "level",
    "organization_id",
    "assignee_id",
    "active",
    "fr_state",
    "res_state",
    "fr_seconds",
    "res_seconds",
    "computed_at",
]


def _upsert(rows: list[dict[str, Any]]) -> None:
    """Insert or replace figure rows with one statement run for many rows (both databases
    know INSERT … ON CONFLICT); the ORM's bulk_create spends more time preparing values
    than the database spends writing them."""
    table = CaseFigures._meta.db_table
    columns = ["case_id", *FIGURE_FIELDS]
    updates = ", ".join(f"{c} = excluded.{c}" for c in columns[1:])
    sql = (
        f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join(['%s'] * len(columns))})"
        f" ON CONFLICT (case_id) DO UPDATE SET {updates}"
    )
    values = [tuple(r[c] for c in columns) for r in rows]
    with transaction.atomic(), connection.cursor() as cur:
        cur.executemany(sql, values)


def _write_figures(ids: list[int], now: dt.datetime, days: set[dt.date]) -> int:
    cases = list(Case.objects.filter(pk__in=ids).order_by().values(*CASE_FIELDS))
    timers: dict[int, dict[str, dict[str, Any]]] = defaultdict(dict)
    for t in SlaTimer.objects.filter(case_id__in=ids).order_by().values(*TIMER_FIELDS, "pauses"):
        timers[t["case_id"]][t["kind"]] = t
    rows = [figures_of(c, timers.get(c["id"], {}), now) for c in cases]
    _upsert(rows)
    days.update(r["created_day"] for r in rows)
    return len(cases)


def sla_counts() -> dict[str, Any]:
    """Clock states counted over per-case figures."""
    out: dict[str, Any] = {"cases": Count("pk")}
    for kind in ("fr", "res"):
        for state in (TimerState.MET, TimerState.BREACHED, TimerState.PENDING):
            out[f"{kind}_{state}"] = Count("pk", filter=Q(**{f"{kind}_state": state}))
    return out


def plain(rows: Any) -> list[dict[str, Any]]:
    """Rows of a `values()` query as plain dicts (to add or take keys)."""
    return [dict(r) for r in rows]


def _write_days(days: set[dt.date]) -> int:
    """Recompute the daily sums of the given local days from the per-case figures."""
    written = 0
    ordered = sorted(days)
    for i in range(0, len(ordered), 31):
        chunk = ordered[i : i + 31]
        figures = CaseFigures.objects.filter(created_day__in=chunk).order_by()
        sla = [
            SlaDay(day=r.pop("created_day"), **r)
            for r in plain(
                figures.values("created_day", "channel_id", "type", "priority", "level")
                .annotate(**sla_counts())
                .order_by(),
            )
        ]
        orgs = [
            OrganizationDay(day=r.pop("created_day"), **r)
            for r in plain(
                figures.values("created_day", "organization_id")
                .annotate(cases=Count("pk"), open=Count("pk", filter=Q(active=True)))
                .order_by()
            )
        ]
        with transaction.atomic():
            SlaDay.objects.filter(day__in=chunk).delete()
            OrganizationDay.objects.filter(day__in=chunk).delete()
            SlaDay.objects.bulk_create(sla, batch_size=2000)
            OrganizationDay.objects.bulk_create(orgs, batch_size=2000)
        written += len(sla) + len(orgs)
    return written


def _chunks(ids: Iterable[int]) -> Iterator[list[int]]:
    chunk: list[int] = []
    for i in ids:
        chunk.append(i)
        if len(chunk) == CHUNK:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


# -- contacts per hour ----------------------------------------------------------------


def _contacts_between(start: dt.datetime, end: dt.datetime) -> Iterator[tuple[int, dt.datetime]]:
    """(channel id, instant) of every contact in [start, end): a call received on a phone
    line; an inbound message (note) on any other channel; a case opened on the portal or
    the API (its form is the message). Automatic notes are not contacts, and neither are
    the notes the phone line writes for missed calls (the call is counted)."""
    calls = Call.objects.filter(
        direction=CallDirection.IN, started_at__gte=start, started_at__lt=end
    ).order_by()
    yield from calls.values_list("channel_id", "started_at").iterator(chunk_size=5000)
    notes = (
        Note.objects.filter(
            direction=Direction.INBOUND, automatic=False, created_at__gte=start, created_at__lt=end
        )
        .exclude(channel__kind="phone")
        .exclude(channel__isnull=True, case__channel__kind="phone")
        .order_by()
    )
    for note_channel, case_channel, at in notes.values_list(
        "channel_id", "case__channel_id", "created_at"
    ).iterator(chunk_size=5000):
        yield (note_channel or case_channel, at)
    opened = Case.objects.filter(
        channel__kind__in=CASE_IS_CONTACT, created_at__gte=start, created_at__lt=end
    ).order_by()
    yield from opened.values_list("channel_id", "created_at").iterator(chunk_size=5000)


def _write_contact_days(first: dt.date, last: dt.date) -> int:
    channels = {c.pk: attention_calendar(c) for c in Channel.objects.all()}
    written = 0
    day = first
    while day <= last:
        stop = min(day + dt.timedelta(days=31), last + dt.timedelta(days=1))
        start, end = local_day_bounds(day)[0], local_day_bounds(stop)[0]
        counts: dict[tuple[dt.date, int, int], list[int]] = defaultdict(lambda: [0, 0])
        for channel_id, at in _contacts_between(start, end):
            local = at.astimezone(LOCAL)
            cell = counts[(local.date(), channel_id, local.hour)]
            cell[0] += 1
            cal = channels.get(channel_id)
            if cal is not None and not cal.is_open(at):
                cell[1] += 1
        rows = [
            ContactHour(day=d, channel_id=ch, hour=h, contacts=c, out_of_hours=o)
            for (d, ch, h), (c, o) in counts.items()
        ]
        with transaction.atomic():
            ContactHour.objects.filter(day__gte=day, day__lt=stop).delete()
            ContactHour.objects.bulk_create(rows, batch_size=2000)
        written += len(rows)
        day = stop
    return written


# -- the refresh ----------------------------------------------------------------------


def refresh(*, full: bool = False, now: dt.datetime | None = None) -> dict[str, int]:
    """Bring the roll-ups up to date: the figures of every case saved since the last run
    (minus a margin) or still open (the sweep breaches clocks without saving the case), and the contacts of every day since.
    `full` recomputes everything. Returns how many rows were written."""
    now = now or clock.now()
    state = RefreshState.objects.filter(name="reports").first()
    since = None if full or state is None else state.refreshed_at - MARGIN
    if since is None:
        ids: Iterable[int] = Case.objects.order_by("pk").values_list("pk", flat=True).iterator()
        first_note = Note.objects.order_by("created_at").values_list("created_at", flat=True)
        first_call = Call.objects.order_by("started_at").values_list("started_at", flat=True)
        starts = [t for t in (first_note.first(), first_call.first()) if t is not None]
        first_day = min(starts).astimezone(LOCAL).date() if starts else now.astimezone(LOCAL).date()
    else:
        changed = set(
            Case.objects.filter(updated_at__gte=since).order_by().values_list("pk", flat=True)
        )
        live = CaseFigures.objects.filter(active=True).values_list("case_id", flat=True)
        changed.update(live)
        ids = sorted(changed)
        first_day = since.astimezone(LOCAL).date()
    days: set[dt.date] = set()
    figures = sum(_write_figures(chunk, now, days) for chunk in _chunks(ids))
    if since is None:  # a full rebuild also drops the sums of days without cases any more
        SlaDay.objects.all().delete()
        OrganizationDay.objects.all().delete()
    day_rows = _write_days(days)
    contacts = _write_contact_days(first_day, now.astimezone(LOCAL).date())
    RefreshState.objects.update_or_create(name="reports", defaults={"refreshed_at": now})
    return {"figures": figures, "day_rows": day_rows, "contact_hours": contacts}
