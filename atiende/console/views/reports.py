"""/console/informes: the service manager's reports, and the cases behind each figure.

Supervisors and admins; an agent is told plainly that the reports are not theirs (403), a
customer gets the console's 404 (`agent_required`)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from atiende.cases.models import CaseType
from atiende.console.access import agent_required
from atiende.core.errors import InvalidInput
from atiende.customers.models import Organization
from atiende.directory.models import Channel
from atiende.reports import charts, filters, selectors
from atiende.reports.selectors import AGE_BUCKETS

REPORT_API = "/api/v1/reports/"


def _refuse(request: HttpRequest) -> HttpResponse | None:
    if selectors.may_read_reports(request.user):  # type: ignore[arg-type]  # signed in: agent_required
        return None
    return render(request, "console/reports/refused.html", {"title": _("Informes")}, status=403)


def _form_context(request: HttpRequest, f: filters.Filters | None) -> dict[str, Any]:
    return {
        "channels": Channel.objects.order_by("position", "slug"),
        "organizations": Organization.objects.order_by("name")[:500],
        "types": CaseType.choices,
        "values": request.GET,
        "filters": f,
    }


def _links(name: str, f: filters.Filters, table: str | None = None) -> dict[str, str]:
    params = f.params(period=f.period)
    csv = {**params, "format": "csv"}
    if table:
        csv["table"] = table
    return {
        "json": f"{REPORT_API}{name}?{urlencode(params)}",
        "csv": f"{REPORT_API}{name}?{urlencode(csv)}",
    }


def _sla_chart(report: dict[str, Any]) -> Any:
    groups = []
    for row in report["tables"]["by_channel"]["rows"]:
        groups.append(
            (
                row["channel_name"],
                [
                    charts.Bar(
                        _("Primera respuesta"),
                        row["fr_pct"],
                        row["fr_breached_url"],
                        colour=charts.BLUE,
                    ),
                    charts.Bar(
                        _("Resolución"), row["res_pct"], row["res_breached_url"], colour=charts.TEAL
                    ),
                ],
            )
        )
    return charts.bars(_("Cumplimiento de ANS por canal (%)"), groups, maximum=100, unit=" %")


def _backlog_chart(report: dict[str, Any]) -> Any:
    per_channel: dict[str, list[int]] = {}
    urls: dict[str, str] = {}
    for row in report["tables"]["ageing"]["rows"]:
        counts = per_channel.setdefault(row["channel"], [0] * len(AGE_BUCKETS))
        for i, (key, *_rest) in enumerate(AGE_BUCKETS):
            counts[i] += row[key]
        urls[row["channel"]] = row["cases_url"].split("&priority=")[0]
    rows = [
        (
            slug,
            [
                charts.Bar(
                    label,
                    counts[i],
                    f"{urls[slug].replace('backlog=all', 'backlog=' + key)}",
                    f"{slug}: {counts[i]} {label.lower()}",
                    charts.AGE_COLOURS[i],
                )
                for i, (key, label, *_rest) in enumerate(AGE_BUCKETS)
            ],
        )
        for slug, counts in per_channel.items()
    ]
    legend = [(label, charts.AGE_COLOURS[i]) for i, (_k, label, *_r) in enumerate(AGE_BUCKETS)]
    return charts.stacked(_("Casos abiertos por antigüedad"), rows, legend)


def _escalation_chart(report: dict[str, Any]) -> Any:
    groups = [
        (
            _("Nivel %(n)s") % {"n": row["to_level"]},
            [
                charts.Bar(
                    _("Solicitados"), row["requested"], row["cases_url"], colour=charts.BLUE
                ),
                charts.Bar(_("Aceptados"), row["accepted"], row["cases_url"], colour=charts.TEAL),
                charts.Bar(
                    _("Rechazados"), row["rejected"], row["rejected_url"], colour=charts.RED
                ),
            ],
        )
        for row in report["tables"]["funnel"]["rows"]
    ]
    return charts.bars(_("Escalamientos por nivel"), groups)


def _volume_chart(report: dict[str, Any]) -> Any:
    rows = report["tables"]["organizations"]["rows"][:10]
    groups = [
        (row["organization_name"], [charts.Bar(_("Casos"), row["cases"], row["cases_url"])])
        for row in rows
    ]
    return charts.bars(_("Casos por organización (las 10 con más)"), groups)


def _missed_chart(report: dict[str, Any]) -> Any:
    groups = [
        (
            row["channel_name"],
            [
                charts.Bar(
                    _("Devueltas"),
                    row["called_back_pct"],
                    row["not_called_back_url"],
                    colour=charts.TEAL,
                )
            ],
        )
        for row in report["tables"]["by_line"]["rows"]
    ]
    return charts.bars(_("Llamadas perdidas devueltas (%)"), groups, maximum=100, unit=" %")


@agent_required
def reports(request: HttpRequest) -> HttpResponse:
    if refused := _refuse(request):
        return refused
    try:
        f = filters.parse(request.GET)
    except InvalidInput as exc:
        bad: dict[str, Any] = {"title": _("Informes"), "errors": exc.errors}
        bad.update(_form_context(request, None))
        bad["message"] = str(exc)
        return render(request, "console/reports/index.html", bad, status=422)
    sla = selectors.sla_report(f)
    contacts = selectors.contacts_report(f)
    escalations = selectors.escalations_report(f)
    backlog = selectors.backlog_report(f)
    missed = selectors.missed_calls_report(f)
    satisfaction = selectors.satisfaction_report(f)
    heatmaps = []
    by_slug = {c.slug: c for c in Channel.objects.all()}
    for grid in contacts["grids"]:
        channel = by_slug[grid["channel"]]
        scoped = f.with_channel(channel)

        def href(weekday: int, hour: int, scoped: filters.Filters = scoped) -> str:
            return selectors.cases_url(scoped, contacts="all", weekday=weekday, hour=hour)

        summary = next(
            r for r in contacts["tables"]["by_channel"]["rows"] if r["channel"] == grid["channel"]
        )
        heatmaps.append(
            {
                "channel": grid["channel_name"],
                "summary": summary,
                "svg": charts.heatmap(
                    _("Contactos por hora de la semana: %(c)s") % {"c": grid["channel_name"]},
                    grid["grid"],
                    href,
                ),
            }
        )
    context: dict[str, Any] = {
        "title": _("Informes"),
        "sla": sla,
        "sla_chart": _sla_chart(sla),
        "refreshed_at": selectors.refreshed_at(),
        "contacts": contacts,
        "heatmaps": heatmaps,
        "escalations": escalations,
        "escalation_chart": _escalation_chart(escalations),
        "backlog": backlog,
        "backlog_chart": _backlog_chart(backlog),
        "volume_chart": _volume_chart(backlog),
        "missed": missed,
        "missed_chart": _missed_chart(missed),
        "satisfaction": satisfaction,
        "age_buckets": AGE_BUCKETS,
        "links": {
            "sla": _links("sla", f, "by_channel"),
            "sla_detail": _links("sla", f, "detail"),
            "contacts": _links("contacts-by-hour", f, "by_channel"),
            "heatmap": _links("contacts-by-hour", f, "heatmap"),
            "escalations": _links("escalations", f, "funnel"),
            "rejections": _links("escalations", f, "rejections"),
            "backlog": _links("backlog", f, "ageing"),
            "volume": _links("backlog", f, "organizations"),
            "missed": _links("missed-calls", f, "by_line"),
            "satisfaction": _links("satisfaction", f, "by_channel"),
        },
    }
    context.update(_form_context(request, f))
    return render(request, "console/reports/index.html", context)


@agent_required
def cases(request: HttpRequest) -> HttpResponse:
    """The cases behind a figure (the same parameters as the figure's link)."""
    if refused := _refuse(request):
        return refused
    try:
        f = filters.parse(request.GET)
        qs = selectors.cases_behind(f, request.GET)
        page = Paginator(qs, 50).get_page(request.GET.get("page"))
    except InvalidInput as exc:
        return render(
            request,
            "console/reports/cases.html",
            {"title": _("Casos del informe"), "message": str(exc), "errors": exc.errors},
            status=422,
        )
    params = request.GET.copy()
    params.pop("page", None)
    return render(
        request,
        "console/reports/cases.html",
        {
            "title": _("Casos del informe"),
            "page": page,
            "filters": f,
            "query": params.urlencode(),
            "described": sorted((k, v) for k, v in request.GET.items() if k != "page" and v),
        },
    )
