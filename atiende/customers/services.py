"""Organizations and contacts: the only code that writes these tables."""

from __future__ import annotations

import re
from typing import Any

from django.db import IntegrityError, connection, transaction

from atiende.core import audit, clock, rows
from atiende.core.errors import DomainError, InvalidInput
from atiende.core.snapshot import Snapshot
from atiende.core.text import one_line, one_line_problem
from atiende.core.transactions import service, service_scope
from atiende.customers.domains import is_free_mail
from atiende.customers.models import Contact, ContactEmail, ContactPhone, Organization
from atiende.customers.phones import to_e164
from atiende.customers.selectors import whatsapp_contact

# `actor` is the acting User (or None): customers sits below accounts in the import
# order (docs/architecture.md), so the type is not named here.

SLUG_RE = _SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_DOMAIN = re.compile(r"^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")


class DomainTaken(DomainError):
    """An email domain another organization already has: its unknown senders join it."""

    status = 409
    code = "domain_taken"


def clean_domains(domains: list[str], *, organization: Organization | None = None) -> list[str]:
    """The organization's email domains, normalised, or a clear error.

    A domain decides which organization an unknown sender joins (and so whose cases they
    read): a free-mail domain (the list in `free_mail_domains.txt`) would put strangers in
    one organization, and a domain another organization has would move its people. Both
    are refused: the API, the admin and the configuration loader all come through here.
    """
    cleaned: list[str] = []
    for raw in domains:
        d = str(raw).strip().lower().lstrip("@")
        if not _DOMAIN.match(d):
            raise InvalidInput(
                "Dominio inválido.", errors={"email_domains": f"{d!r} no es un dominio."}
            )
        if is_free_mail(d):
            raise InvalidInput(
                "Dominio de correo gratuito.",
                errors={
                    "email_domains": f"{d} es un dominio de correo gratuito: cualquiera puede "
                    "tener una dirección ahí, así que no identifica a una organización."
                },
            )
        if d not in cleaned:
            cleaned.append(d)
    others = Organization.objects.all()
    if organization is not None and organization.pk is not None:
        others = others.exclude(pk=organization.pk)
    for other in others.only("slug", "name", "email_domains"):
        mine = [d for d in cleaned if d in {str(x).lower() for x in other.email_domains or []}]
        if mine:
            raise DomainTaken(
                f"El dominio {mine[0]} ya es de la organización {other.name} ({other.slug}); "
                "un dominio pertenece a una sola organización.",
                domain=mine[0],
                organization=other.slug,
            )
    return cleaned


@service
def create_organization(
    *, slug: str, name: str, email_domains: list[str] | None = None, actor: Any = None
) -> Organization:
    errors = {}
    if not _SLUG.match(slug or ""):
        errors["slug"] = "Use minúsculas, números y guiones (p. ej. 'acme-sas')."
    elif Organization.objects.filter(slug=slug).exists():
        errors["slug"] = f"Ya existe la organización {slug!r}."
    if not (name or "").strip():
        errors["name"] = "El nombre es obligatorio."
    elif problem := one_line_problem(name):
        errors["name"] = problem
    if errors:
        raise InvalidInput("No se pudo crear la organización.", errors=errors)
    domains = clean_domains(email_domains or [])
    org = Organization.objects.create(
        slug=slug, name=name.strip(), email_domains=domains, created_at=clock.now()
    )
    audit.record(
        actor=actor,
        action="organization.created",
        obj=org,
        changes={"slug": [None, slug], "name": [None, org.name], "email_domains": [None, domains]},
    )
    return org


@service
def update_organization(
    *, organization: Organization, actor: Any = None, **fields: Any
) -> Organization:
    before = audit.snapshot(organization, ["name", "email_domains"])
    if "name" in fields and fields["name"] is not None:
        if not fields["name"].strip():
            raise InvalidInput(
                "No se pudo actualizar.", errors={"name": "El nombre es obligatorio."}
            )
        if problem := one_line_problem(fields["name"]):
            raise InvalidInput("No se pudo actualizar.", errors={"name": problem})
        organization.name = fields["name"].strip()
    if fields.get("email_domains") is not None:
        organization.email_domains = clean_domains(
            fields["email_domains"], organization=organization
        )
    changes = audit.diff(organization, before, ["name", "email_domains"])
    if changes:
        organization.save(update_fields=["name", "email_domains"])
        audit.record(actor=actor, action="organization.updated", obj=organization, changes=changes)
    return organization


