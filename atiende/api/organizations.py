"""Organizations: staff see and manage all; a customer sees only their own."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from django.http import HttpRequest
from ninja import Query, Router, Schema, Status
from pydantic import Field

from atiende.customers import selectors, services
from atiende.customers.models import Organization

from .auth import caller, require_staff
from .types import Input, Page, Slug, Storable, Text

router = Router(tags=["organizaciones"])

Domain = Annotated[str, Field(max_length=253), Storable]


class OrganizationOut(Schema):
    slug: str
    name: str
    email_domains: list[str]
    created_at: dt.datetime


class OrganizationList(Schema):
    items: list[OrganizationOut]
    count: int


class OrganizationQuery(Page):
    q: Annotated[str, Field(max_length=200), Storable] | None = Field(
        None, description="Texto en el nombre o el slug."
    )


class OrganizationIn(Input):
    slug: Slug
    name: Annotated[str, Field(max_length=200), Storable]
    email_domains: Annotated[list[Domain], Field(max_length=100)] = []


class OrganizationPatch(Input):
    name: Annotated[str, Field(max_length=200), Storable] | None = None
    email_domains: Annotated[list[Domain], Field(max_length=100)] | None = None


def organization_out(org: Organization) -> dict[str, Any]:
    return {
        "slug": org.slug,
        "name": org.name,
        "email_domains": org.email_domains or [],
        "created_at": org.created_at,
    }


@router.get("/organizations", response=OrganizationList, summary="Listar organizaciones")
def list_organizations(request: HttpRequest, query: Query[OrganizationQuery]) -> dict[str, Any]:
    """El personal ve todas; un cliente, solo la suya."""
    qs = selectors.organization_list(caller(request), q=query.q)
    page = qs[query.offset : query.offset + query.limit]
    return {"items": [organization_out(o) for o in page], "count": qs.count()}


@router.get("/organizations/{slug}", response=OrganizationOut, summary="Ver una organización")
def get_organization(request: HttpRequest, slug: Text) -> dict[str, Any]:
    return organization_out(selectors.organization_for(caller(request), slug))


@router.post("/organizations", response={201: OrganizationOut}, summary="Crear una organización")
def create_organization(request: HttpRequest, payload: OrganizationIn) -> Status[dict[str, Any]]:
    """Agentes, supervisores y administradores."""
    user = caller(request)
    require_staff(user)
    org = services.create_organization(
        slug=payload.slug, name=payload.name, email_domains=payload.email_domains, actor=user
    )
    return Status(201, organization_out(org))


@router.patch(
    "/organizations/{slug}", response=OrganizationOut, summary="Modificar una organización"
)
def update_organization(
    request: HttpRequest, slug: Text, payload: OrganizationPatch
) -> dict[str, Any]:
    """Cambia el nombre o reemplaza la lista de dominios de correo. El slug no cambia."""
    user = caller(request)
    org = selectors.organization_for(user, slug)
    require_staff(user)
    fields = payload.model_dump(exclude_unset=True)
    org = services.update_organization(organization=org, actor=user, **fields)
    return organization_out(org)
