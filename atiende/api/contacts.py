"""Contacts: staff see and manage all; a customer sees the contacts of their organization."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from django.http import HttpRequest
from ninja import Query, Router, Schema, Status
from pydantic import Field

from atiende.customers import selectors, services
from atiende.customers.models import Contact

from . import references
from .auth import caller, require_staff
from .types import Id, Input, Page, Slug, Storable

router = Router(tags=["contactos"])

Email = Annotated[str, Field(max_length=254), Storable]
Phone = Annotated[str, Field(max_length=40), Storable]
Name = Annotated[str, Field(max_length=200), Storable]
WhatsappId = Annotated[str, Field(max_length=32), Storable]
Emails = Annotated[list[Email], Field(max_length=20)]
Phones = Annotated[list[Phone], Field(max_length=20)]


class ContactOut(Schema):
    id: int
    name: str
    organization: str | None
    emails: list[str]
    phones: list[str]
    whatsapp_id: str | None
    whatsapp_user_id: str | None = Field(
        description="Usuario de WhatsApp (BSUID) con que escribió el contacto; lo asigna "
        "WhatsApp y es el único dato de quien oculta su número. Solo lectura."
    )
    created_at: dt.datetime


class ContactList(Schema):
    items: list[ContactOut]
    count: int


class ContactQuery(Page):
    organization: Slug | None = Field(None, description="Slug de la organización.")
    q: Annotated[str, Field(max_length=200), Storable] | None = Field(
        None, description="Texto en el nombre, un correo o un teléfono."
    )


class ContactIn(Input):
    name: Name
    organization: Slug | None = None
    emails: Emails = []
    phones: Phones = []
    whatsapp_id: WhatsappId | None = None


class ContactPatch(Input):
    name: Name | None = None
    organization: Slug | None = Field(None, description="null la desvincula de su organización.")
    emails: Emails | None = Field(None, description="Reemplaza la lista completa.")
    phones: Phones | None = Field(None, description="Reemplaza la lista completa.")
    whatsapp_id: WhatsappId | None = None


def contact_out(contact: Contact) -> dict[str, Any]:
    # emails and phones come from prefetch_related; .all() keeps using the cache.
    return {
        "id": contact.pk,
        "name": contact.name,
        "organization": contact.organization.slug if contact.organization_id else None,
        "emails": [e.address for e in contact.emails.all()],
        "phones": [p.number for p in contact.phones.all()],
        "whatsapp_id": contact.whatsapp_id,
        "whatsapp_user_id": contact.whatsapp_user_id,
        "created_at": contact.created_at,
    }


def _emails(values: list[str]) -> list[str]:
    # One address given twice is one address (the service stores each once).
    return list(dict.fromkeys(v.strip().lower() for v in values if v.strip()))


@router.get("/contacts", response=ContactList, summary="Listar contactos")
def list_contacts(request: HttpRequest, query: Query[ContactQuery]) -> dict[str, Any]:
    """El personal ve todos; un cliente, los de su organización."""
    qs = selectors.contact_list(caller(request), organization=query.organization, q=query.q)
    page = qs.select_related("organization").prefetch_related("emails", "phones")
    page = page[query.offset : query.offset + query.limit]
    return {"items": [contact_out(c) for c in page], "count": qs.count()}


@router.get("/contacts/{contact_id}", response=ContactOut, summary="Ver un contacto")
def get_contact(request: HttpRequest, contact_id: Id) -> dict[str, Any]:
    return contact_out(selectors.contact_for(caller(request), contact_id))


@router.post("/contacts", response={201: ContactOut}, summary="Crear un contacto")
def create_contact(request: HttpRequest, payload: ContactIn) -> Status[dict[str, Any]]:
    """Solo el personal. Los teléfonos se guardan en E.164 (+573001234567)."""
    user = caller(request)
    require_staff(user)
    org = references.organization(payload.organization) if payload.organization else None
    contact = services.create_contact(
        name=payload.name,
        organization=org,
        emails=_emails(payload.emails),
        phones=payload.phones,
        whatsapp_id=payload.whatsapp_id,
        actor=user,
    )
    return Status(201, contact_out(selectors.contact_for(user, contact.pk)))


@router.patch("/contacts/{contact_id}", response=ContactOut, summary="Modificar un contacto")
def update_contact(request: HttpRequest, contact_id: Id, payload: ContactPatch) -> dict[str, Any]:
    """Solo el personal. `emails` y `phones` reemplazan las listas actuales."""
    user = caller(request)
    contact = selectors.contact_for(user, contact_id)
    require_staff(user)
    fields = payload.model_dump(exclude_unset=True)
    if fields.get("organization") is not None:
        fields["organization"] = references.organization(fields["organization"])
    if fields.get("emails") is not None:
        fields["emails"] = _emails(fields["emails"])
    services.update_contact(contact=contact, actor=user, **fields)
    return contact_out(selectors.contact_for(user, contact.pk))


class InvitationOut(Schema):
    contact: int
    user_email: str
    detail: str


@router.post(
    "/contacts/{contact_id}/invite",
    response={202: InvitationOut},
    summary="Invitar un contacto al portal",
)
def invite_contact(request: HttpRequest, contact_id: Id) -> Status[dict[str, Any]]:
    """Solo el personal. Crea (si no existe) la cuenta del portal del contacto y le envía por
    correo un enlace de un solo uso, que vence, para elegir su contraseña. Invitar de nuevo
    reemplaza el enlace anterior."""
    from atiende.accounts import invitations

    user = caller(request)
    contact = selectors.contact_for(user, contact_id)
    require_staff(user)
    account = invitations.invite_contact(
        contact=contact, actor=user, base_url=request.build_absolute_uri("/").rstrip("/")
    )
    return Status(
        202,
        {
            "contact": contact.pk,
            "user_email": account.email,
            "detail": f"Invitación enviada a {account.email}.",
        },
    )