def _organization_domains() -> dict[str, Organization]:
    out: dict[str, Organization] = {}
    for org in Organization.objects.order_by("pk"):
        for domain in org.email_domains or []:
            # A free-mail domain stored before it was refused never places a stranger in
            # an organization; of a domain two organizations hold, the oldest keeps it.
            if not is_free_mail(str(domain)):
                out.setdefault(str(domain).lower(), org)
    return out


# Which organization each email domain belongs to, for intake from unknown senders.
_domains = Snapshot(_organization_domains, watch=[Organization])


def organization_for_email(address: str) -> Organization | None:
    return _domains.get().get(address.rsplit("@", 1)[-1].lower())


@service
def create_contact(
    *,
    name: str,
    organization: Organization | None = None,
    emails: list[str] | None = None,
    phones: list[str] | None = None,
    whatsapp_id: str | None = None,
    whatsapp_user_id: str | None = None,
    actor: Any = None,
) -> Contact:
    emails = [e.strip().lower() for e in (emails or []) if e.strip()]
    errors = {}
    # A contact's name is the display name of the emails sent to them: one line.
    if problem := one_line_problem(name):
        errors["name"] = problem
    for e in emails:
        if "@" not in e or " " in e:
            errors["emails"] = f"{e!r} no es un correo válido."
        elif ContactEmail.objects.filter(address=e).exists():
            errors["emails"] = f"El correo {e} ya pertenece a otro contacto."
    numbers = []
    for p in phones or []:
        try:
            n = to_e164(p)
        except InvalidInput as exc:
            errors["phones"] = exc.message
            continue
        if ContactPhone.objects.filter(number=n).exists():
            errors["phones"] = f"El teléfono {n} ya pertenece a otro contacto."
        numbers.append(n)
    if whatsapp_id and Contact.objects.filter(whatsapp_id=whatsapp_id).exists():
        errors["whatsapp_id"] = "Ese WhatsApp ya pertenece a otro contacto."
    if whatsapp_user_id and Contact.objects.filter(whatsapp_user_id=whatsapp_user_id).exists():
        errors["whatsapp_user_id"] = "Ese usuario de WhatsApp ya pertenece a otro contacto."
    if errors:
        raise InvalidInput("No se pudo crear el contacto.", errors=errors)
    contact = Contact.objects.create(
        name=(name or "").strip(),
        organization=organization,
        whatsapp_id=whatsapp_id or None,
        whatsapp_user_id=whatsapp_user_id or None,
        created_at=clock.now(),
    )
    ContactEmail.objects.bulk_create([ContactEmail(contact=contact, address=e) for e in emails])
    ContactPhone.objects.bulk_create(
        [ContactPhone(contact=contact, number=n) for n in dict.fromkeys(numbers)]
    )
    _audit_created(contact, actor, emails, numbers, whatsapp_id, whatsapp_user_id)
    return contact


def _audit_created(
    contact: Contact,
    actor: Any,
    emails: list[str],
    phones: list[str],
    whatsapp_id: str | None = None,
    whatsapp_user_id: str | None = None,
) -> None:
    """The `contact.created` entry, alike for one contact and for a batch."""
    organization = contact.organization
    audit.record(
        actor=actor,
        action="contact.created",
        obj=contact,
        changes={
            "name": [None, contact.name],
            "organization": [None, organization.slug if organization else None],
            "emails": [None, emails],
            "phones": [None, phones],
            "whatsapp_id": [None, whatsapp_id],
            **({"whatsapp_user_id": [None, whatsapp_user_id]} if whatsapp_user_id else {}),
        },
    )


CONTACT_FIELDS = ("name", "organization", "emails", "phones", "whatsapp_id", "whatsapp_user_id")


