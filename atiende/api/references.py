"""Turn the identifiers a client sends (slugs, ids, emails) into objects, or a 422 naming
the field. Parsing, not business rules: the services still validate what they receive.
"""

from __future__ import annotations

from atiende.accounts.models import SupportGroup, User
from atiende.core.errors import InvalidInput
from atiende.customers.models import Contact, Organization
from atiende.directory import selectors as channel_selectors
from atiende.directory.models import Channel

from .types import MAX_ID

# A case or note sent through the API comes in on this channel; the portal's otherwise.
INTAKE_CHANNELS = ("api", "portal")


def _missing(field: str, message: str) -> InvalidInput:
    return InvalidInput("Datos inválidos.", errors={field: message})


def channel(slug: str, field: str = "channel") -> Channel:
    row = channel_selectors.channel(slug)
    if row is None:
        raise _missing(field, f"No existe el canal «{slug}».")
    return row


def intake_channel(*, required: bool = True) -> Channel | None:
    for slug in INTAKE_CHANNELS:
        row = channel_selectors.channel(slug)
        if row is not None and row.active:
            return row
    if not required:
        return None
    raise _missing("channel", "No hay un canal «api» ni «portal» activo; indique el canal.")


def organization(slug: str, field: str = "organization") -> Organization:
    row = Organization.objects.filter(slug=slug).first()
    if row is None:
        raise _missing(field, f"No existe la organización «{slug}».")
    return row


def contact(contact_id: int, field: str = "requester") -> Contact:
    row = Contact.objects.select_related("organization").filter(pk=contact_id).first()
    if row is None:
        raise _missing(field, f"No existe el contacto {contact_id}.")
    return row


def user(ref: int | str, me: User, field: str = "assignee") -> User:
    """A user by id, email or "me"."""
    text = str(ref).strip()
    if text == "me":
        return me
    if text.isascii() and text.isdigit():
        if int(text) > MAX_ID:
            raise _missing(field, f"No existe el usuario {text}.")
        row = User.objects.filter(pk=int(text)).first()
    else:
        row = User.objects.filter(email__iexact=text).first()
    if row is None:
        raise _missing(field, f"No existe el usuario «{text}».")
    return row


def group(slug: str, field: str = "group") -> SupportGroup:
    row = SupportGroup.objects.filter(slug=slug).first()
    if row is None:
        raise _missing(field, f"No existe el grupo de soporte «{slug}».")
    return row
