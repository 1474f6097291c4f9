"""The reports' figures. Each report is a dict of tables (columns and rows); every row
carries `cases_url`, the console's list of the cases behind it (`cases_behind` answers it).

SLA compliance, times and volume read the per-case roll-up (`CaseFigures`); the heatmap
reads `ContactHour`; backlog, escalations and missed calls are small enough (open cases,
escalation requests, missed calls) to be read live. `direct_sla_counts` counts SLA
compliance from the cases and clocks themselves, for checking the roll-up.
"""

from __future__ import annotations

import datetime as dt
import functools
import math
from collections import defaultdict
from typing import Any

from django.db import connection
from django.db.models import (
    Aggregate,
    Count,
    DurationField,
    Exists,
    F,
    Min,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    When,
)
from django.db.models import Case as CaseWhen
from django.db.models.functions import ExtractIsoWeekDay, TruncMonth, TruncWeek
from django.urls import reverse

from atiende.accounts.models import User
from atiende.cases.models import Case, Priority
from atiende.cases.statuses import ACTIVE
from atiende.channels.phone.models import Call
from atiende.channels.phone.models import Direction as CallDirection
from atiende.core import clock
from atiende.directory.models import Channel
from atiende.escalations.models import EscalationRequest, RequestStatus, Via
from atiende.reports import histogram, services
from atiende.reports.filters import Filters
from atiende.reports.hours import LOCAL, attention_calendar, attention_schedule, weekly_open_grid
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
from atiende.reports.services import plain, sla_counts
from atiende.sla.models import SlaTimer, TimerKind

WEEKDAYS_ES = ("Lunes", "Martes", "Miércoles", "Jueves", "Viernes", "Sábado", "Domingo")
AGE_BUCKETS = (  # (key, label, from days, to days)
    ("d0_1", "Menos de 1 día", 0, 1),
    ("d1_3", "1 a 3 días", 1, 3),
    ("d3_7", "3 a 7 días", 3, 7),
    ("d7_30", "7 a 30 días", 7, 30),
    ("d30", "Más de 30 días", 30, None),
)
SLA_DRILLS = {
    f"{kind}_{state}"
    for kind in ("fr", "res")
    for state in (TimerState.MET, TimerState.BREACHED, TimerState.PENDING)
}


def may_read_reports(user: User) -> bool:
    return user.is_active and user.role in ("supervisor", "admin")


@functools.cache
def _cases_path() -> str:
    return reverse("console:reports_cases")


def cases_url(filters: Filters, **drill: Any) -> str:
    return f"{_cases_path()}?{filters.query(**drill)}"


def refreshed_at() -> dt.datetime | None:
    state = RefreshState.objects.filter(name="reports").first()
    return state.refreshed_at if state else None


def _report(name: str, filters: Filters, tables: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "report": name,
        "from": filters.start.isoformat(),
        "to": filters.end.isoformat(),
        "filters": {k: v for k, v in filters.params().items() if k not in ("from", "to")},
        "generated_at": clock.now().isoformat(),
        "tables": tables,
        **extra,
    }


def _table(columns: list[tuple[str, str]], rows: list[dict[str, Any]]) -> dict[str, Any]:
    return {"columns": [{"key": k, "label": label} for k, label in columns], "rows": rows}


def _pct(part: int, whole: int) -> float | None:
    return round(100.0 * part / whole, 1) if whole else None


def _channels() -> dict[int, Channel]:
    return {c.pk: c for c in Channel.objects.all()}


# -- the per-case roll-up, filtered -----------------------------------------------------


def figures(filters: Filters) -> QuerySet[CaseFigures]:
    qs = CaseFigures.objects.filter(created_day__gte=filters.start, created_day__lte=filters.end)
    if filters.channel:
        qs = qs.filter(channel=filters.channel)
    if filters.type:
        qs = qs.filter(type=filters.type)
    if filters.organization:
        qs = qs.filter(organization=filters.organization)
    return qs.order_by()


SLA_FIELDS = [
    f"{kind}_{state}"
    for kind in ("fr", "res")
    for state in (TimerState.MET, TimerState.BREACHED, TimerState.PENDING)
]


def _sla_source(filters: Filters) -> tuple[QuerySet[Any], str, dict[str, Any]]:
    """Where SLA counts come from: the daily sums, unless the report is for one
    organization (the sums have no organization; the per-case figures have an index for
    it). Returns the rows, their day field and the aggregates that count them."""
    if filters.organization is not None:
        return figures(filters), "created_day", sla_counts()
    qs = SlaDay.objects.filter(day__gte=filters.start, day__lte=filters.end)
    if filters.channel:
        qs = qs.filter(channel=filters.channel)
    if filters.type:
        qs = qs.filter(type=filters.type)
    return qs.order_by(), "day", {"cases": Sum("cases"), **{f: Sum(f) for f in SLA_FIELDS}}