@service
def update_contact(*, contact: Contact, actor: Any = None, **fields: Any) -> Contact:
    """Change a contact. `emails` and `phones`, when given, replace the current lists;
    `organization=None` detaches the contact from its organization."""
    unknown = set(fields) - set(CONTACT_FIELDS)
    if unknown:
        raise InvalidInput("Campos desconocidos.", errors={f: "campo no editable" for f in unknown})
    errors = {}
    emails = numbers = None
    if fields.get("name") is not None and (problem := one_line_problem(fields["name"])):
        errors["name"] = problem
    if fields.get("emails") is not None:
        emails = list(dict.fromkeys(e.strip().lower() for e in fields["emails"] if e.strip()))
        for e in emails:
            if "@" not in e or " " in e:
                errors["emails"] = f"{e!r} no es un correo válido."
            elif ContactEmail.objects.filter(address=e).exclude(contact=contact).exists():
                errors["emails"] = f"El correo {e} ya pertenece a otro contacto."
    if fields.get("phones") is not None:
        numbers = []
        for p in fields["phones"]:
            try:
                n = to_e164(p)
            except InvalidInput as exc:
                errors["phones"] = exc.message
                continue
            if ContactPhone.objects.filter(number=n).exclude(contact=contact).exists():
                errors["phones"] = f"El teléfono {n} ya pertenece a otro contacto."
            numbers.append(n)
        numbers = list(dict.fromkeys(numbers))
    whatsapp_id = fields.get("whatsapp_id") or None
    if (
        whatsapp_id
        and Contact.objects.filter(whatsapp_id=whatsapp_id).exclude(pk=contact.pk).exists()
    ):
        errors["whatsapp_id"] = "Ese WhatsApp ya pertenece a otro contacto."
    user_id = fields.get("whatsapp_user_id") or None
    if user_id and Contact.objects.filter(whatsapp_user_id=user_id).exclude(pk=contact.pk).exists():
        errors["whatsapp_user_id"] = "Ese usuario de WhatsApp ya pertenece a otro contacto."
    if errors:
        raise InvalidInput("No se pudo actualizar el contacto.", errors=errors)

    def state() -> dict[str, Any]:
        return {
            "name": contact.name,
            "organization": contact.organization.slug if contact.organization_id else None,
            "emails": sorted(contact.emails.values_list("address", flat=True)),
            "phones": sorted(contact.phones.values_list("number", flat=True)),
            "whatsapp_id": contact.whatsapp_id,
            "whatsapp_user_id": contact.whatsapp_user_id,
        }

    before = state()
    if fields.get("name") is not None:
        contact.name = fields["name"].strip()
    if "organization" in fields:
        contact.organization = fields["organization"]
    if "whatsapp_id" in fields:
        contact.whatsapp_id = whatsapp_id
    if "whatsapp_user_id" in fields:
        contact.whatsapp_user_id = user_id
    contact.save(update_fields=["name", "organization", "whatsapp_id", "whatsapp_user_id"])
    if emails is not None:
        contact.emails.exclude(address__in=emails).delete()
        have = set(contact.emails.values_list("address", flat=True))
        ContactEmail.objects.bulk_create(
            [ContactEmail(contact=contact, address=e) for e in emails if e not in have]
        )
    if numbers is not None:
        contact.phones.exclude(number__in=numbers).delete()
        have = set(contact.phones.values_list("number", flat=True))
        ContactPhone.objects.bulk_create(
            [ContactPhone(contact=contact, number=n) for n in numbers if n not in have]
        )
    after = state()
    changes = {k: [before[k], after[k]] for k in before if before[k] != after[k]}
    if changes:
        audit.record(actor=actor, action="contact.updated", obj=contact, changes=changes)
    return contact


def find_contact(*, email: str | None = None, phone: str | None = None) -> Contact | None:
    # Addresses and numbers are unique: no ordering needed to take the one row.
    if email:
        rows = ContactEmail.objects.select_related("contact__organization")
        row = next(iter(rows.filter(address=email.strip().lower())[:1]), None)
        if row:
            return row.contact
    if phone:
        phones = ContactPhone.objects.select_related("contact__organization")
        phone_row = next(iter(phones.filter(number=to_e164(phone))[:1]), None)
        if phone_row:
            return phone_row.contact
    return None


def find_or_create_contact(
    *,
    email: str | None = None,
    phone: str | None = None,
    name: str = "",
    organization: Organization | None = None,
    actor: Any = None,
) -> Contact:
    """The contact with this address, or a new one (organization by email domain if not given).

    Safe under concurrent intake of the same new address: the unique address decides.
    """
    existing = find_contact(email=email, phone=phone)
    if existing:
        return existing
    if organization is None and email:
        organization = organization_for_email(email)
    try:
        with service_scope():
            return create_contact(
                name=one_line(name or (email or phone or "")),
                organization=organization,
                emails=[email] if email else [],
                phones=[phone] if phone else [],
                actor=actor,
            )
    except (IntegrityError, InvalidInput):
        existing = find_contact(email=email, phone=phone)
        if existing:
            return existing
        raise


