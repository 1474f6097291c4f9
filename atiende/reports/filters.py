"""The filters every report takes: a date range (local dates, both included), and optionally
a channel, a case type and an organization; plus what a drill-down adds to them."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import urlencode

from atiende.cases.models import CaseType
from atiende.core import clock
from atiende.core.errors import InvalidInput
from atiende.customers.models import Organization
from atiende.directory.models import Channel
from atiende.reports.hours import LOCAL, local_day_bounds

DEFAULT_DAYS = 28
MAX_DAYS = 5 * 366
PERIODS = ("week", "month")


@dataclass(frozen=True)
class Filters:
    start: dt.date
    end: dt.date  # included
    channel: Channel | None = None
    type: str | None = None
    organization: Organization | None = None
    period: str = "week"

    @property
    def instants(self) -> tuple[dt.datetime, dt.datetime]:
        """[start, end) as aware instants: local midnight of `start` to the one after `end`."""
        return local_day_bounds(self.start)[0], local_day_bounds(self.end)[1]

    def params(self, **drill: Any) -> dict[str, str]:
        out = {"from": self.start.isoformat(), "to": self.end.isoformat()}
        if self.channel:
            out["channel"] = self.channel.slug
        if self.type:
            out["type"] = self.type
        if self.organization:
            out["organization"] = self.organization.slug
        for key, value in drill.items():
            if value is None or value == "":
                continue
            out[key] = str(value).lower() if isinstance(value, bool) else str(value)
        return out

    def query(self, **drill: Any) -> str:
        return urlencode(self.params(**drill))

    def with_channel(self, channel: Channel) -> Filters:
        return replace(self, channel=channel)


def _date(value: str | None, field: str, errors: dict[str, str]) -> dt.date | None:
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value.strip())
    except ValueError:
        errors[field] = "Use una fecha AAAA-MM-DD."
        return None


def parse(data: Any) -> Filters:
    """Filters from a query string (a QueryDict or a dict); 422 with a message per field."""
    get = data.get
    errors: dict[str, str] = {}
    today = clock.now().astimezone(LOCAL).date()
    end = _date(get("to"), "to", errors) or today
    start = _date(get("from"), "from", errors) or end - dt.timedelta(days=DEFAULT_DAYS - 1)
    if not errors:
        if start > end:
            errors["from"] = "La fecha inicial debe ser anterior o igual a la final."
        elif (end - start).days >= MAX_DAYS:
            errors["to"] = "El rango admite máximo cinco años."
        elif start.year < 2000 or end.year > 9000:
            errors["from"] = "Fecha fuera del rango admitido."
    channel = None
    if slug := (get("channel") or "").strip():
        channel = Channel.objects.filter(slug=slug).first()
        if channel is None:
            errors["channel"] = f"No existe el canal «{slug[:60]}»."
    type_ = (get("type") or "").strip() or None
    if type_ is not None and type_ not in CaseType.values:
        errors["type"] = f"Tipo inválido; use uno de: {', '.join(CaseType.values)}."
    organization = None
    slug = (get("organization") or "").strip()
    if slug and slug != "none":  # "none": cases without one (a drill-down of the volume)
        organization = Organization.objects.filter(slug=slug).first()
        if organization is None:
            errors["organization"] = f"No existe la organización «{slug[:60]}»."
    period = (get("period") or "week").strip()
    if period not in PERIODS:
        errors["period"] = "Use week (semana) o month (mes)."
    if errors:
        raise InvalidInput("Revise los filtros del informe.", errors=errors)
    return Filters(start, end, channel, type_, organization, period)