def _with_pct(row: dict[str, Any]) -> dict[str, Any]:
    for kind in ("fr", "res"):
        met, breached = row[f"{kind}_met"], row[f"{kind}_breached"]
        row[f"{kind}_pct"] = _pct(met, met + breached)
    return row


def nearest_rank(values: list[int], fraction: float) -> int | None:
    """The smallest value with at least `fraction` of the values at or below it."""
    if not values:
        return None
    return values[max(math.ceil(fraction * len(values)) - 1, 0)]


TIME_KEYS = ("fr_median", "fr_p90", "res_median", "res_p90")


def _month(day: dt.date) -> dt.date:
    return day.replace(day=1)


def _next_month(month: dt.date) -> dt.date:
    return (month.replace(day=28) + dt.timedelta(days=4)).replace(day=1)


def full_months(filters: Filters) -> tuple[dt.date, dt.date] | None:
    """[first, stop): the first days of the months wholly inside the range, if any."""
    first = filters.start if filters.start.day == 1 else _next_month(filters.start)
    stop = _month(filters.end + dt.timedelta(days=1))
    return (first, stop) if first < stop else None


def time_histograms(filters: Filters) -> dict[int, dict[str, dict[int, int]]]:
    """{channel id: {"fr" | "res": {bucket: cases}}} over the range: whole months from the
    monthly histograms, the days at the edges (and everything, for one organization: the
    histograms have no organization) from the per-case figures' buckets."""
    hist: dict[int, dict[str, dict[int, int]]] = defaultdict(
        lambda: {"fr": defaultdict(int), "res": defaultdict(int)}
    )
    edges = [(filters.start, filters.end)]
    months = None if filters.organization is not None else full_months(filters)
    if months is not None:
        first, stop = months
        edges = [
            (lo, hi)
            for lo, hi in (
                (filters.start, first - dt.timedelta(days=1)),
                (stop, filters.end),
            )
            if lo <= hi
        ]
        rolled = TimeMonth.objects.filter(month__gte=first, month__lt=stop)
        if filters.channel:
            rolled = rolled.filter(channel=filters.channel)
        if filters.type:
            rolled = rolled.filter(type=filters.type)
        for channel_id, kind, bucket, n in (
            rolled.order_by()
            .values("channel_id", "kind", "bucket")
            .annotate(n=Sum("cases"))
            .values_list("channel_id", "kind", "bucket", "n")
        ):
            hist[channel_id][kind][bucket] += n
    # One query per stretch of days (each an index range), both times at once.
    for lo, hi in edges:
        for channel_id, fr, res, n in (
            figures(filters)
            .filter(created_day__gte=lo, created_day__lte=hi)
            .values("channel_id", "fr_bucket", "res_bucket")
            .annotate(n=Count("pk"))
            .values_list("channel_id", "fr_bucket", "res_bucket", "n")
        ):
            if fr is not None:
                hist[channel_id]["fr"][fr] += n
            if res is not None:
                hist[channel_id]["res"][res] += n
    return hist


def _times(filters: Filters) -> dict[int, dict[str, int | None]]:
    """{channel id: {fr_median, fr_p90, res_median, res_p90}}, read from the histograms
    (each the upper bound of the bucket holding the exact figure: `reports.histogram`)."""
    return {
        channel_id: {
            f"{kind}_{name}": histogram.percentile(per[kind], fraction)
            for kind in ("fr", "res")
            for name, fraction in (("median", 0.5), ("p90", 0.9))
        }
        for channel_id, per in time_histograms(filters).items()
    }


# -- SLA compliance and times ---------------------------------------------------------

SLA_COLUMNS = [
    ("cases", "Casos"),
    ("fr_met", "Primera respuesta: cumplidos"),
    ("fr_breached", "Primera respuesta: incumplidos"),
    ("fr_pending", "Primera respuesta: en curso"),
    ("fr_pct", "Primera respuesta: % cumplimiento"),
    ("res_met", "Resolución: cumplidos"),
    ("res_breached", "Resolución: incumplidos"),
    ("res_pending", "Resolución: en curso"),
    ("res_pct", "Resolución: % cumplimiento"),
]
TIME_COLUMNS = [
    ("fr_median", "Primera respuesta: mediana (s hábiles)"),
    ("fr_p90", "Primera respuesta: p90 (s hábiles)"),
    ("res_median", "Resolución: mediana (s hábiles)"),
    ("res_p90", "Resolución: p90 (s hábiles)"),
]


