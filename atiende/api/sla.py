"""Business-time arithmetic on the configured schedules (public), and a case's SLA clocks."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Any

from django.http import HttpRequest
from ninja import Query, Router, Schema
from pydantic import AfterValidator, Field

from atiende.cases import selectors as case_selectors
from atiende.core.errors import InvalidInput, NotFound
from atiende.sla import selectors
from atiende.sla.calendar import OutOfRange
from atiende.sla.models import Schedule
from atiende.sla.schedules import calendar

from .auth import caller
from .types import Slug, Text

router = Router(tags=["horarios y ANS"])

MAX_SECONDS = 10 * 366 * 86400  # ten years of business time is plenty for any target
# The public arithmetic works on spans of at most ten years (of wall time): a longer span
# would make an anonymous caller build (and the process keep) decades of calendars.
MAX_SPAN = dt.timedelta(days=10 * 366)
SPAN_ES = "10 años"
# The calendar computes years 2..9998; a day of margin for any UTC offset.
FIRST_INSTANT = dt.datetime(2, 1, 2, tzinfo=dt.UTC)
LAST_INSTANT = dt.datetime(9998, 12, 30, tzinfo=dt.UTC)
OUT_OF_RANGE_ES = "La fecha está fuera del rango admitido (años 2 a 9998)."


def _aware(value: dt.datetime) -> dt.datetime:
    if value.tzinfo is None:
        raise ValueError("Indique la zona horaria (p. ej. 2026-12-01T07:00:00-05:00 o …Z).")
    try:
        if not FIRST_INSTANT <= value <= LAST_INSTANT:
            raise ValueError(OUT_OF_RANGE_ES)
    except OverflowError:  # an offset that takes the instant outside datetime's range
        raise ValueError(OUT_OF_RANGE_ES) from None
    return value


@contextmanager
def _in_range() -> Iterator[None]:
    """The calendar's range errors (a result past year 9998, a schedule without open
    time for ten years) are the caller's input problem: a 422, never a 500. The calendar
    is a pure module whose ValueErrors (OutOfRange among them) all mean "not computable
    for these inputs"."""
    try:
        yield
    except (ValueError, OverflowError) as exc:
        raise InvalidInput(
            "No se puede calcular: el resultado cae fuera del rango admitido.",
            errors={"start": OUT_OF_RANGE_ES},
        ) from exc


Instant = Annotated[dt.datetime, AfterValidator(_aware)]


class ScheduleOut(Schema):
    id: str
    name: str
    timezone: str
    always_open: bool
    weekly: dict[str, list[str]]
    holiday_country: str
    closed_dates: list[str]
    special_openings: dict[str, list[str]]
    hours_es: list[str]


class ScheduleList(Schema):
    items: list[ScheduleOut]
    count: int


class DueQuery(Schema):
    start: Instant = Field(..., description="Instante ISO 8601 con zona horaria.")
    seconds: int = Field(..., ge=0, le=MAX_SECONDS, description="Segundos hábiles a sumar.")


class ElapsedQuery(Schema):
    start: Instant
    end: Instant


class OpenQuery(Schema):
    at: Instant | None = Field(None, description="Instante a consultar; por omisión, ahora.")


class DueOut(Schema):
    due: str


class ElapsedOut(Schema):
    seconds: int


class OpenOut(Schema):
    open: bool
    next_opening: str | None
    next_closing: str | None


class TimerOut(Schema):
    target_seconds: int
    start: dt.datetime
    due: dt.datetime
    at_risk_at: dt.datetime
    met_at: dt.datetime | None
    breached_at: dt.datetime | None
    paused_seconds: int
    paused: bool
    state: str
    level: int


class CaseSlaOut(Schema):
    schedule: str | None
    first_response: TimerOut | None
    resolution: TimerOut | None


def _schedule(slug: str) -> Schedule:
    row = Schedule.objects.filter(slug=slug).first()
    if row is None:
        raise NotFound(f"No existe el horario «{slug}».")
    return row


