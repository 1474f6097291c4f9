"""Accounts: creating users and API tokens. The only code that writes these tables."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from typing import Any

from django.conf import settings
from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils import translation

from atiende.accounts import ladder
from atiende.accounts.models import ApiToken, Role, SupportGroup, User
from atiende.core import audit, clock
from atiende.core.errors import InvalidInput
from atiende.core.transactions import service
from atiende.customers import services as customer_services
from atiende.customers.models import Organization

TOKEN_PREFIX = "atd_"


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _level_problem(level: int) -> dict[str, str]:
    """A responsible's level must be on the configured ladder (any level ≥ 1 before a
    ladder is loaded: users may be created first)."""
    numbers = sorted(ladder.numbers())
    if level < 1 or (numbers and level not in numbers):
        shown = f"{numbers[0]}–{numbers[-1]}" if numbers else "1 o más"
        return {"level": f"El nivel de escalamiento {level} no existe (niveles: {shown})."}
    return {}


def _contact_problem(contact: Any, org: Any) -> dict[str, str]:
    """A customer is bound to the contact that already has the address only when that
    contact is in the organization asked for (or none was asked for)."""
    if contact is None:
        return {}
    if getattr(contact, "user", None) is not None:
        return {"email": f"El contacto {contact} ya tiene un usuario."}
    if org is not None and contact.organization_id != org.pk:
        where = (
            f"la organización {contact.organization.slug!r}"
            if contact.organization_id
            else "ninguna organización"
        )
        return {
            "organization": f"Ya existe un contacto con ese correo en {where}, no en "
            f"{org.slug!r}; cambie primero la organización del contacto (o no indique "
            "--organization para usar la del contacto)."
        }
    return {}


def _password_problem(password: str, user: User) -> dict[str, str]:
    """Django's password validators (settings.AUTH_PASSWORD_VALIDATORS), every reason."""
    try:
        with translation.override(settings.LANGUAGE_CODE):  # domain errors speak Spanish
            password_validation.validate_password(password, user)
    except ValidationError as exc:
        return {"password": " ".join(exc.messages)}
    return {}


@service
def create_user(
    *,
    email: str,
    name: str,
    role: str,
    password: str | None = None,
    organization: str | None = None,
    group: str | None = None,
    level: int | None = None,
    actor: User | None = None,
) -> User:
    """Create a user. A customer is linked to a contact (created if needed) of `organization`."""
    errors: dict[str, str] = {}
    email = (email or "").strip().lower()
    if "@" not in email:
        errors["email"] = "Correo electrónico inválido."
    elif User.objects.filter(email__iexact=email).exists():
        errors["email"] = f"Ya existe un usuario con el correo {email}."
    if role not in Role.values:
        errors["role"] = f"Rol desconocido {role!r}; use uno de: {', '.join(Role.values)}."
    if level is not None:
        errors.update(_level_problem(level))
    org = None
    if organization:
        org = Organization.objects.filter(slug=organization).first()
        if org is None:
            errors["organization"] = f"No existe la organización {organization!r}."
    if role == Role.CUSTOMER and level is not None:
        errors["level"] = "Un cliente no puede ser responsable de un nivel de escalamiento."
    support_group = None
    if group:
        support_group = SupportGroup.objects.filter(slug=group).first()
        if support_group is None:
            errors["group"] = f"No existe el grupo de soporte {group!r}."
    contact = None
    if role == Role.CUSTOMER and "email" not in errors and "organization" not in errors:
        contact = customer_services.find_contact(email=email)
        errors.update(_contact_problem(contact, org))
    if password is not None:
        errors.update(_password_problem(password, User(email=email, name=name)))
    if errors:
        raise InvalidInput("No se pudo crear el usuario.", errors=errors)

    if role == Role.CUSTOMER and contact is None:
        if org is None:
            # Said, not guessed silently: the caller reads `user.contact.organization`
            # (create-user prints it).
            org = customer_services.organization_for_email(email)
        contact = customer_services.create_contact(
            name=name or email, organization=org, emails=[email], actor=actor
        )
    user: User = User.objects.create_user(
        email, password or None, name=name, role=role, contact=contact, level=level
    )
    if password is None:
        user.set_unusable_password()
        user.save(update_fields=["password"])
    if support_group is not None:
        support_group.members.add(user)
    audit.record(
        actor=actor,
        action="user.created",
        obj=user,
        changes={
            "email": [None, email],
            "role": [None, role],
            "level": [None, level],
            "group": [None, group],
            "organization": [None, organization],
        },
    )
    return user


def issue_token(*, user: User, name: str = "", actor: User | None = None) -> str:
    """Create an API token for `user` and return it: the only time it is ever shown. Only
    its SHA-256 is stored (a 256-bit random token needs no slow hash), with the first 12
    characters as a visible prefix to tell tokens apart."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = ApiToken.objects.create(
        user=user, name=name, prefix=token[:12], digest=_digest(token), created_at=clock.now()
    )
    audit.record(actor=actor, action="token.issued", obj=row, changes={"user": [None, user.email]})
    return token


@service
def revoke_token(*, token: ApiToken, actor: User | None = None) -> ApiToken:
    """Revoke a token (idempotent: a revoked token keeps its first revocation date)."""
    row = ApiToken.objects.select_for_update().get(pk=token.pk)
    if row.revoked_at is None:
        row.revoked_at = clock.now()
        row.save(update_fields=["revoked_at"])
        audit.record(
            actor=actor,
            action="token.revoked",
            obj=row,
            changes={"revoked_at": [None, row.revoked_at.isoformat()]},
        )
    return row


# How often a token's last use is written: a write per request would make every API read
# a database write (and on SQLite a turn at the one write lock).
LAST_USE_EVERY = dt.timedelta(seconds=60)


def user_for_token(token: str) -> User | None:
    if not token or not token.startswith(TOKEN_PREFIX):
        return None
    row = (
        ApiToken.objects.select_related("user", "user__contact")
        .filter(digest=_digest(token), revoked_at__isnull=True)
        .first()
    )
    if row is None or not row.user.is_active:
        return None
    _record_use(row)
    return row.user


def _record_use(row: ApiToken) -> None:
    """Note the token's last use, at most once a minute: the row read to authenticate
    says when it was last written, so most requests write nothing; the conditional UPDATE
    keeps concurrent requests from writing it twice. Not audited (it is not a change)."""
    now = clock.now()
    if row.last_used_at is not None and now - row.last_used_at < LAST_USE_EVERY:
        return
    stale = Q(last_used_at__isnull=True) | Q(last_used_at__lte=now - LAST_USE_EVERY)
    ApiToken.objects.filter(stale, pk=row.pk).update(last_used_at=now)
    row.last_used_at = now


@service
def ensure_group(
    *, slug: str, name: str, email: str = "", actor: User | None = None
) -> SupportGroup:
    group, created = SupportGroup.objects.get_or_create(
        slug=slug, defaults={"name": name, "email": email}
    )
    if created:
        audit.record(actor=actor, action="group.created", obj=group, changes={"name": [None, name]})
    elif (group.name, group.email) != (name, email):
        changes = {"name": [group.name, name], "email": [group.email, email]}
        group.name, group.email = name, email
        group.save(update_fields=["name", "email"])
        audit.record(actor=actor, action="group.updated", obj=group, changes=changes)
    return group