def sla_report(filters: Filters) -> dict[str, Any]:
    """Compliance (met, breached, % = met / (met + breached)) of both clocks by channel x
    type x priority x level per week or month of opening; per channel, with the median and
    p90 business time to first response and to resolution."""
    channels = _channels()
    source, day_field, counts = _sla_source(filters)
    trunc = TruncWeek if filters.period == "week" else TruncMonth
    detail = []
    for row in (
        source.annotate(period=trunc(day_field))
        .values("period", "channel_id", "type", "priority", "level")
        .annotate(**counts)
        .order_by("period", "channel_id", "type", "priority", "level")
    ):
        period = row.pop("period")
        period = period.date() if isinstance(period, dt.datetime) else period
        channel = channels[row.pop("channel_id")]
        end = (
            period + dt.timedelta(days=6)
            if filters.period == "week"
            else (period.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
            - dt.timedelta(days=1)
        )
        scoped = Filters(
            max(period, filters.start),
            min(end, filters.end),
            channel,
            row["type"],
            filters.organization,
        )
        detail.append(
            {
                "period": period.isoformat(),
                "channel": channel.slug,
                "type": row["type"],
                "priority": row["priority"],
                "level": row["level"],
                **_with_pct(row),
                "cases_url": cases_url(scoped, priority=row["priority"], level=row["level"]),
            }
        )
    times = _times(filters)
    by_channel = []
    for row in source.values("channel_id").annotate(**counts).order_by("channel_id"):
        channel = channels[row.pop("channel_id")]
        scoped = filters.with_channel(channel)
        by_channel.append(
            {
                "channel": channel.slug,
                "channel_name": channel.name,
                **_with_pct(row),
                **times.get(channel.pk, dict.fromkeys(TIME_KEYS)),
                "cases_url": cases_url(scoped),
                "fr_breached_url": cases_url(scoped, sla="fr_breached"),
                "res_breached_url": cases_url(scoped, sla="res_breached"),
            }
        )
    dims = [
        ("period", "Semana" if filters.period == "week" else "Mes"),
        ("channel", "Canal"),
        ("type", "Tipo"),
        ("priority", "Prioridad"),
        ("level", "Nivel"),
    ]
    return _report(
        "sla",
        filters,
        {
            "by_channel": _table(
                [("channel", "Canal"), ("channel_name", "Nombre"), *SLA_COLUMNS, *TIME_COLUMNS],
                by_channel,
            ),
            "detail": _table([*dims, *SLA_COLUMNS], detail),
        },
        period=filters.period,
        refreshed_at=_iso(refreshed_at()),
    )


def _iso(value: dt.datetime | None) -> str | None:
    return value.isoformat() if value else None


def direct_sla_counts(filters: Filters) -> dict[str, dict[str, int]]:
    """Compliance counts per channel slug, counted from the cases and their clocks (not the
    roll-up): what the roll-up must agree with."""
    start, end = filters.instants
    cases = Case.objects.filter(created_at__gte=start, created_at__lt=end)
    if filters.channel:
        cases = cases.filter(channel=filters.channel)
    if filters.type:
        cases = cases.filter(type=filters.type)
    if filters.organization:
        cases = cases.filter(organization=filters.organization)
    late = Q(breached_at__isnull=False) | Q(met_at__gt=F("due_at"))
    states = {
        TimerState.BREACHED: late,
        TimerState.MET: Q(met_at__isnull=False) & ~late,
        TimerState.PENDING: Q(met_at__isnull=True, breached_at__isnull=True),
    }
    annotations: dict[str, Any] = {"cases": Count("pk")}
    for prefix, kind in (("fr", TimerKind.FIRST_RESPONSE), ("res", TimerKind.RESOLUTION)):
        for state, cond in states.items():
            name = f"has_{prefix}_{state}"
            cases = cases.annotate(
                **{name: Exists(SlaTimer.objects.filter(cond, case=OuterRef("pk"), kind=kind))}
            )
            annotations[f"{prefix}_{state}"] = Count("pk", filter=Q(**{name: True}))
    out: dict[str, dict[str, int]] = {}
    for row in plain(cases.order_by().values("channel__slug").annotate(**annotations)):
        out[row.pop("channel__slug")] = row
    return out


# -- contacts per hour of the week ----------------------------------------------------


def contacts_report(filters: Filters) -> dict[str, Any]:
    """Contacts (calls received, inbound messages, cases opened on the portal or the API)
    per channel, weekday and local hour, and how many came while the channel's attention
    hours were closed."""
    qs = ContactHour.objects.filter(day__gte=filters.start, day__lte=filters.end)
    if filters.channel:
        qs = qs.filter(channel=filters.channel)
    channels = _channels()
    cells = (
        qs.annotate(weekday=ExtractIsoWeekDay("day"))
        .values("channel_id", "weekday", "hour")
        .annotate(n=Sum("contacts"), closed=Sum("out_of_hours"))
        .order_by("channel_id", "weekday", "hour")
    )
    heat: dict[int, dict[tuple[int, int], tuple[int, int]]] = defaultdict(dict)
    for c in cells:
        heat[c["channel_id"]][(c["weekday"], c["hour"])] = (c["n"], c["closed"])
    by_channel, heatmap, grids = [], [], []
    for channel_id in sorted(heat, key=lambda i: (channels[i].position, channels[i].slug)):
        channel = channels[channel_id]
        scoped = filters.with_channel(channel)
        open_grid = weekly_open_grid(attention_calendar(channel))
        total = sum(n for n, _ in heat[channel_id].values())
        closed = sum(o for _, o in heat[channel_id].values())
        by_channel.append(
            {
                "channel": channel.slug,
                "channel_name": channel.name,
                "schedule": attention_schedule(channel) or "",
                "contacts": total,
                "out_of_hours": closed,
                "out_of_hours_pct": _pct(closed, total),
                "cases_url": cases_url(scoped, contacts="all"),
                "out_of_hours_url": cases_url(scoped, contacts="closed"),
            }
        )
        grid = []
        for weekday in range(1, 8):
            row = []
            for hour in range(24):
                n, o = heat[channel_id].get((weekday, hour), (0, 0))
                is_open = open_grid[weekday - 1][hour]
                row.append({"contacts": n, "out_of_hours": o, "open": is_open})
                if n:
                    heatmap.append(
                        {
                            "channel": channel.slug,
                            "weekday": weekday,
                            "weekday_name": WEEKDAYS_ES[weekday - 1],
                            "hour": hour,
                            "contacts": n,
                            "out_of_hours": o,
                            "open": is_open,
                            "cases_url": cases_url(
                                scoped, contacts="all", weekday=weekday, hour=hour
                            ),
                        }
                    )
            grid.append(row)
        grids.append({"channel": channel.slug, "channel_name": channel.name, "grid": grid})
    return _report(
        "contacts-by-hour",
        filters,
        {
            "by_channel": _table(
                [
                    ("channel", "Canal"),
                    ("channel_name", "Nombre"),
                    ("schedule", "Horario de atención"),
                    ("contacts", "Contactos"),
                    ("out_of_hours", "Fuera de horario"),
                    ("out_of_hours_pct", "% fuera de horario"),
                ],
                by_channel,
            ),
            "heatmap": _table(
                [
                    ("channel", "Canal"),
                    ("weekday", "Día (1 = lunes)"),
                    ("weekday_name", "Día"),
                    ("hour", "Hora"),
                    ("contacts", "Contactos"),
                    ("out_of_hours", "Fuera de horario"),
                    ("open", "Horario de atención"),
                ],
                heatmap,
            ),
        },
        grids=grids,
        refreshed_at=_iso(refreshed_at()),
    )


# -- missed-call recovery --------------------------------------------------------------


def _callbacks(filters: Filters) -> list[dict[str, Any]]:
    """The range's missed calls with their callbacks, read live (for the drill-down)."""
    return services.callbacks(
        *filters.instants, channel=filters.channel, organization=filters.organization
    )


def missed_calls_report(filters: Filters) -> dict[str, Any]:
    """Per line: the missed calls of the range, how many were called back, and the median
    and p90 business time to the callback, from the daily roll-up (`MissedCallDay`)."""
    channels = _channels()
    qs = MissedCallDay.objects.filter(day__gte=filters.start, day__lte=filters.end)
    if filters.channel:
        qs = qs.filter(channel=filters.channel)
    if filters.organization:
        qs = qs.filter(organization=filters.organization)
    lines: dict[int, dict[int | None, int]] = defaultdict(dict)
    for channel_id, bucket, n in (
        qs.order_by()
        .values("channel_id", "bucket")
        .annotate(n=Sum("calls"))
        .values_list("channel_id", "bucket", "n")
    ):
        lines[channel_id][bucket] = n
    rows = []
    for channel_id, buckets in sorted(lines.items(), key=lambda kv: channels[kv[0]].slug):
        channel = channels[channel_id]
        scoped = filters.with_channel(channel)
        back = {b: n for b, n in buckets.items() if b is not None}
        missed, called_back = sum(buckets.values()), sum(back.values())
        rows.append(
            {
                "channel": channel.slug,
                "channel_name": channel.name,
                "missed": missed,
                "called_back": called_back,
                "called_back_pct": _pct(called_back, missed),
                "callback_median": histogram.percentile(back, 0.5),
                "callback_p90": histogram.percentile(back, 0.9),
                "cases_url": cases_url(scoped, missed="all"),
                "not_called_back_url": cases_url(scoped, missed="pending"),
            }
        )
    return _report(
        "missed-calls",
        filters,
        {
            "by_line": _table(
                [
                    ("channel", "Línea"),
                    ("channel_name", "Nombre"),
                    ("missed", "Llamadas perdidas"),
                    ("called_back", "Devueltas"),
                    ("called_back_pct", "% devueltas"),
                    ("callback_median", "Tiempo a la devolución: mediana (s hábiles)"),
                    ("callback_p90", "Tiempo a la devolución: p90 (s hábiles)"),
                ],
                rows,
            )
        },
        refreshed_at=_iso(refreshed_at()),
    )


# -- escalations -------------------------------------------------------------------------


def _escalations(filters: Filters) -> QuerySet[EscalationRequest]:
    start, end = filters.instants
    qs = EscalationRequest.objects.filter(created_at__gte=start, created_at__lt=end)
    if filters.channel:
        qs = qs.filter(case__channel=filters.channel)
    if filters.type:
        qs = qs.filter(case__type=filters.type)
    if filters.organization:
        qs = qs.filter(case__organization=filters.organization)
    return qs.order_by()


class _MedianDisc(Aggregate):
    """PostgreSQL's nearest-rank median (`nearest_rank(values, 0.5)`), of intervals."""

    function = "percentile_disc"
    template = "%(function)s(0.5) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = DurationField()


def _escalation_medians(
    qs: QuerySet[EscalationRequest],
) -> tuple[dict[int, int | None], dict[int, int | None]]:
    """({to level: median seconds from request to decision}, {from level: median seconds
    at that level before an accepted escalation out of it}). The time at a level runs from
    reaching it (the case's opening for level 1, otherwise the accepted escalation to it).
    PostgreSQL takes the medians itself (no request leaves the database); SQLite's are
    worked out here from the requests."""
    entered = Subquery(
        EscalationRequest.objects.filter(
            case_id=OuterRef("case_id"),
            to_level=OuterRef("from_level"),
            status=RequestStatus.ACCEPTED,
        )
        .order_by("-decided_at")
        .values("decided_at")[:1]
    )
    accepted = qs.filter(status=RequestStatus.ACCEPTED).annotate(
        entered=CaseWhen(When(from_level=1, then=F("case__created_at")), default=entered)
    )
    decided = qs.filter(decided_at__isnull=False)
    if connection.vendor == "postgresql":

        def seconds(rows: Any) -> dict[int, int | None]:
            return {k: int(v.total_seconds()) if v is not None else None for k, v in rows}

        decision = seconds(
            decided.values("to_level")
            .annotate(m=_MedianDisc(F("decided_at") - F("created_at")))
            .values_list("to_level", "m")
        )
        at_previous = seconds(
            accepted.values("from_level")
            .annotate(m=_MedianDisc(F("decided_at") - F("entered")))
            .values_list("from_level", "m")
        )
        return decision, at_previous
    durations: dict[str, dict[int, list[int]]] = {
        "decision": defaultdict(list),
        "at": defaultdict(list),
    }
    for level, created, decided_at in decided.values_list("to_level", "created_at", "decided_at"):
        if decided_at is not None:
            durations["decision"][level].append(int((decided_at - created).total_seconds()))
    for level, decided_at, entered_at in accepted.values_list(
        "from_level", "decided_at", "entered"
    ):
        if entered_at is not None and decided_at is not None:
            durations["at"][level].append(int((decided_at - entered_at).total_seconds()))
    return (
        {k: nearest_rank(sorted(v), 0.5) for k, v in durations["decision"].items()},
        {k: nearest_rank(sorted(v), 0.5) for k, v in durations["at"].items()},
    )


def escalations_report(filters: Filters) -> dict[str, Any]:
    """Per level reached: requested, accepted, rejected (with the reasons), pending,
    automatic (on a breach); the median hours to a decision, and the median hours a case
    spent at the level before moving up."""
    qs = _escalations(filters)
    funnel: list[dict[str, Any]] = []
    for row in plain(
        qs.values("to_level")
        .annotate(
            requested=Count("pk"),
            accepted=Count("pk", filter=Q(status=RequestStatus.ACCEPTED)),
            rejected=Count("pk", filter=Q(status=RequestStatus.REJECTED)),
            pending=Count("pk", filter=Q(status=RequestStatus.PENDING)),
            automatic=Count("pk", filter=Q(via=Via.AUTO)),
        )
        .order_by("to_level")
    ):
        funnel.append({**row, "accepted_pct": _pct(row["accepted"], row["requested"])})
    decision, at_previous = _escalation_medians(qs)
    for row in funnel:
        level = row["to_level"]
        row["decision_median"] = decision.get(level)
        row["time_at_previous_median"] = at_previous.get(level - 1)
        row["cases_url"] = cases_url(filters, escalated_to=level)
        row["rejected_url"] = cases_url(filters, escalated_to=level, escalation="rejected")
        row["automatic_url"] = cases_url(filters, escalated_to=level, escalation="auto")
    reasons = []
    for row in plain(
        qs.filter(status=RequestStatus.REJECTED)
        .values("to_level", "decision_reason")
        .annotate(count=Count("pk"))
        .order_by("to_level", "-count", "decision_reason")
    ):
        reasons.append(
            {
                "to_level": row["to_level"],
                "reason": row["decision_reason"] or "(sin motivo)",
                "count": row["count"],
                "cases_url": cases_url(
                    filters, escalated_to=row["to_level"], escalation="rejected"
                ),
            }
        )
    return _report(
        "escalations",
        filters,
        {
            "funnel": _table(
                [
                    ("to_level", "Nivel solicitado"),
                    ("requested", "Solicitados"),
                    ("accepted", "Aceptados"),
                    ("rejected", "Rechazados"),
                    ("pending", "Pendientes"),
                    ("automatic", "Automáticos (ANS vencido)"),
                    ("accepted_pct", "% aceptados"),
                    ("decision_median", "Tiempo a la decisión: mediana (s)"),
                    ("time_at_previous_median", "Tiempo en el nivel anterior: mediana (s)"),
                ],
                funnel,
            ),
            "rejections": _table(
                [("to_level", "Nivel solicitado"), ("reason", "Motivo"), ("count", "Rechazos")],
                reasons,
            ),
        },
    )


# -- backlog, ageing and volume -----------------------------------------------------------


def _open_cases(filters: Filters) -> QuerySet[Case]:
    qs = Case.objects.filter(status__in=ACTIVE)
    if filters.channel:
        qs = qs.filter(channel=filters.channel)
    if filters.type:
        qs = qs.filter(type=filters.type)
    if filters.organization:
        qs = qs.filter(organization=filters.organization)
    return qs.order_by()


def backlog_report(filters: Filters) -> dict[str, Any]:
    """Open cases now (new, open, waiting for the customer) by channel and priority, with
    their age since opening; and the cases each organization opened in the range."""
    now = clock.now()
    buckets = {}
    for key, _label, lo, hi in AGE_BUCKETS:
        cond = Q(created_at__lte=now - dt.timedelta(days=lo))
        if hi is not None:
            cond &= Q(created_at__gt=now - dt.timedelta(days=hi))
        buckets[key] = Count("pk", filter=cond)
    channels = _channels()
    ageing = []
    for row in plain(
        _open_cases(filters)
        .values("channel_id", "priority")
        .annotate(open=Count("pk"), oldest=Min("created_at"), **buckets)
        .order_by("channel_id", "priority")
    ):
        channel = channels[row.pop("channel_id")]
        scoped = filters.with_channel(channel)
        oldest = row.pop("oldest")
        ageing.append(
            {
                "channel": channel.slug,
                "priority": row["priority"],
                **row,
                "oldest_days": round((now - oldest).total_seconds() / 86400, 1),
                "cases_url": cases_url(scoped, backlog="all", priority=row["priority"]),
                **{
                    f"{key}_url": cases_url(scoped, backlog=key, priority=row["priority"])
                    for key, *_ in AGE_BUCKETS
                },
            }
        )
    ageing.sort(key=lambda r: (r["channel"], list(Priority.values).index(r["priority"])))
    orgs = []
    names = {}
    if filters.channel or filters.type:  # the daily sums are per organization only
        volume: QuerySet[Any, Any] = figures(filters).values("organization_id")
        volume = volume.annotate(cases=Count("pk"), open=Count("pk", filter=Q(active=True)))
    else:
        days = OrganizationDay.objects.filter(day__gte=filters.start, day__lte=filters.end)
        if filters.organization:
            days = days.filter(organization=filters.organization)
        volume = days.values("organization_id").annotate(cases=Sum("cases"), open=Sum("open"))
    rows = plain(volume.order_by("-cases", "organization_id"))
    from atiende.customers.models import Organization

    names = {
        o.pk: o for o in Organization.objects.filter(pk__in=[r["organization_id"] for r in rows])
    }
    for row in rows:
        org = names.get(row["organization_id"])
        orgs.append(
            {
                "organization": org.slug if org else "",
                "organization_name": org.name if org else "(sin organización)",
                "cases": row["cases"],
                "open": row["open"],
                "cases_url": cases_url(filters, organization=org.slug if org else "none"),
            }
        )
    return _report(
        "backlog",
        filters,
        {
            "ageing": _table(
                [
                    ("channel", "Canal"),
                    ("priority", "Prioridad"),
                    ("open", "Abiertos"),
                    *[(key, label) for key, label, *_ in AGE_BUCKETS],
                    ("oldest_days", "El más antiguo (días)"),
                ],
                ageing,
            ),
            "organizations": _table(
                [
                    ("organization", "Organización"),
                    ("organization_name", "Nombre"),
                    ("cases", "Casos abiertos en el rango"),
                    ("open", "De ellos, abiertos hoy"),
                ],
                orgs,
            ),
        },
        as_of=now.isoformat(),
    )


# -- satisfaction --------------------------------------------------------------------------


def ratings(filters: Filters) -> list[dict[str, Any]]:
    """The portal's satisfaction ratings in range: [{case_id, channel_id, assignee_id,
    score, asked}]. Empty: the portal does not ask for ratings yet (the rating model is
    being built); the report already reads this one function."""
    return []


def satisfaction_report(filters: Filters) -> dict[str, Any]:
    """Average score and response rate (rated / asked) by channel and by agent."""
    by_channel: dict[Any, list[dict[str, Any]]] = defaultdict(list)
    by_agent: dict[Any, list[dict[str, Any]]] = defaultdict(list)
    for r in ratings(filters):
        by_channel[r["channel_id"]].append(r)
        by_agent[r["assignee_id"]].append(r)
    channels = _channels()

    def summary(items: list[dict[str, Any]]) -> dict[str, Any]:
        scores = [i["score"] for i in items if i.get("score") is not None]
        return {
            "asked": len(items),
            "rated": len(scores),
            "response_pct": _pct(len(scores), len(items)),
            "average": round(sum(scores) / len(scores), 2) if scores else None,
        }

    channel_rows = [
        {"channel": channels[k].slug, **summary(v), "cases_url": cases_url(filters)}
        for k, v in by_channel.items()
    ]
    agents = {u.pk: u for u in User.objects.filter(pk__in=[k for k in by_agent if k])}
    agent_rows = [
        {
            "agent": agents[k].email if k in agents else "",
            **summary(v),
            "cases_url": cases_url(filters),
        }
        for k, v in by_agent.items()
    ]
    columns = [
        ("asked", "Encuestas enviadas"),
        ("rated", "Respondidas"),
        ("response_pct", "% de respuesta"),
        ("average", "Calificación promedio"),
    ]
    return _report(
        "satisfaction",
        filters,
        {
            "by_channel": _table([("channel", "Canal"), *columns], channel_rows),
            "by_agent": _table([("agent", "Agente"), *columns], agent_rows),
        },
        available=False,
        note="El portal aún no pide calificaciones; el informe se llenará cuando existan.",
    )


# -- drilling down: the cases behind a figure ---------------------------------------------


def cases_behind(filters: Filters, drill: Any) -> QuerySet[Case]:
    """The cases behind a figure: the report's filters plus what the figure adds (`drill`,
    a query dict): priority, level, sla (fr_met, res_breached…), backlog (all or an age
    bucket), contacts (all or closed, with weekday and hour), missed (all or pending),
    escalated_to with escalation (rejected, auto). Unknown values are a 422."""
    from atiende.core.errors import InvalidInput

    get = drill.get
    errors: dict[str, str] = {}
    _start, _end = filters.instants
    qs = Case.objects.all()
    base = Q()
    if filters.channel:
        base &= Q(channel=filters.channel)
    if filters.type:
        base &= Q(type=filters.type)
    org = get("organization")
    if org == "none":
        base &= Q(organization__isnull=True)
    elif filters.organization:
        base &= Q(organization=filters.organization)
    if p := get("priority"):
        if p not in Priority.values:
            errors["priority"] = "Prioridad inválida."
        base &= Q(priority=p)
    if lv := get("level"):
        level_number = _small_int(lv, 1, 99)
        if level_number is None:
            errors["level"] = "Nivel inválido."
        else:
            base &= Q(level=level_number)
    qs = qs.filter(base)
    if backlog := get("backlog"):
        now = clock.now()
        qs = qs.filter(status__in=ACTIVE)
        bucket = next((b for b in AGE_BUCKETS if b[0] == backlog), None)
        if bucket is not None:
            _key, _label, lo, hi = bucket
            qs = qs.filter(created_at__lte=now - dt.timedelta(days=lo))
            if hi is not None:
                qs = qs.filter(created_at__gt=now - dt.timedelta(days=hi))
        elif backlog != "all":
            errors["backlog"] = "Use all o un tramo de antigüedad."
    elif contacts := get("contacts"):
        ids = _contact_case_ids(filters, contacts, get("weekday"), get("hour"), errors)
        qs = qs.filter(pk__in=ids)
    elif missed := get("missed"):
        if missed not in ("all", "pending"):
            errors["missed"] = "Use all o pending."
        calls = _callbacks(filters)
        qs = qs.filter(
            pk__in=[
                c["case_id"]
                for c in calls
                if c["case_id"] and (missed == "all" or c["called_back_at"] is None)
            ]
        )
    elif level := get("escalated_to"):
        esc = _escalations(filters).filter(to_level=_small_int(level, 1, 99) or 0)
        kind = get("escalation")
        if kind == "rejected":
            esc = esc.filter(status=RequestStatus.REJECTED)
        elif kind == "auto":
            esc = esc.filter(via=Via.AUTO)
        elif kind:
            errors["escalation"] = "Use rejected o auto."
        qs = qs.filter(pk__in=esc.values("case_id"))
    else:
        facts = figures(filters)
        if sla := get("sla"):
            if sla not in SLA_DRILLS:
                errors["sla"] = "Valor inválido."
            else:
                kind, state = sla.split("_", 1)
                facts = facts.filter(**{f"{kind}_state": state})
        qs = qs.filter(pk__in=facts.values("case_id"))
    if errors:
        raise InvalidInput("Revise el detalle pedido.", errors=errors)
    return qs.select_related("channel", "organization", "assignee").order_by("-created_at", "-id")


def _small_int(value: Any, lo: int, hi: int) -> int | None:
    """A whole number within [lo, hi] from a query parameter, else None."""
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError):
        return None
    return number if lo <= number <= hi else None


