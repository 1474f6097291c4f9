"""/api/v1/reports/…: the service manager's figures, as JSON or CSV (docs/reports.md).

Supervisors and admins only: an agent gets 403 (the reports exist, they are not the agent's
to read), a customer 404 (nothing of the help desk's management shows to customers).
"""

from __future__ import annotations

from typing import Any, Literal

from django.http import HttpRequest, HttpResponse
from ninja import Query, Router, Schema
from pydantic import Field

from atiende.core.errors import InvalidInput, NotFound, PermissionDenied
from atiende.reports import export, filters, selectors

from .auth import caller
from .types import Slug, Text

router = Router(tags=["informes"])


class ReportQuery(Schema):
    from_: Text | None = Field(
        None, alias="from", description="Fecha inicial AAAA-MM-DD (incluida)."
    )
    to: Text | None = Field(None, description="Fecha final AAAA-MM-DD (incluida); por omisión hoy.")
    channel: Slug | None = Field(None, description="Identificador de un canal.")
    type: Text | None = Field(None, description="request, change o incident.")
    organization: Slug | None = Field(None, description="Identificador de una organización.")
    period: Literal["week", "month"] = Field("week", description="Solo ANS: semana o mes.")
    format: Literal["json", "csv"] = Field("json", description="csv: una tabla en CSV.")
    table: Slug | None = Field(None, description="Con csv: la tabla (por omisión, la primera).")


class CasesQuery(Schema):
    from_: Text | None = Field(None, alias="from")
    to: Text | None = None
    channel: Slug | None = None
    type: Text | None = None
    organization: Slug | None = None
    priority: Text | None = None
    level: Text | None = None
    sla: Text | None = None
    backlog: Text | None = None
    contacts: Text | None = None
    weekday: Text | None = None
    hour: Text | None = None
    missed: Text | None = None
    escalated_to: Text | None = None
    escalation: Text | None = None
    limit: int = Field(50, ge=1, le=200)
    offset: int = Field(0, ge=0, le=1_000_000)


def _authorise(request: HttpRequest) -> None:
    user = caller(request)
    if user.is_customer or not user.is_agent:
        raise NotFound("No existe ese recurso de la API.")
    if not selectors.may_read_reports(user):
        raise PermissionDenied("Solo supervisores y administradores pueden ver los informes.")


def _params(q: Schema) -> dict[str, Any]:
    data = q.dict()
    data["from"] = data.pop("from_", None)
    return data


def _answer(name: str, request: HttpRequest, q: ReportQuery) -> Any:
    _authorise(request)
    params = _params(q)
    report = selectors.REPORTS[name](filters.parse(params))
    if q.format == "csv":
        table = q.table or next(iter(report["tables"]))
        if table not in report["tables"]:
            raise InvalidInput(
                "No existe esa tabla en el informe.",
                errors={"table": f"Use una de: {', '.join(report['tables'])}."},
            )
        response = HttpResponse(
            export.to_csv(report, table), content_type="text/csv; charset=utf-8"
        )
        filename = f"informe-{name}-{table}-{report['from']}-{report['to']}.csv"
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response
    return report


@router.get("/reports/sla", response=dict, summary="Informe: cumplimiento de ANS")
def sla(request: HttpRequest, q: Query[ReportQuery]) -> Any:
    """Primera respuesta y resolución: cumplidos, incumplidos y % por canal x tipo x prioridad
    x nivel por semana o mes; mediana y p90 en tiempo hábil por canal."""
    return _answer("sla", request, q)


@router.get("/reports/contacts-by-hour", response=dict, summary="Informe: contactos por hora")
def contacts_by_hour(request: HttpRequest, q: Query[ReportQuery]) -> Any:
    """Contactos por canal, día de la semana y hora, y cuántos llegaron con el canal cerrado."""
    return _answer("contacts-by-hour", request, q)


@router.get("/reports/escalations", response=dict, summary="Informe: escalamientos")
def escalations(request: HttpRequest, q: Query[ReportQuery]) -> Any:
    """Por nivel: solicitados, aceptados, rechazados (con motivos), automáticos y tiempos."""
    return _answer("escalations", request, q)


@router.get("/reports/backlog", response=dict, summary="Informe: casos abiertos y volumen")
def backlog(request: HttpRequest, q: Query[ReportQuery]) -> Any:
    """Casos abiertos hoy por canal y prioridad con su antigüedad; casos por organización."""
    return _answer("backlog", request, q)


@router.get("/reports/satisfaction", response=dict, summary="Informe: satisfacción")
def satisfaction(request: HttpRequest, q: Query[ReportQuery]) -> Any:
    """Calificación promedio y tasa de respuesta por canal y por agente."""
    return _answer("satisfaction", request, q)


@router.get("/reports/missed-calls", response=dict, summary="Informe: llamadas perdidas")
def missed_calls(request: HttpRequest, q: Query[ReportQuery]) -> Any:
    """Por línea: llamadas perdidas, cuántas se devolvieron y en cuánto tiempo hábil."""
    return _answer("missed-calls", request, q)


@router.get("/reports/cases", response=dict, summary="Informe: los casos detrás de una cifra")
def cases_behind(request: HttpRequest, q: Query[CasesQuery]) -> Any:
    """La lista de casos detrás de una cifra: los filtros del informe más los de la cifra
    (los mismos parámetros que su `cases_url`)."""
    _authorise(request)
    params = _params(q)
    f = filters.parse(params)
    qs = selectors.cases_behind(f, params)
    page = qs[q.offset : q.offset + q.limit]
    return {
        "items": [
            {
                "number": c.number,
                "subject": c.subject,
                "channel": c.channel.slug,
                "type": c.type,
                "priority": c.priority,
                "level": c.level,
                "status": c.status,
                "organization": c.organization.slug if c.organization else None,
                "created_at": c.created_at.isoformat(),
            }
            for c in page
        ],
        "count": qs.count(),
    }