@service
def create_email_contacts(*, senders: dict[str, str], actor: Any = None) -> dict[str, Contact]:
    """Contacts for many new email senders at once (address -> display name), each made as
    `find_or_create_contact` makes one — its address lower-cased, its name one line (the
    address when there is none), the organization of its domain — and audited as
    `create_contact` audits one, with one INSERT per table for all of them: the email
    poller's group of mails from first-time senders.

    Returns address -> contact. An address that has a contact already (another intake
    created it since the caller looked) gets that contact: the unique address decides,
    never a second contact. An address `create_contact` refuses is left out, for the
    caller's one-by-one path to report as it always has."""
    wanted: dict[str, str] = {}
    for raw, name in senders.items():
        address = raw.strip().lower()
        if address and "@" in address and " " not in address:
            wanted.setdefault(address, name)
    if not wanted:
        return {}
    try:
        with transaction.atomic():  # a savepoint: a clash leaves the caller's work intact
            created = _insert_email_contacts(wanted)
    except IntegrityError:
        # Someone else created some of these addresses since the caller looked: theirs
        # stand, and the rest are made one by one, each settling its own race.
        return {
            address: find_or_create_contact(email=address, name=name, actor=actor)
            for address, name in wanted.items()
        }
    for address, contact in created.items():
        _audit_created(contact, actor, [address], [])
    return created


def _insert_email_contacts(wanted: dict[str, str]) -> dict[str, Contact]:
    now = clock.now()
    contacts = {
        address: Contact(
            name=one_line(name or address).strip(),
            organization=organization_for_email(address),
            created_at=now,
        )
        for address, name in wanted.items()
    }
    if connection.features.can_return_rows_from_bulk_insert:
        rows.insert(list(contacts.values()), using=connection.alias)
    else:  # SQLite before 3.35 cannot say the new ids of a multi-row INSERT
        for contact in contacts.values():
            contact.save(force_insert=True)
    rows.insert(
        [ContactEmail(contact=contact, address=address) for address, contact in contacts.items()],
        using=connection.alias,
    )
    return contacts


def find_or_create_whatsapp_contact(
    *, wa_id: str | None = None, user_id: str | None = None, name: str = ""
) -> Contact:
    """The WhatsApp sender as a contact, keyed by the BSUID (`user_id`) when WhatsApp sends
    one, else by the number (`wa_id`, digits without '+').

    A user who hides the number arrives with the BSUID only: the contact has no phone. A
    contact first seen with the number and later with both ids is the same contact: the
    BSUID is attached to it (and the number to a BSUID-only contact once it shows up).
    Safe under concurrent intake of the same new user: the unique ids decide.
    """
    if not (wa_id or user_id):
        raise InvalidInput(
            "El mensaje de WhatsApp no trae número ni usuario.", errors={"whatsapp": "obligatorio"}
        )
    known = whatsapp_contact(wa_id=wa_id, user_id=user_id)
    if (
        known is not None
        and (not wa_id or known.whatsapp_id)
        and (not user_id or known.whatsapp_user_id)
    ):
        return known  # the usual case, a sender seen before: nothing to write, no savepoint
    try:
        with transaction.atomic():
            return _whatsapp_contact(wa_id, user_id, name)
    except (IntegrityError, InvalidInput):  # created concurrently: it exists now
        return _whatsapp_contact(wa_id, user_id, name)


def _whatsapp_contact(wa_id: str | None, user_id: str | None, name: str) -> Contact:
    contact = whatsapp_contact(wa_id=wa_id, user_id=user_id)
    phone = None
    if wa_id:
        try:
            phone = to_e164(f"+{wa_id}")
        except InvalidInput:
            phone = None  # a WhatsApp id that is not a dialable number: kept as the id only
        if contact is None and phone:
            contact = find_contact(phone=phone)
    if contact is None:
        return create_contact(
            name=one_line(name or (phone or "") or (f"@{user_id}" if user_id else "")),
            phones=[phone] if phone else [],
            whatsapp_id=wa_id or None,
            whatsapp_user_id=user_id or None,
        )
    missing: dict[str, Any] = {}
    if wa_id and not contact.whatsapp_id:
        taken = whatsapp_contact(wa_id=wa_id)
        if taken is None or taken.pk == contact.pk:
            missing["whatsapp_id"] = wa_id
            owner = find_contact(phone=phone) if phone else None
            if phone and owner is None:  # the number, now known, is the contact's phone too
                missing["phones"] = [*contact.phones.values_list("number", flat=True), phone]
    if user_id and not contact.whatsapp_user_id:
        missing["whatsapp_user_id"] = user_id
    if missing:
        update_contact(contact=contact, **missing)
    return contact
