"""Reads of organizations and contacts, scoped to what the user may see.

Staff see every organization and contact; a customer sees their own organization and its
contacts (or only themselves, with no organization). Anything else is NotFound.
"""

from __future__ import annotations

from typing import Protocol

from django.db.models import Exists, OuterRef, Q, QuerySet

from atiende.core import rows
from atiende.core.errors import InvalidInput, NotFound
from atiende.customers.models import Contact, ContactEmail, ContactPhone, Organization
from atiende.customers.phones import to_e164


class User(Protocol):
    """Who is asking (accounts.User, which imports customers: imports run one way)."""

    @property
    def is_agent(self) -> bool: ...

    @property
    def contact(self) -> Contact | None: ...


def visible_organizations(user: User) -> QuerySet[Organization]:
    qs = Organization.objects.all()
    if user.is_agent:
        return qs
    contact = user.contact
    if contact is None or contact.organization_id is None:
        return qs.none()
    return qs.filter(pk=contact.organization_id)


def organization_for(user: User, slug: str) -> Organization:
    org = visible_organizations(user).filter(slug=slug).first()
    if org is None:
        raise NotFound(f"No existe la organización {slug}.")
    return org


def organization_list(user: User, *, q: str | None = None) -> QuerySet[Organization]:
    qs = visible_organizations(user)
    if q and q.strip():
        text = q.strip()
        qs = qs.filter(Q(name__icontains=text) | Q(slug__icontains=text))
    return qs.order_by("name", "id")


def visible_contacts(user: User) -> QuerySet[Contact]:
    qs = Contact.objects.all()
    if user.is_agent:
        return qs
    contact = user.contact
    if contact is None:
        return qs.none()
    if contact.organization_id is None:
        return qs.filter(pk=contact.pk)
    return qs.filter(organization_id=contact.organization_id)


def contact_for(user: User, contact_id: int) -> Contact:
    contact = (
        visible_contacts(user)
        .select_related("organization")
        .prefetch_related("emails", "phones")
        .filter(pk=contact_id)
        .first()
    )
    if contact is None:
        raise NotFound(f"No existe el contacto {contact_id}.")
    return contact


def contact_list(
    user: User, *, organization: str | None = None, q: str | None = None
) -> QuerySet[Contact]:
    """Contacts by name, email or phone; `organization` is a slug."""
    qs = visible_contacts(user)
    if organization:
        qs = qs.filter(organization__slug=organization)
    if q and q.strip():
        text = q.strip()
        # Exists() instead of joins: one row per contact, so no DISTINCT and a cheap count.
        qs = qs.filter(
            Q(name__icontains=text)
            | Exists(ContactEmail.objects.filter(contact=OuterRef("pk"), address__icontains=text))
            | Exists(ContactPhone.objects.filter(contact=OuterRef("pk"), number__contains=text))
        )
    return qs.order_by("name", "id")


def whatsapp_contact(
    *, wa_id: str | None = None, user_id: str | None = None, by_phone: bool = False
) -> Contact | None:
    """The contact of a WhatsApp sender, for channel intake (no user scope: the system is
    identifying who wrote). The BSUID decides when given; the WhatsApp number otherwise;
    with `by_phone`, also a contact whose phone is that number."""
    # Every WhatsApp message asks this: by the unique ids, one statement built once
    # (core/rows.py, decision 0008); the organization is read if it is needed.
    if user_id:
        found = rows.one(Contact, whatsapp_user_id=user_id)
        if found is not None:
            return found
    if not wa_id:
        return None
    found = rows.one(Contact, whatsapp_id=wa_id)
    if found is None and by_phone:
        try:
            number = to_e164(f"+{wa_id}")
        except InvalidInput:  # a WhatsApp id that is not a dialable number
            return None
        found = Contact.objects.select_related("organization").filter(phones__number=number).first()
    return found


def contacts_by_email(addresses: set[str]) -> dict[str, Contact]:
    """The contacts of these (lower-case) addresses, with their organizations, in one query."""
    rows = ContactEmail.objects.select_related("contact__organization")
    return {row.address: row.contact for row in rows.filter(address__in=addresses)}
