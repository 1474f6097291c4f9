"""Keeping the reports' roll-ups: `refresh` recomputes what may have changed since the last
run (the worker calls it every few minutes); `refresh(full=True)` rebuilds everything.

The roll-ups are derived data — each row can be recomputed from the cases, notes, calls and
SLA clocks at any time — so writing them is not audited. They are written in chunks, each
in its own short transaction, so a rebuild of a million cases never holds one long write.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from bisect import bisect_right
from collections import defaultdict
from collections.abc import Iterable, Iterator
from typing import Any

from django.db import connection, transaction
from django.db.models import BigIntegerField, Count, F, FilteredRelation, Func, Q, Value, When
from django.db.models import Case as Case_

from atiende.cases.models import Case, Direction, Note
from atiende.cases.statuses import ACTIVE
from atiende.channels.phone.models import Call
from atiende.channels.phone.models import Direction as CallDirection
from atiende.core import clock
from atiende.directory.models import Channel
from atiende.reports import histogram
from atiende.reports.hours import LOCAL, attention_calendar, local_day_bounds
from atiende.reports.models import (
    CaseFigures,
    ContactHour,
    MissedCallDay,
    OrganizationDay,
    RefreshState,
    SlaDay,
    TimeMonth,
    TimerState,
)
from atiende.sla.calendar import BusinessCalendar
from atiende.sla.models import SlaTimer, TimerKind
from atiende.sla.schedules import calendar

CHUNK = 2000
# A case saved while a refresh reads may carry an `updated_at` a little before the refresh's
# start; reading from this much earlier than the last start misses none of them.
MARGIN = dt.timedelta(minutes=10)
# A missed call counts as called back by an outbound call to its number within this long.
CALLBACK_WINDOW = dt.timedelta(days=7)
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
        "fr_seconds": (fr_seconds := business_seconds(fr, cal)),
        "res_seconds": (res_seconds := business_seconds(res, cal)),
        "fr_bucket": histogram.bucket(fr_seconds),
        "res_bucket": histogram.bucket(res_seconds),
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
    "fr_bucket",
    "res_bucket",
    "computed_at",
]


def _upsert(rows: list[dict[str, Any]]) -> None:
    """Insert or replace figure rows with one statement run for many rows (both databases
    know INSERT … ON CONFLICT); the ORM's bulk_create spends more time preparing values
    than the database spends writing them."""
    if not rows:
        return
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


# What decides a case's figures; `computed_at` aside, a row whose values are unchanged is
# not written again (and its day's sums are not recomputed).
_COMPARED = ["case_id", *FIGURE_FIELDS[:-1]]


def _write_figures(ids: list[int], now: dt.datetime, days: set[dt.date]) -> int:
    """Recompute the figures of these cases; write those that changed and note their days."""
    cases = list(Case.objects.filter(pk__in=ids).order_by().values(*CASE_FIELDS))
    timers: dict[int, dict[str, dict[str, Any]]] = defaultdict(dict)
    for t in SlaTimer.objects.filter(case_id__in=ids).order_by().values(*TIMER_FIELDS, "pauses"):
        timers[t["case_id"]][t["kind"]] = t
    old = {
        r[0]: r
        for r in CaseFigures.objects.filter(case_id__in=ids).order_by().values_list(*_COMPARED)
    }
    rows = [figures_of(c, timers.get(c["id"], {}), now) for c in cases]
    changed = [r for r in rows if old.get(r["case_id"]) != tuple(r[c] for c in _COMPARED)]
    _upsert(changed)
    days.update(r["created_day"] for r in changed)
    return len(changed)


def bulk_insert(table: str, columns: list[str], rows: list[tuple[Any, ...]]) -> None:
    """Write many rows at once: COPY on PostgreSQL, one prepared INSERT run for all of
    them on SQLite (the ORM's bulk_create spends longer building objects than either)."""
    with connection.cursor() as cur:
        if connection.vendor == "postgresql":
            raw = cur.cursor  # psycopg's own cursor, for COPY
            with raw.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                for values in rows:
                    copy.write_row(values)
        else:
            marks = ", ".join(["%s"] * len(columns))
            cur.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", rows)


class Epoch(Func):
    """Whole seconds since 1970 of a timestamp (floored): bulk reads get integers, which
    cost nothing to load, instead of datetimes, which cost more to parse than the rest."""

    output_field = BigIntegerField()

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        template = "FLOOR(EXTRACT(EPOCH FROM %(expressions)s))::bigint"
        return self.as_sql(compiler, connection, template=template, **extra)

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        # Only the whole seconds of Django's 'YYYY-MM-DD HH:MM:SS.ffffff' text: SQLite
        # rounds the fraction to milliseconds, so .9996 s would count as the next second.
        # Twice escaped: once for this template, once for the query's parameters.
        template = "CAST(strftime('%%%%s', substr(%(expressions)s, 1, 19)) AS INTEGER)"
        return self.as_sql(compiler, connection, template=template, **extra)


class LocalHours:
    """Local (America/Bogota) date and hour of epoch seconds, worked out once per hour:
    the zone's offset is a whole number of hours, so one hour's instants share them."""

    def __init__(self) -> None:
        self._seen: dict[int, tuple[dt.date, int]] = {}

    def __call__(self, epoch: int) -> tuple[dt.date, int]:
        hour = epoch // 3600
        found = self._seen.get(hour)
        if found is None:
            local = dt.datetime.fromtimestamp(hour * 3600, LOCAL)
            found = self._seen[hour] = (local.date(), local.hour)
        return found


def _epoch(value: str | None) -> int | None:
    return math.floor(dt.datetime.fromisoformat(value).timestamp()) if value else None


def _state_sql(prefix: str) -> Case_:
    """A clock's state (`timer_state`) worked out by the database."""
    late = Q(**{f"{prefix}__breached_at__isnull": False}) | Q(
        **{f"{prefix}__met_at__gt": F(f"{prefix}__due_at")}
    )
    return Case_(
        When(Q(**{f"{prefix}__case_id__isnull": True}), then=Value(TimerState.NONE)),
        When(late, then=Value(TimerState.BREACHED)),
        When(Q(**{f"{prefix}__met_at__isnull": False}), then=Value(TimerState.MET)),
        default=Value(TimerState.PENDING),
    )


def _seconds_fast(
    cal: BusinessCalendar | None, start: int | None, met: int | None, pauses: Any
) -> int | None:
    """`business_seconds` on epoch seconds (the same floors `BusinessCalendar.elapsed`
    takes, so the same answer)."""
    if cal is None or start is None or met is None:
        return None
    if met <= start:
        return 0
    total = cal.elapsed_epoch(start, met)
    if isinstance(pauses, str):  # SQLite hands JSON over as text here
        pauses = json.loads(pauses)
    for p_start, p_end in pauses or []:
        a = max(_epoch(p_start) or start, start)
        b = min(_epoch(p_end) or met, met)
        if b > a:
            total -= cal.elapsed_epoch(a, b)
    return max(total, 0)


def _rebuild_figures(now: dt.datetime, days: set[dt.date]) -> int:
    """Every case's figures from scratch: the clocks' states worked out by the database,
    the cases and both clocks read in one ordered pass as integers (no per-chunk look-ups,
    no datetime parsing), only the business times computed here (they need the calendar),
    and the rows written in bulk — COPY on PostgreSQL, one prepared INSERT run for many
    rows on SQLite — after emptying the table."""
    kinds = {"fr": TimerKind.FIRST_RESPONSE, "res": TimerKind.RESOLUTION}
    relations = {
        p: FilteredRelation("sla_timers", condition=Q(sla_timers__kind=k)) for p, k in kinds.items()
    }
    epochs = {"created": Epoch("created_at")}
    for p in kinds:
        epochs[f"{p}_started"] = Epoch(f"{p}__started_at")
        epochs[f"{p}_met"] = Epoch(f"{p}__met_at")
    rows = (
        Case.objects.annotate(**relations)
        .annotate(**epochs, fr_st=_state_sql("fr"), res_st=_state_sql("res"))
        .order_by("pk")
        .values_list(
            "pk",
            "created",
            "channel_id",
            "type",
            "priority",
            "level",
            "organization_id",
            "assignee_id",
            "status",
            "fr_st",
            "res_st",
            "fr__schedule",
            "res__schedule",
            "fr_started",
            "fr_met",
            "fr__pauses",
            "res_started",
            "res_met",
            "res__pauses",
        )
        .iterator(chunk_size=10000)
    )
    table = CaseFigures._meta.db_table
    columns = ["case_id", *FIGURE_FIELDS]
    CaseFigures.objects.all().delete()
    local = LocalHours()
    cals: dict[str | None, BusinessCalendar | None] = {}
    active = set(ACTIVE)
    written = 0
    batch: list[tuple[Any, ...]] = []

    def flush() -> None:
        with transaction.atomic():
            bulk_insert(table, columns, batch)
        batch.clear()

    for (
        pk,
        created,
        channel_id,
        type_,
        priority,
        level,
        organization_id,
        assignee_id,
        status,
        fr_state,
        res_state,
        fr_schedule,
        res_schedule,
        fr_started,
        fr_met,
        fr_pauses,
        res_started,
        res_met,
        res_pauses,
    ) in rows:
        slug = fr_schedule or res_schedule
        if slug not in cals:
            cals[slug] = _calendar(slug)
        cal = cals[slug]
        fr_seconds = _seconds_fast(cal, fr_started, fr_met, fr_pauses)
        res_seconds = _seconds_fast(cal, res_started, res_met, res_pauses)
        day = local(created)[0]
        days.add(day)
        batch.append(
            (
                pk,
                day,
                channel_id,
                type_,
                priority,
                level,
                organization_id,
                assignee_id,
                status in active,
                fr_state,
                res_state,
                fr_seconds,
                res_seconds,
                histogram.bucket(fr_seconds),
                histogram.bucket(res_seconds),
                now,
            )
        )
        written += 1
        if len(batch) == 20000:
            flush()
    if batch:
        flush()
    return written


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


def _state_count(kind: str, state: str) -> str:
    return f"SUM(CASE WHEN {kind}_state = '{state}' THEN 1 ELSE 0 END)"


def _month(day: dt.date) -> dt.date:
    return day.replace(day=1)


def _next_month(month: dt.date) -> dt.date:
    return (month.replace(day=28) + dt.timedelta(days=4)).replace(day=1)


def _write_days(days: set[dt.date]) -> int:
    """Recompute, in the database (one INSERT … SELECT … GROUP BY per stretch of days), the
    daily sums of the given local days and the time histograms of their months from the
    per-case figures."""
    figures = CaseFigures._meta.db_table
    sla_day, org_day = SlaDay._meta.db_table, OrganizationDay._meta.db_table
    time_month = TimeMonth._meta.db_table
    states = ", ".join(
        _state_count(kind, state)
        for kind in ("fr", "res")
        for state in (TimerState.MET, TimerState.BREACHED, TimerState.PENDING)
    )
    written = 0
    ordered = sorted(days)
    with connection.cursor() as cur:
        for i in range(0, len(ordered), 31):
            chunk = ordered[i : i + 31]
            marks = ", ".join(["%s"] * len(chunk))
            with transaction.atomic():
                cur.execute(f"DELETE FROM {sla_day} WHERE day IN ({marks})", chunk)
                cur.execute(f"DELETE FROM {org_day} WHERE day IN ({marks})", chunk)
                cur.execute(
                    f"INSERT INTO {sla_day} (day, channel_id, type, priority, level, cases,"
                    " fr_met, fr_breached, fr_pending, res_met, res_breached, res_pending)"
                    f" SELECT created_day, channel_id, type, priority, level, COUNT(*), {states}"
                    f" FROM {figures} WHERE created_day IN ({marks})"
                    " GROUP BY created_day, channel_id, type, priority, level",
                    chunk,
                )
                written += cur.rowcount
                cur.execute(
                    f"INSERT INTO {org_day} (day, organization_id, cases, open)"
                    " SELECT created_day, organization_id, COUNT(*),"
                    " SUM(CASE WHEN active THEN 1 ELSE 0 END)"
                    f" FROM {figures} WHERE created_day IN ({marks})"
                    " GROUP BY created_day, organization_id",
                    chunk,
                )
                written += cur.rowcount
        for month in sorted({_month(d) for d in days}):
            bounds = [month, _next_month(month)]
            with transaction.atomic():
                cur.execute(f"DELETE FROM {time_month} WHERE month = %s", [month])
                for kind in ("fr", "res"):
                    cur.execute(
                        f"INSERT INTO {time_month} (month, channel_id, type, kind, bucket, cases)"
                        f" SELECT %s, channel_id, type, %s, {kind}_bucket, COUNT(*)"
                        f" FROM {figures} WHERE created_day >= %s AND created_day < %s"
                        f" AND {kind}_bucket IS NOT NULL GROUP BY channel_id, type, {kind}_bucket",
                        [month, kind, *bounds],
                    )
                    written += cur.rowcount
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


# -- missed calls ---------------------------------------------------------------------


def callbacks(
    start: dt.datetime,
    end: dt.datetime,
    *,
    channel: Channel | None = None,
    organization: Any = None,
) -> list[dict[str, Any]]:
    """Each missed inbound call in [start, end) with a readable number, with its first
    outbound call to the same number (on any line) within seven days, and the business
    seconds between them on the line's attention hours."""
    calls = Call.objects.filter(
        direction=CallDirection.IN, missed=True, started_at__gte=start, started_at__lt=end
    ).exclude(caller_e164="")
    if channel:
        calls = calls.filter(channel=channel)
    if organization:
        calls = calls.filter(organization=organization)
    missed = plain(
        calls.order_by("started_at").values(
            "id", "channel_id", "organization_id", "caller_e164", "started_at", "case_id"
        )
    )
    if not missed:
        return []
    numbers = {m["caller_e164"] for m in missed}
    outbound: dict[str, list[dt.datetime]] = defaultdict(list)
    # Every outbound call of the range (they are few next to the cases), matched in Python:
    # an IN list of thousands of numbers costs the database more than reading them all.
    for number, at in (
        Call.objects.filter(
            direction=CallDirection.OUT,
            started_at__gte=start,
            started_at__lt=end + CALLBACK_WINDOW,
        )
        .order_by("started_at")
        .values_list("caller_e164", "started_at")
        .iterator(chunk_size=10000)
    ):
        if number in numbers:
            outbound[number].append(at)
    cals = {c.pk: attention_calendar(c) for c in Channel.objects.all()}
    out = []
    for m in missed:
        times = outbound.get(m["caller_e164"], [])
        i = bisect_right(times, m["started_at"])
        back = (
            times[i] if i < len(times) and times[i] - m["started_at"] <= CALLBACK_WINDOW else None
        )
        cal = cals.get(m["channel_id"])
        seconds = None
        if back is not None:
            seconds = (
                cal.elapsed(m["started_at"], back)
                if cal
                else int((back - m["started_at"]).total_seconds())
            )
        out.append({**m, "called_back_at": back, "seconds": seconds})
    return out


def _write_missed_days(first: dt.date, last: dt.date) -> int:
    """Recompute the missed calls of the local days [first, last] per line, organization
    and histogram bucket of the time to the callback."""
    start, end = local_day_bounds(first)[0], local_day_bounds(last)[1]
    counts: dict[tuple[dt.date, int, int | None, int | None], int] = defaultdict(int)
    for m in callbacks(start, end):
        day = m["started_at"].astimezone(LOCAL).date()
        key = (day, m["channel_id"], m["organization_id"], histogram.bucket(m["seconds"]))
        counts[key] += 1
    rows = [(*key, n) for key, n in counts.items()]
    with transaction.atomic():
        MissedCallDay.objects.filter(day__gte=first, day__lte=last).delete()
        bulk_insert(
            MissedCallDay._meta.db_table,
            ["day", "channel_id", "organization_id", "bucket", "calls"],
            rows,
        )
    return len(rows)


# -- contacts per hour ----------------------------------------------------------------


def _contacts_between(start: dt.datetime, end: dt.datetime) -> Iterator[tuple[int, int]]:
    """(channel id, epoch second) of every contact in [start, end): a call received on a
    phone line; an inbound message (note) on any other channel; a case opened on the portal
    or the API (its form is the message). Automatic notes are not contacts, and neither are
    the notes the phone line writes for missed calls (the call is counted)."""
    calls = Call.objects.filter(
        direction=CallDirection.IN, started_at__gte=start, started_at__lt=end
    ).order_by()
    yield from (
        calls.annotate(at=Epoch("started_at"))
        .values_list("channel_id", "at")
        .iterator(chunk_size=10000)
    )
    notes = (
        Note.objects.filter(
            direction=Direction.INBOUND, automatic=False, created_at__gte=start, created_at__lt=end
        )
        .exclude(channel__kind="phone")
        .exclude(channel__isnull=True, case__channel__kind="phone")
        .order_by()
    )
    for note_channel, case_channel, at in (
        notes.annotate(at=Epoch("created_at"))
        .values_list("channel_id", "case__channel_id", "at")
        .iterator(chunk_size=10000)
    ):
        yield (note_channel or case_channel, at)
    opened = Case.objects.filter(
        channel__kind__in=CASE_IS_CONTACT, created_at__gte=start, created_at__lt=end
    ).order_by()
    yield from (
        opened.annotate(at=Epoch("created_at"))
        .values_list("channel_id", "at")
        .iterator(chunk_size=10000)
    )


def _write_contact_days(first: dt.date, last: dt.date) -> int:
    """Recompute the contacts per channel, local day and hour of [first, last]. The
    contacts are read as (channel, epoch second) pairs, so this is a tight loop of integer
    look-ups; the channel's hours were open at an instant as its calendar says."""
    channels = {c.pk: attention_calendar(c) for c in Channel.objects.all()}
    local = LocalHours()
    written = 0
    day = first
    while day <= last:
        stop = min(day + dt.timedelta(days=31), last + dt.timedelta(days=1))
        start, end = local_day_bounds(day)[0], local_day_bounds(stop)[0]
        counts: dict[tuple[dt.date, int, int], list[int]] = defaultdict(lambda: [0, 0])
        for channel_id, at in _contacts_between(start, end):
            cell = counts[(*local(at), channel_id)]
            cell[0] += 1
            cal = channels.get(channel_id)
            if cal is not None and not cal.is_open_epoch(at):
                cell[1] += 1
        rows = [(d, ch, h, c, o) for (d, h, ch), (c, o) in counts.items()]
        with transaction.atomic():
            ContactHour.objects.filter(day__gte=day, day__lt=stop).delete()
            bulk_insert(
                ContactHour._meta.db_table,
                ["day", "channel_id", "hour", "contacts", "out_of_hours"],
                rows,
            )
        written += len(rows)
        day = stop
    return written


# -- the refresh ----------------------------------------------------------------------


def refresh(*, full: bool = False, now: dt.datetime | None = None) -> dict[str, int]:
    """Bring the roll-ups up to date: the figures of every case saved since the last run
    (minus a margin) or still open (the sweep breaches clocks without saving the case), the
    contacts of every day since, and the missed calls of every day since less the
    callback window (a callback can still come). `full` recomputes everything from
    scratch, in bulk. Returns how many rows were written."""
    now = now or clock.now()
    state = RefreshState.objects.filter(name="reports").first()
    since = None if full or state is None else state.refreshed_at - MARGIN
    days: set[dt.date] = set()
    if since is None:
        first_note = Note.objects.order_by("created_at").values_list("created_at", flat=True)
        first_call = Call.objects.order_by("started_at").values_list("started_at", flat=True)
        first_case = Case.objects.order_by("created_at").values_list("created_at", flat=True)
        firsts = (first_note.first(), first_call.first(), first_case.first())
        starts = [t for t in firsts if t is not None]
        first_day = min(starts).astimezone(LOCAL).date() if starts else now.astimezone(LOCAL).date()
        missed_from = first_day
        figures = _rebuild_figures(now, days)
        # Also drop the sums of days (and months) without cases any more.
        SlaDay.objects.all().delete()
        OrganizationDay.objects.all().delete()
        TimeMonth.objects.all().delete()
    else:
        changed = set(
            Case.objects.filter(updated_at__gte=since).order_by().values_list("pk", flat=True)
        )
        live = CaseFigures.objects.filter(active=True).values_list("case_id", flat=True)
        changed.update(live)
        figures = sum(_write_figures(chunk, now, days) for chunk in _chunks(sorted(changed)))
        first_day = since.astimezone(LOCAL).date()
        missed_from = (since - CALLBACK_WINDOW).astimezone(LOCAL).date()
    today = now.astimezone(LOCAL).date()
    day_rows = _write_days(days)
    contacts = _write_contact_days(first_day, today)
    missed = _write_missed_days(missed_from, today)
    RefreshState.objects.update_or_create(name="reports", defaults={"refreshed_at": now})
    return {
        "figures": figures,
        "day_rows": day_rows,
        "contact_hours": contacts,
        "missed_call_rows": missed,
    }