def schedule_out(s: Schedule) -> dict[str, Any]:
    return {
        "id": s.slug,
        "name": s.name,
        "timezone": s.timezone,
        "always_open": s.always_open,
        "weekly": s.weekly or {},
        "holiday_country": s.holiday_country or "",
        "closed_dates": s.closed_dates or [],
        "special_openings": s.special_openings or {},
        "hours_es": calendar(s.slug).describe_es(),
    }


def _iso(value: dt.datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


@router.get("/schedules", response=ScheduleList, auth=None, summary="Horarios")
def list_schedules(request: HttpRequest) -> dict[str, Any]:
    items = [schedule_out(s) for s in Schedule.objects.all()]
    return {"items": items, "count": len(items)}


@router.get("/schedules/{schedule_id}", response=ScheduleOut, auth=None, summary="Ver un horario")
def get_schedule(request: HttpRequest, schedule_id: Slug) -> dict[str, Any]:
    return schedule_out(_schedule(schedule_id))


@router.get(
    "/schedules/{schedule_id}/due",
    response=DueOut,
    auth=None,
    summary="Vencimiento en tiempo hábil",
)
def due(request: HttpRequest, schedule_id: Slug, q: Query[DueQuery]) -> dict[str, Any]:
    """El primer instante `t ≥ start` con `seconds` segundos hábiles entre `start` y `t`, en la
    zona horaria del horario (trabajo que termina justo al cierre vence al cierre). Un
    vencimiento a más de 10 años de `start` es un 422."""
    cal = calendar(_schedule(schedule_id).slug)
    with _in_range():
        try:
            due = cal.add(q.start, q.seconds, horizon=int(MAX_SPAN.total_seconds()))
        except OutOfRange:
            if q.start + MAX_SPAN > LAST_INSTANT:
                raise
            raise InvalidInput(
                f"El vencimiento caería a más de {SPAN_ES} de «start»; use un plazo menor.",
                errors={"seconds": f"El vencimiento no puede estar a más de {SPAN_ES} del inicio."},
            ) from None
        return {"due": due.isoformat()}


@router.get(
    "/schedules/{schedule_id}/elapsed",
    response=ElapsedOut,
    auth=None,
    summary="Tiempo hábil transcurrido",
)
def elapsed(request: HttpRequest, schedule_id: Slug, q: Query[ElapsedQuery]) -> dict[str, Any]:
    """Segundos hábiles en [start, end); 0 si end ≤ start. Un intervalo de más de 10 años
    es un 422."""
    if q.end - q.start > MAX_SPAN:
        raise InvalidInput(
            f"El intervalo entre «start» y «end» no puede superar {SPAN_ES}.",
            errors={"end": f"Debe estar a menos de {SPAN_ES} de «start»."},
        )
    cal = calendar(_schedule(schedule_id).slug)
    with _in_range():
        return {"seconds": cal.elapsed(q.start, q.end)}


@router.get("/schedules/{schedule_id}/open", response=OpenOut, auth=None, summary="¿Abierto ahora?")
def is_open(request: HttpRequest, schedule_id: Slug, q: Query[OpenQuery]) -> dict[str, Any]:
    from atiende.core import clock

    cal = calendar(_schedule(schedule_id).slug)
    at = q.at or clock.now()
    with _in_range():
        return {
            "open": cal.is_open(at),
            "next_opening": _iso(cal.next_opening(at)),
            "next_closing": _iso(cal.next_closing(at)),
        }


@router.get("/cases/{number}/sla", response=CaseSlaOut, summary="Relojes de ANS de un caso")
def case_sla(request: HttpRequest, number: Text) -> dict[str, Any]:
    """Horario del caso y, para primera respuesta y resolución: objetivo, inicio, vencimiento,
    cumplido, incumplido y tiempo en pausa (segundos hábiles)."""
    case = case_selectors.case_for(caller(request), number)
    view = selectors.case_sla(case)
    for kind in ("first_response", "resolution"):
        if view[kind]:
            view[kind] = {**view[kind], "start": view[kind]["start"], "due": view[kind]["due"]}
    return view
