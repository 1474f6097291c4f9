"""Public, read-only: the attention channels and the escalation ladder (what /canales shows)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest
from ninja import Router, Schema

from atiende.directory import hours
from atiende.directory.models import Channel, ChannelKind
from atiende.escalations.models import EscalationLevel

from .types import choice

router = Router(tags=["público"])


class ChannelOut(Schema):
    id: str
    kind: choice(ChannelKind)  # type: ignore[valid-type]
    name: str
    address: str
    display_address: str
    link: str
    description: str
    attends: str | list[dict[str, Any]]
    attends_label: str
    hours: list[dict[str, Any]]
    open_now: bool
    next_opening: str | None


class ChannelList(Schema):
    items: list[ChannelOut]
    count: int


class EscalationLevelOut(Schema):
    number: int
    name: str
    title: str
    responsible_name: str
    contacts: list[dict[str, Any]]


class EscalationLevelList(Schema):
    items: list[EscalationLevelOut]
    count: int


def channel_out(channel: Channel, now: dt.datetime | None = None) -> dict[str, Any]:
    states = hours.rule_states(channel, now)
    # Open now for some kind of request, and the earliest opening of any of them.
    opening = min((s.next_opening for s in states), default=None)
    return {
        "id": channel.slug,
        "kind": channel.kind,
        "name": channel.name,
        "address": channel.address,
        "display_address": channel.display_address or channel.address,
        "link": channel.link,
        "description": channel.description,
        "attends": channel.attends or "all",
        "attends_label": channel.attends_label,
        # Per kind of request: its schedule, whether it is open now and when it next opens.
        "hours": [
            {
                **state.rule,
                "open_now": state.open_now,
                "next_opening": state.next_opening.isoformat(),
                "hours_es": state.calendar.describe_es(),
            }
            for state in states
        ],
        "open_now": any(s.open_now for s in states),
        "next_opening": opening.isoformat() if opening else None,
    }


def level_out(level: EscalationLevel) -> dict[str, Any]:
    return {
        "number": level.number,
        "name": level.name,
        "title": level.title,
        "responsible_name": level.responsible_name,
        "contacts": level.contacts or [],
    }


@router.get("/channels", response=ChannelList, auth=None, summary="Canales de atención")
def list_channels(request: HttpRequest) -> dict[str, Any]:
    """Los canales públicos y activos, con lo que atienden y su horario por tipo de solicitud."""
    # `settings` stays out: it names the environment variables that hold secrets.
    items = [channel_out(c) for c in Channel.objects.filter(public=True, active=True)]
    return {"items": items, "count": len(items)}


@router.get(
    "/escalation-levels", response=EscalationLevelList, auth=None, summary="Niveles de escalamiento"
)
def list_escalation_levels(request: HttpRequest) -> dict[str, Any]:
    """La escalera de escalamiento: cada nivel con su responsable y sus contactos."""
    items = [level_out(level) for level in EscalationLevel.objects.all()]
    return {"items": items, "count": len(items)}
