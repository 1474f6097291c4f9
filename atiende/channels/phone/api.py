"""/api/v1/calls: the call log, one call, its screen pop, and turning a call into a case.

Registered by `atiende/api/main.py`; the phone channel owns its endpoints, as each adapter
owns its webhook. Customers see only their organization's calls (others are 404) and never
recording links; only staff open cases from calls.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from django.http import HttpRequest
from ninja import Query, Router, Schema
from pydantic import Field, field_validator

from atiende.api.auth import caller, require_staff
from atiende.api.types import Id, Input, Page, Slug, Storable
from atiende.cases.selectors import case_for
from atiende.channels.phone import selectors, services
from atiende.channels.phone.models import Call

router = Router(tags=["llamadas"])


class Person(Schema):
    id: int
    name: str


class CallContact(Schema):
    id: int
    name: str
    organization: str | None


class CallOut(Schema):
    id: int
    line: str
    direction: str
    call_id: str
    from_: str = Field(alias="from")
    to: str
    from_e164: str | None
    to_e164: str | None
    number: str | None = Field(description="Número del cliente en E.164 (null: oculto o ilegible).")
    anonymous: bool
    queue: str
    state: str
    cause: str
    missed: bool
    out_of_hours: bool
    started_at: dt.datetime
    answered_at: dt.datetime | None
    ended_at: dt.datetime | None
    duration_seconds: int | None
    agent: Person | None
    agent_names: list[str]
    contact: int | None
    contacts: list[CallContact]
    ambiguous: bool
    organization: str | None
    case: str | None
    callback: bool
    voicemail: bool
    recording_url: str | None = Field(None, description="Solo para el personal.")


class CallList(Schema):
    items: list[CallOut]
    count: int


class CallQuery(Page):
    line: Slug | None = None
    direction: Literal["in", "out"] | None = None
    state: Literal["ringing", "answered", "ended"] | None = None
    missed: bool | None = None
    contact: Id | None = None
    organization: Slug | None = None
    since: dt.datetime | None = None

    @field_validator("since")
    @classmethod
    def _storable_instant(cls, value: dt.datetime | None) -> dt.datetime | None:
        """An instant the database can compare: in UTC, years 2..9998 (PostgreSQL refuses
        offsets beyond ±15:59 and years past 294276; the margin keeps any offset safe)."""
        if value is None:
            return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.UTC)
        try:
            value = value.astimezone(dt.UTC)
        except (OverflowError, ValueError) as exc:
            raise ValueError("Fecha fuera de rango.") from exc
        if not 2 <= value.year <= 9998:
            raise ValueError("La fecha debe estar entre los años 2 y 9998.")
        return value


class CallCaseIn(Input):
    case: Annotated[str, Field(pattern=r"^[Cc][Ss]\d{7}$")] | None = Field(
        None, description="Caso existente al que se agrega la llamada; sin él se abre uno nuevo."
    )
    subject: Annotated[str, Field(max_length=300), Storable] | None = None
    type: Literal["request", "change", "incident"] | None = None


def call_out(call: Call, *, staff: bool) -> dict[str, Any]:
    return {
        "id": call.pk,
        "line": call.channel.slug,
        "direction": call.direction,
        "call_id": call.call_id,
        "from": call.from_raw,
        "to": call.to_raw,
        "from_e164": call.from_e164 or None,
        "to_e164": call.to_e164 or None,
        "number": call.caller_e164 or None,
        "anonymous": call.anonymous,
        "queue": call.queue,
        "state": call.state,
        "cause": call.cause,
        "missed": call.missed,
        "out_of_hours": call.out_of_hours,
        "started_at": call.started_at,
        "answered_at": call.answered_at,
        "ended_at": call.ended_at,
        "duration_seconds": call.duration_seconds,
        "agent": {"id": call.agent.pk, "name": call.agent.name} if call.agent_id else None,
        "agent_names": call.agent_names,
        "contact": call.contact_id,
        "contacts": [
            {
                "id": c.pk,
                "name": c.name,
                "organization": c.organization.slug if c.organization_id else None,
            }
            for c in call.contacts.all()
        ],
        "ambiguous": call.ambiguous,
        "organization": call.organization.slug if call.organization_id else None,
        "case": call.case.number if call.case_id else None,
        "callback": call.callback,
        "voicemail": call.voicemail,
        "recording_url": (call.recording_url or None) if staff else None,
    }


@router.get("/calls", response=CallList, by_alias=True, summary="Registro de llamadas")
def list_calls(request: HttpRequest, query: Query[CallQuery]) -> dict[str, Any]:
    """Las llamadas de las líneas telefónicas, las más recientes primero. El personal ve
    todas; un cliente, las reconocidas como de su organización."""
    user = caller(request)
    filters = selectors.CallFilters(
        **query.model_dump(exclude={"limit", "offset"}, exclude_none=True)
    )
    qs = selectors.call_list(user, filters)
    page = qs[query.offset : query.offset + query.limit]
    return {"items": [call_out(c, staff=user.is_agent) for c in page], "count": qs.count()}


@router.get("/calls/{call_id}", response=CallOut, by_alias=True, summary="Ver una llamada")
def get_call(request: HttpRequest, call_id: Id) -> dict[str, Any]:
    user = caller(request)
    return call_out(selectors.call_for(user, call_id), staff=user.is_agent)


@router.get("/calls/{call_id}/pop", summary="Ficha del cliente que llama (screen pop)")
def call_pop(request: HttpRequest, call_id: Id) -> dict[str, Any]:
    """Quién llama, su organización y sus casos abiertos con los relojes de SLA y el nivel
    de escalamiento. Solo el personal."""
    user = caller(request)
    call = selectors.call_for(user, call_id)
    require_staff(user)
    return selectors.screen_pop(call)


@router.post("/calls/{call_id}/case", response=CallOut, by_alias=True, summary="Llamada a un caso")
def call_to_case(request: HttpRequest, call_id: Id, payload: CallCaseIn) -> dict[str, Any]:
    """Abre un caso a partir de la llamada o la agrega a uno existente (`{"case": "CS…"}`);
    la llamada aparece en la línea de tiempo del caso con su duración y su agente. Solo el
    personal; una llamada que ya está en otro caso es 409."""
    user = caller(request)
    call = selectors.call_for(user, call_id)
    require_staff(user)
    if payload.case:
        case = case_for(user, payload.case.upper())
        services.attach_call(call=call, case=case, actor=user)
    else:
        services.open_case_from_call(
            call=call, actor=user, subject=payload.subject or "", type=payload.type
        )
    return call_out(selectors.call_for(user, call_id), staff=True)
