"""Cases: create, list (filters, sort, pagination), read, update, timeline.

Reads go through `cases.selectors` (tenant scoping: a customer's foreign case is a 404),
writes through `cases.services`.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from django.http import HttpRequest
from ninja import Query, Router, Schema
from ninja import Status as Reply
from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, WithJsonSchema

from atiende.cases import selectors, services
from atiende.cases.models import Case, CaseType, Classification, Priority, Status
from atiende.core.errors import InvalidInput, PermissionDenied
from atiende.core.text import one_line_problem

from . import references
from .auth import caller
from .types import MAX_ID, MAX_LEVEL, Id, Input, Page, Slug, Storable, Text, choice

router = Router(tags=["casos"])

CaseTypeValue = choice(CaseType)
PriorityValue = choice(Priority)
StatusValue = choice(Status)
ClassificationValue = choice(Classification)


def _one_line(value: str) -> str:
    problem = one_line_problem(value)
    if problem:
        raise ValueError(problem)
    return value


# A subject is an email header: one line (the case service refuses it too, for every door).
Subject = Annotated[str, Field(max_length=300), Storable, AfterValidator(_one_line)]
LongText = Annotated[str, Field(max_length=100_000), Storable]


def _number_as_text(value: Any) -> Any:
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return value


# A user named by id (number or numeric string) or by email.
UserRef = Annotated[
    str,
    Field(max_length=254),
    BeforeValidator(_number_as_text),  # wraps the constraint, so it runs first
    Storable,
    WithJsonSchema({"anyOf": [{"type": "integer", "minimum": 1}, {"type": "string"}]}),
]


class Person(Schema):
    id: int
    name: str


class CaseOut(Schema):
    number: str = Field(examples=["CS0000001"])
    type: CaseTypeValue  # type: ignore[valid-type]
    priority: PriorityValue  # type: ignore[valid-type]
    status: StatusValue  # type: ignore[valid-type]
    level: int
    channel: str
    organization: str | None
    requester: Person | None
    assignee: Person | None
    group: str | None
    classification: ClassificationValue  # type: ignore[valid-type]
    subject: str
    description: str
    created_at: dt.datetime
    updated_at: dt.datetime
    first_response_at: dt.datetime | None
    resolved_at: dt.datetime | None
    closed_at: dt.datetime | None


class CaseList(Schema):
    items: list[CaseOut]
    count: int


SORTS = ("-created_at", "created_at", "-updated_at", "updated_at", "-number", "number")


class CaseQuery(Page):
    status: list[Annotated[str, Field(max_length=200), Storable]] | None = Field(
        None, description="Repetible o separado por comas: status=new,open."
    )
    type: CaseTypeValue | None = None  # type: ignore[valid-type]
    priority: PriorityValue | None = None  # type: ignore[valid-type]
    level: int | None = Field(None, ge=1, le=MAX_LEVEL)
    organization: Slug | None = Field(None, description="Slug de la organización.")
    channel: Slug | None = Field(None, description="Slug del canal.")
    assignee: Annotated[str, Field(max_length=254), Storable] | None = Field(
        None, description="Id o correo del agente, «me» o «none» (sin asignar)."
    )
    group: Slug | None = Field(None, description="Slug del grupo de soporte.")
    q: Annotated[str, Field(max_length=200), Storable] | None = Field(
        None, description="Texto en el asunto, o un número de caso."
    )
    sort: Literal[SORTS] = Field("-created_at", description="Orden; «-» es descendente.")  # type: ignore[valid-type]


class CaseIn(Input):
    subject: Subject
    description: LongText = ""
    type: CaseTypeValue | None = None  # type: ignore[valid-type]
    priority: PriorityValue | None = None  # type: ignore[valid-type]
    classification: ClassificationValue | None = None  # type: ignore[valid-type]
    organization: Slug | None = Field(None, description="Solo personal: slug de la organización.")
    requester: Id | None = Field(None, description="Solo personal: id del contacto solicitante.")
    channel: Slug | None = Field(
        None, description="Solo personal: canal de entrada (por defecto «api»)."
    )
    assignee: UserRef | None = Field(None, description="Solo personal: id o correo del agente.")
    group: Slug | None = Field(None, description="Solo personal: slug del grupo de soporte.")


class CasePatch(Input):
    # Absent means "unchanged"; only assignee and group accept null (unassign).
    subject: Subject = None  # type: ignore[assignment]
    description: LongText = None  # type: ignore[assignment]
    type: CaseTypeValue = None  # type: ignore[valid-type]
    priority: PriorityValue = None  # type: ignore[valid-type]
    classification: ClassificationValue = None  # type: ignore[valid-type]
    status: StatusValue = None  # type: ignore[valid-type]
    assignee: UserRef | None = Field(None, description="Id o correo del agente; null desasigna.")
    group: Slug | None = Field(None, description="Slug del grupo; null lo quita.")


class TimelineItem(BaseModel):
    """A note (`kind` = "note": visibility, direction, channel, author, body, delivery_status)
    or an audited event (`kind` = its action, e.g. "case.status_changed": actor, changes).
    A plain pydantic model that keeps unknown keys, so new kinds of events pass through."""

    model_config = ConfigDict(extra="allow")

    at: dt.datetime
    kind: str
    id: int
    visibility: str | None = None
    direction: str | None = None
    channel: str | None = None
    author: str | None = None
    body: str | None = None
    delivery_status: str | None = None
    actor: str | None = None
    changes: dict[str, Any] | None = None


class Timeline(Schema):
    items: list[TimelineItem]
    count: int


# What the case JSON needs, and nothing else: the list reads 25 rows of these.
LIST_FIELDS = (
    "number",
    "type",
    "priority",
    "status",
    "level",
    "classification",
    "subject",
    "description",
    "created_at",
    "updated_at",
    "first_response_at",
    "resolved_at",
    "closed_at",
    "channel__slug",
    "organization__slug",
    "requester__name",
    "assignee__name",
    "group__slug",
)
RELATED = ("channel", "organization", "requester", "assignee", "group")


def case_out(case: Case) -> dict[str, Any]:
    requester = case.requester if case.requester_id else None
    assignee = case.assignee if case.assignee_id else None
    return {
        "number": case.number,
        "type": case.type,
        "priority": case.priority,
        "status": case.status,
        "level": case.level,
        "channel": case.channel.slug,
        "organization": case.organization.slug if case.organization_id else None,
        "requester": {"id": requester.pk, "name": requester.name or str(requester)}
        if requester
        else None,
        "assignee": {"id": assignee.pk, "name": assignee.name} if assignee else None,
        "group": case.group.slug if case.group_id else None,
        "classification": case.classification,
        "subject": case.subject,
        "description": case.description,
        "created_at": case.created_at,
        "updated_at": case.updated_at,
        "first_response_at": case.first_response_at,
        "resolved_at": case.resolved_at,
        "closed_at": case.closed_at,
    }


def _statuses(values: list[str] | None) -> list[str] | None:
    if not values:
        return None
    wanted = [part.strip() for value in values for part in value.split(",") if part.strip()]
    unknown = [v for v in wanted if v not in Status.values]
    if unknown:
        raise InvalidInput(
            "Datos inválidos.",
            errors={
                "status": f"Valor inválido {unknown[0]!r}; use uno de: {', '.join(Status.values)}."
            },
        )
    return list(dict.fromkeys(wanted)) or None


def _assignee_filter(value: str | None) -> str | None:
    if value is None or not value.strip():
        return None
    value = value.strip()
    if value.isdigit() and not (value.isascii() and int(value) <= MAX_ID):
        raise InvalidInput("Datos inválidos.", errors={"assignee": "Id de usuario inválido."})
    return value


@router.get("/cases", response=CaseList, summary="Listar casos")
def list_cases(request: HttpRequest, query: Query[CaseQuery]) -> dict[str, Any]:
    """Los casos visibles para quien llama (un cliente: los de su organización), filtrados,
    ordenados y paginados. `count` es el total que cumple los filtros."""
    filters = selectors.CaseFilters(
        status=_statuses(query.status),
        type=query.type,
        priority=query.priority,
        level=query.level,
        organization=query.organization,
        channel=query.channel,
        assignee=_assignee_filter(query.assignee),
        group=query.group,
        q=query.q,
    )
    qs = selectors.case_list(caller(request), filters, sort=query.sort)
    # The page's ids first, then those rows with their related names: the database walks
    # (and skips, for a deep offset) index entries only, and joins for 25 rows, not for
    # every row it passes over.
    ids = list(qs.values_list("pk", flat=True)[query.offset : query.offset + query.limit])
    rows = (
        Case.objects.order_by().select_related(*RELATED).only(*LIST_FIELDS).in_bulk(ids)
        if ids
        else {}
    )
    return {"items": [case_out(rows[pk]) for pk in ids], "count": qs.count()}


def _staff_only(payload: Input, fields: tuple[str, ...]) -> None:
    given = payload.model_dump(exclude_unset=True)
    errors = {
        f: "Solo el personal de la mesa de ayuda puede indicar este campo."
        for f in fields
        if f in given
    }
    if errors:
        raise InvalidInput("Datos inválidos.", errors=errors)


@router.post("/cases", response={201: CaseOut}, summary="Crear un caso")
def create_case(request: HttpRequest, payload: CaseIn) -> Reply[dict[str, Any]]:
    """Un cliente crea casos para sí mismo, en su organización, por el canal «api» (o «portal»
    si no hay canal «api» activo). El personal indica la organización (o el solicitante, y la
    organización sale de él) y puede indicar canal, agente y grupo."""
    user = caller(request)
    if user.is_customer:
        _staff_only(payload, ("organization", "requester", "channel", "assignee", "group"))
        channel = references.intake_channel()
        organization = requester = assignee = group = None
    else:
        if payload.organization is None and payload.requester is None:
            raise InvalidInput(
                "Datos inválidos.",
                errors={
                    "organization": "Indique la organización (slug) o el solicitante (id de contacto)."
                },
            )
        channel = (
            references.channel(payload.channel) if payload.channel else references.intake_channel()
        )
        organization = (
            references.organization(payload.organization) if payload.organization else None
        )
        requester = references.contact(payload.requester) if payload.requester else None
        assignee = references.user(payload.assignee, user) if payload.assignee else None
        group = references.group(payload.group) if payload.group else None
    assert channel is not None  # intake_channel() raises when there is none
    case = services.open_case(
        actor=user,
        channel=channel,
        subject=payload.subject,
        description=payload.description,
        type=payload.type,
        priority=payload.priority,
        classification=payload.classification,
        organization=organization,
        requester=requester,
        assignee=assignee,
        group=group,
    )
    return Reply(201, case_out(case))


@router.get("/cases/{number}", response=CaseOut, summary="Ver un caso")
def get_case(request: HttpRequest, number: Text) -> dict[str, Any]:
    return case_out(selectors.case_for(caller(request), number))


@router.patch("/cases/{number}", response=CaseOut, summary="Modificar un caso")
def update_case(request: HttpRequest, number: Text, payload: CasePatch) -> dict[str, Any]:
    """El personal cambia asunto, descripción, tipo, prioridad, etiquetado, agente, grupo y
    estado. Un cliente solo puede cambiar el estado de un caso resuelto (reabrirlo o cerrarlo).
    Un cambio de estado que la máquina de estados no permite es un 409."""
    user = caller(request)
    case = selectors.case_for(user, number)
    changes = payload.model_dump(exclude_unset=True)
    if user.is_customer and set(changes) - {"status"}:
        # Before any reference is looked up: whatever the email, the same answer, so a
        # customer's PATCH cannot tell which users exist.
        raise PermissionDenied("Un cliente no puede modificar los datos del caso.")
    if changes.get("assignee") is not None:
        changes["assignee"] = references.user(changes["assignee"], user)
    if changes.get("group") is not None:
        changes["group"] = references.group(changes["group"])
    services.update_case(case=case, actor=user, **changes)
    return case_out(selectors.case_for(user, number))


@router.get(
    "/cases/{number}/timeline",
    response=Timeline,
    exclude_unset=True,  # each item carries the keys of its kind, not every kind's keys
    summary="Línea de tiempo de un caso",
)
def case_timeline(request: HttpRequest, number: Text) -> dict[str, Any]:
    """Notas, cambios de estado, asignaciones, escalamientos y eventos de SLA, en orden.
    Un cliente ve solo lo público."""
    user = caller(request)
    items = selectors.case_timeline(user, selectors.case_for(user, number))
    return {"items": items, "count": len(items)}
