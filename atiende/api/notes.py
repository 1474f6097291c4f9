"""A case's notes: public comments and internal work notes. Customers see public ones only."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from django.http import HttpRequest
from ninja import Router, Schema, Status
from pydantic import Field

from atiende.accounts.models import User
from atiende.cases import selectors, services
from atiende.cases.models import Delivery, Direction, Note, Visibility
from atiende.core.errors import InvalidInput, NotFound

from . import references
from .auth import caller
from .types import Id, Input, Slug, Storable, Text, choice

router = Router(tags=["casos"])


class NoteOut(Schema):
    id: int
    visibility: choice(Visibility)  # type: ignore[valid-type]
    direction: choice(Direction)  # type: ignore[valid-type]
    channel: str | None
    author: str
    body: str
    created_at: dt.datetime
    delivery_status: choice(Delivery) | None  # type: ignore[valid-type]
    delivery_error: str
    unverified: bool = Field(
        description="De un remitente no conocido en el caso: interna hasta que un agente la "
        "confirme (POST …/notes/{id}/confirm)."
    )


class NoteList(Schema):
    items: list[NoteOut]
    count: int


class NoteIn(Input):
    body: Annotated[str, Field(max_length=100_000), Storable]
    visibility: choice(Visibility) = Field(  # type: ignore[valid-type]
        "public", description="public: comentario visible al cliente; internal: nota de trabajo."
    )
    channel: Slug | None = Field(
        None,
        description="Solo personal: canal por el que sale la respuesta (por defecto, el del caso).",
    )


def note_out(note: Note, user: User) -> dict[str, Any]:
    return {
        "id": note.pk,
        "visibility": note.visibility,
        "direction": note.direction,
        "channel": note.channel.slug if note.channel_id else None,
        "author": _author(note),
        "body": note.body_text,
        "created_at": note.created_at,
        "delivery_status": note.delivery_status,
        # A provider's error text is for the help desk, not for the customer.
        "delivery_error": note.delivery_error if user.is_agent else "",
        "unverified": note.unverified,
    }


def _author(note: Note) -> str:
    if note.author_user_id:
        return note.author_user.name
    if note.author_contact_id:
        return str(note.author_contact)
    return "sistema"


@router.get("/cases/{number}/notes", response=NoteList, summary="Notas de un caso")
def list_notes(request: HttpRequest, number: Text) -> dict[str, Any]:
    """En orden cronológico. Un cliente ve solo los comentarios públicos."""
    user = caller(request)
    case = selectors.case_for(user, number)
    items = [note_out(n, user) for n in selectors.visible_notes(user, case)]
    return {"items": items, "count": len(items)}


@router.post("/cases/{number}/notes", response={201: NoteOut}, summary="Agregar una nota")
def add_note(request: HttpRequest, number: Text, payload: NoteIn) -> Status[dict[str, Any]]:
    """Un comentario público de un agente sale al cliente por el canal del caso (o el indicado)
    y, si el caso es nuevo, lo abre. Un cliente solo agrega comentarios públicos."""
    user = caller(request)
    case = selectors.case_for(user, number)
    if user.is_customer:
        if payload.channel is not None:
            raise InvalidInput(
                "Datos inválidos.",
                errors={
                    "channel": "Solo el personal de la mesa de ayuda puede indicar este campo."
                },
            )
        channel = references.intake_channel(required=False)
    else:
        channel = references.channel(payload.channel) if payload.channel else None
    note = services.add_note(
        case=case,
        body_text=payload.body,
        visibility=payload.visibility,
        actor=user,
        channel=channel,
    )
    return Status(201, note_out(note, user))


@router.post(
    "/cases/{number}/notes/{note_id}/confirm",
    response=NoteOut,
    summary="Confirmar una nota de remitente no verificado",
)
def confirm_note(request: HttpRequest, number: Text, note_id: Id) -> dict[str, Any]:
    """Solo personal. Una nota que llegó por correo de alguien no conocido en el caso queda
    interna y sin efecto hasta que un agente la confirma: pasa a comentario público y, si el
    caso esperaba información, lo reanuda."""
    user = caller(request)
    case = selectors.case_for(user, number)
    note = selectors.visible_notes(user, case).filter(pk=note_id).first()
    if note is None:
        raise NotFound("No existe esa nota.")
    return note_out(services.confirm_note(note=note, actor=user), user)
