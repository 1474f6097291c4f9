"""Escalations: request a climb of one level, see a case's requests and whether it may
climb now, the verifier's queue, and the decision.

Reads go through `escalations.selectors` (scoped by `cases.selectors.visible_cases`: a
foreign case or request is a 404), writes through `escalations.services`.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from django.http import HttpRequest
from ninja import Query, Router, Schema, Status
from pydantic import Field

from atiende.cases.selectors import case_for
from atiende.escalations import selectors, services
from atiende.escalations.models import EscalationRequest, RequestStatus, Via

from .auth import caller
from .types import MAX_ID, Id, Input, Page, Text, choice

router = Router(tags=["escalamiento"])


class EscalationIn(Input):
    # No upper bound here: the configured ladder decides what the top is, and a level above
    # it is a 409 `top_level` (or `skip_level`) from the service, with an explanation.
    to_level: int = Field(
        ..., ge=1, le=MAX_ID, description="El nivel siguiente al actual del caso."
    )
    reason: Text = Field("", max_length=4000, description="Por qué se pide (visible al cliente).")


class DecisionIn(Input):
    decision: Literal["accept", "reject"]
    reason: Text = Field(
        "", max_length=4000, description="Obligatoria al rechazar; se muestra a quien lo pidió."
    )


class EscalationOut(Schema):
    id: int
    case: str
    from_level: int
    to_level: int
    status: choice(RequestStatus)  # type: ignore[valid-type]
    via: choice(Via)  # type: ignore[valid-type]
    grounds: list[str]
    reason: str
    requested_by: str | None
    created_at: dt.datetime
    decided_by: str | None
    decision_reason: str
    decided_at: dt.datetime | None
    reminders_sent: int
    evidence: dict[str, Any] | None = Field(
        None, description="Para el personal: la evidencia con la que se verifica."
    )


class EscalationList(Schema):
    items: list[EscalationOut]
    count: int


class EligibilityOut(Schema):
    eligible: bool
    from_level: int
    to_level: int | None
    code: str | None = Field(
        None,
        description="skip_level | not_eligible | already_pending | top_level | closed; null si procede.",
    )
    detail: str
    grounds: list[str] = Field(description="breach | reopened | agent")
    eligible_from: dt.datetime | None = Field(
        None, description="Desde cuándo procederá (p. ej. cuando venza la primera respuesta)."
    )
    pending_id: int | None


class QueueQuery(Page):
    status: choice(RequestStatus) | None = Field(  # type: ignore[valid-type]
        RequestStatus.PENDING, description="pending (por defecto), accepted o rejected."
    )


def escalation_out(row: EscalationRequest, *, with_evidence: bool = False) -> dict[str, Any]:
    requester = (
        row.requested_by.name
        if row.requested_by_id
        else str(row.requested_by_contact)
        if row.requested_by_contact_id
        else None
    )
    return {
        "id": row.pk,
        "case": row.case.number,
        "from_level": row.from_level,
        "to_level": row.to_level,
        "status": row.status,
        "via": row.via,
        "grounds": row.grounds,
        "reason": row.reason,
        "requested_by": requester,
        "created_at": row.created_at,
        "decided_by": row.decided_by.name if row.decided_by_id else None,
        "decision_reason": row.decision_reason,
        "decided_at": row.decided_at,
        "reminders_sent": row.reminders_sent,
        "evidence": selectors.evidence(row.case) if with_evidence else None,
    }


def _via(request: HttpRequest) -> str | None:
    user = caller(request)
    if user.is_agent:
        return Via.AGENT
    # A token is an integration (API); a signed-in browser session is the portal.
    return Via.API if request.headers.get("Authorization") else Via.PORTAL


@router.post(
    "/cases/{number}/escalations",
    response={201: EscalationOut},
    summary="Solicitar un escalamiento",
)
def request_escalation(
    request: HttpRequest, number: Text, payload: EscalationIn
) -> Status[dict[str, Any]]:
    """Pide que el responsable del nivel siguiente tome el caso. Un 409 explica por qué no
    procede: `skip_level`, `not_eligible` (con `eligible_from` si hay un reloj corriendo),
    `already_pending` (con `pending_id`), `top_level` o `closed`."""
    user = caller(request)
    case = case_for(user, number)
    row = services.request_escalation(
        case=case, actor=user, to_level=payload.to_level, reason=payload.reason, via=_via(request)
    )
    return Status(201, escalation_out(row, with_evidence=user.is_agent))


@router.get(
    "/cases/{number}/escalations", response=EscalationList, summary="Escalamientos de un caso"
)
def case_escalations(request: HttpRequest, number: Text) -> dict[str, Any]:
    user = caller(request)
    rows = list(selectors.case_requests(user, case_for(user, number)))
    items = [escalation_out(r) for r in rows]
    return {"items": items, "count": len(items)}


@router.get(
    "/cases/{number}/escalation-eligibility",
    response=EligibilityOut,
    summary="¿Puede escalarse el caso ahora?",
)
def escalation_eligibility(request: HttpRequest, number: Text) -> dict[str, Any]:
    """Si quien llama puede solicitar ahora el escalamiento al nivel siguiente; si no, por
    qué y desde cuándo."""
    user = caller(request)
    return selectors.eligibility(case_for(user, number), actor=user).as_dict()


@router.get("/escalations", response=EscalationList, summary="Escalamientos por verificar")
def verification_queue(request: HttpRequest, query: Query[QueueQuery]) -> dict[str, Any]:
    """Para el personal: las solicitudes a los niveles de los que es responsable (un
    administrador: todas), con la evidencia, las más antiguas primero. Para un cliente: las
    de los casos que ve. `count` es el total; `limit`/`offset` paginan."""
    user = caller(request)
    qs = selectors.verification_queue(user, status=query.status)
    rows = list(qs[query.offset : query.offset + query.limit])
    items = [escalation_out(r, with_evidence=user.is_agent) for r in rows]
    return {"items": items, "count": qs.count()}


@router.get("/escalations/{request_id}", response=EscalationOut, summary="Ver una solicitud")
def get_escalation(request: HttpRequest, request_id: Id) -> dict[str, Any]:
    user = caller(request)
    return escalation_out(selectors.request_for(user, request_id), with_evidence=user.is_agent)


@router.post(
    "/escalations/{request_id}/decision",
    response=EscalationOut,
    summary="Aceptar o rechazar un escalamiento",
)
def decide(request: HttpRequest, request_id: Id, payload: DecisionIn) -> dict[str, Any]:
    """Solo el responsable del nivel solicitado (o un administrador); cualquier otro: 403.
    Aceptar sube el caso de nivel, lo asigna al grupo o la persona del nivel e inicia su
    objetivo de primera respuesta; rechazar exige una razón."""
    user = caller(request)
    row = selectors.request_for(user, request_id)
    row = services.decide_escalation(
        request=row, actor=user, decision=payload.decision, reason=payload.reason
    )
    return escalation_out(selectors.request_for(user, row.pk), with_evidence=user.is_agent)