def _contact_case_ids(
    filters: Filters, which: str, weekday: Any, hour: Any, errors: dict[str, str]
) -> set[int]:
    from atiende.cases.models import Direction, Note

    if which not in ("all", "closed"):
        errors["contacts"] = "Use all o closed."
        return set()
    wd = _small_int(weekday, 1, 7)
    hr = _small_int(hour, 0, 23)
    start, end = filters.instants
    channel_cals = {c.pk: attention_calendar(c) for c in Channel.objects.all()}
    rows: list[tuple[int | None, int, dt.datetime]] = []
    calls = Call.objects.filter(
        direction=CallDirection.IN, started_at__gte=start, started_at__lt=end
    )
    notes = Note.objects.filter(
        direction=Direction.INBOUND, automatic=False, created_at__gte=start, created_at__lt=end
    ).exclude(channel__kind="phone")
    opened = Case.objects.filter(
        channel__kind__in=("portal", "api"), created_at__gte=start, created_at__lt=end
    )
    if filters.channel:
        calls = calls.filter(channel=filters.channel)
        notes = notes.filter(
            Q(channel=filters.channel) | Q(channel__isnull=True, case__channel=filters.channel)
        )
        opened = opened.filter(channel=filters.channel)
    rows += list(calls.values_list("case_id", "channel_id", "started_at"))
    rows += [
        (case, note_channel or case_channel, at)
        for case, note_channel, case_channel, at in notes.values_list(
            "case_id", "channel_id", "case__channel_id", "created_at"
        )
    ]
    rows += [(pk, ch, at) for pk, ch, at in opened.values_list("pk", "channel_id", "created_at")]
    ids = set()
    for case_id, channel_id, at in rows:
        if case_id is None:
            continue
        local = at.astimezone(LOCAL)
        if wd is not None and local.isoweekday() != wd:
            continue
        if hr is not None and local.hour != hr:
            continue
        if which == "closed":
            cal = channel_cals.get(channel_id)
            if cal is None or cal.is_open(at):
                continue
        ids.add(case_id)
    return ids


REPORTS = {
    "sla": sla_report,
    "contacts-by-hour": contacts_report,
    "escalations": escalations_report,
    "backlog": backlog_report,
    "satisfaction": satisfaction_report,
    "missed-calls": missed_calls_report,
}
