"""Portal accounts for customers' contacts: invitations (an agent or admin invites a contact;
the contact gets a one-time link by email to set their password), self-registration for
organizations that allow it (the same link confirms the address), and the portal manager
flag. The only code that writes `Invitation`, `PortalAccess` and `PortalRegistration`.

The link is a random token shown once, in the email; only its SHA-256 is stored. It works
once, until it expires, and a newer invitation for the same person revokes the older one.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from django.conf import settings

from atiende.accounts.models import Invitation, PortalAccess, PortalRegistration, Role, User
from atiende.accounts.services import _password_problem, create_user
from atiende.core import audit, clock
from atiende.core.errors import InvalidInput, NotFound, PermissionDenied
from atiende.core.transactions import service
from atiende.worker import queue

INVITATION_EVENT = "portal.invitation"
REGISTRATION_EVENT = "portal.registration"
# How long an invitation link works (seconds); a self-registration confirmation, one day.
INVITATION_SECONDS = getattr(settings, "ATIENDE_INVITATION_SECONDS", 7 * 24 * 3600)
REGISTRATION_SECONDS = 24 * 3600
# Self-registration mails per address and day, so the form cannot flood an inbox.
MAX_REGISTRATION_MAILS = 3


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def invitation_path(token: str) -> str:
    return f"/portal/invitacion/{token}"


def _absolute(path: str, base_url: str | None) -> str:
    """The link names the public address when there is one, else the caller's base URL
    (the request that invited), never a Host header alone."""
    base = settings.PUBLIC_URL or (base_url or "").rstrip("/") or "http://127.0.0.1:8000"
    return base + path


def _site_name() -> str:
    from atiende.core import site

    return site.get("organization.name") or "atiende"


def _contact_email(contact) -> str | None:
    row = contact.emails.order_by("id").first()
    return row.address if row else None


def _issue(user: User, *, invited_by: User | None, self_registered: bool, seconds: int) -> str:
    now = clock.now()
    Invitation.objects.filter(user=user, used_at__isnull=True, revoked_at__isnull=True).update(
        revoked_at=now
    )
    token = secrets.token_urlsafe(32)
    row = Invitation.objects.create(
        user=user,
        digest=_digest(token),
        invited_by=audit.signed_in(invited_by),
        self_registered=self_registered,
        created_at=now,
        expires_at=now + dt.timedelta(seconds=seconds),
    )
    audit.record(
        actor=invited_by,
        action="user.invited",
        obj=user,
        changes={"invitation": row.pk, "expires_at": row.expires_at.isoformat()},
    )
    return token


def _send(user: User, *, event: str, subject: str, body: str) -> None:
    # The "notify" job (channels) writes the notification and delivers it: the outbox.
    queue.enqueue(
        "notify",
        {
            "case_id": None,
            "event": event,
            "subject": subject,
            "body": body,
            "recipients": [{"kind": "email", "address": user.email, "name": user.name}],
        },
    )


@service
def invite_contact(*, contact, actor: User | None, base_url: str | None = None) -> User:
    """Give `contact` a portal account (created if missing, without a password) and email
    them a one-time link to set their password. Staff only; the contact needs an email."""
    if actor is None or not actor.is_agent:
        raise PermissionDenied("Solo un agente o un administrador puede invitar al portal.")
    email = _contact_email(contact)
    if email is None:
        raise InvalidInput(
            "No se pudo invitar al contacto.",
            errors={"email": "El contacto no tiene correo electrónico: agregue uno primero."},
        )
    user = User.objects.filter(contact=contact).first()
    if user is None:
        if User.objects.filter(email__iexact=email).exists():
            raise InvalidInput(
                "No se pudo invitar al contacto.",
                errors={"email": f"El correo {email} ya es de otro usuario."},
            )
        user = create_user(
            email=email,
            name=contact.name or email,
            role=Role.CUSTOMER,
            organization=contact.organization.slug if contact.organization_id else None,
            actor=actor,
        )
    elif not user.is_customer:
        raise InvalidInput(
            "No se pudo invitar al contacto.",
            errors={"email": "Ese contacto ya es un usuario del personal."},
        )
    token = _issue(user, invited_by=actor, self_registered=False, seconds=INVITATION_SECONDS)
    days = INVITATION_SECONDS // 86400
    site_name = _site_name()
    _send(
        user,
        event=INVITATION_EVENT,
        subject=f"{site_name}: invitación al portal de la mesa de ayuda",
        body=(
            f"Hola, {user.name}:\n\n"
            f"{actor.name} le invitó al portal de autogestión de la mesa de ayuda de {site_name}, "
            "donde puede crear casos, seguir los de su organización, responder y calificar la "
            "atención.\n\nPara elegir su contraseña, abra este enlace:\n\n"
            f"{_absolute(invitation_path(token), base_url)}\n\n"
            f"El enlace sirve una sola vez y vence en {days} días. Después inicie sesión con su "
            f"correo ({user.email}).\n\n{site_name}\n"
        ),
    )
    return user


def invitation_for(token: str) -> Invitation:
    """The usable invitation of a link; NotFound when it is unknown, used, revoked or
    expired (the same answer for each, so a link reveals nothing)."""
    row = (
        Invitation.objects.select_related("user")
        .filter(digest=_digest(token or ""), used_at__isnull=True, revoked_at__isnull=True)
        .first()
    )
    if row is None or row.expires_at <= clock.now() or not row.user.is_active:
        raise NotFound("Este enlace ya no sirve: se usó, venció o fue reemplazado por otro.")
    return row


@service
def accept_invitation(*, token: str, password: str) -> User:
    """Set the password through an invitation link, which then stops working."""
    row = invitation_for(token)
    row = Invitation.objects.select_for_update().select_related("user").get(pk=row.pk)
    if row.used_at is not None:
        raise NotFound("Este enlace ya no sirve: se usó, venció o fue reemplazado por otro.")
    user = row.user
    problem = _password_problem(password or "", user)
    if problem:
        raise InvalidInput("Elija otra contraseña.", errors=problem)
    user.set_password(password)
    user.save(update_fields=["password"])
    row.used_at = clock.now()
    row.save(update_fields=["used_at"])
    audit.record(
        actor=user, action="user.invitation_accepted", obj=user, changes={"invitation": row.pk}
    )
    return user


@service
def set_manager(*, user: User, manager: bool, actor: User | None) -> PortalAccess:
    """Make a customer user their organization's manager in the portal (or not)."""
    if actor is not None and not actor.is_agent:
        raise PermissionDenied("Solo el personal puede cambiar los gestores de una organización.")
    if not user.is_customer:
        raise InvalidInput("Solo un cliente puede ser gestor.", errors={"user": "no es cliente"})
    access, _ = PortalAccess.objects.get_or_create(user=user)
    if access.manager != manager:
        audit.record(
            actor=actor,
            action="user.manager_changed",
            obj=user,
            changes={"manager": [access.manager, manager]},
        )
        access.manager = manager
        access.save(update_fields=["manager"])
    return access


def is_manager(user: User) -> bool:
    if not getattr(user, "is_customer", False):
        return False
    try:
        return user.portal_access.manager
    except PortalAccess.DoesNotExist:
        return False


@service
def set_self_registration(*, organization, enabled: bool, actor: User | None) -> None:
    if actor is not None and not actor.is_agent:
        raise PermissionDenied("Solo el personal puede cambiar el autorregistro.")
    row, _ = PortalRegistration.objects.get_or_create(organization=organization)
    if row.self_registration != enabled:
        audit.record(
            actor=actor,
            action="organization.self_registration",
            obj=organization,
            changes={"self_registration": [row.self_registration, enabled]},
        )
        row.self_registration = enabled
        row.save(update_fields=["self_registration"])


def self_registration_allowed(email: str):
    """The organization whose domain `email` is at, when it allows self-registration."""
    from atiende.customers import services as customer_services

    org = customer_services.organization_for_email(email or "")
    if org is None:
        return None
    row = PortalRegistration.objects.filter(organization=org, self_registration=True).first()
    return org if row else None


@service
def register(*, email: str, name: str, base_url: str | None = None) -> None:
    """Self-registration: when the address's domain belongs to an organization that allows
    it and the address has no account yet, create the account (no password) and email a
    confirmation link that sets the password. Says nothing either way: the page shows the
    same message whatever happened, so it cannot tell which addresses have accounts."""
    from atiende.core.text import one_line
    from atiende.customers import services as customer_services

    email = (email or "").strip().lower()
    name = one_line(name or "").strip()[:200]
    if "@" not in email or " " in email or len(email) > 254:
        raise InvalidInput("Datos inválidos.", errors={"email": "Escriba un correo válido."})
    if not name:
        raise InvalidInput("Datos inválidos.", errors={"name": "Escriba su nombre."})
    org = self_registration_allowed(email)
    if org is None:
        return
    since = clock.now() - dt.timedelta(days=1)
    if (
        Invitation.objects.filter(
            user__email__iexact=email, self_registered=True, created_at__gte=since
        ).count()
        >= MAX_REGISTRATION_MAILS
    ):
        return
    user = User.objects.filter(email__iexact=email).first()
    if user is not None and (user.has_usable_password() or not user.is_customer):
        return  # an account in use: the person signs in or resets their password
    if user is None:
        contact = customer_services.find_contact(email=email)
        if contact is not None and (
            contact.organization_id != org.pk or User.objects.filter(contact=contact).exists()
        ):
            return
        user = create_user(email=email, name=name, role=Role.CUSTOMER, organization=org.slug)
    token = _issue(user, invited_by=None, self_registered=True, seconds=REGISTRATION_SECONDS)
    site_name = _site_name()
    _send(
        user,
        event=REGISTRATION_EVENT,
        subject=f"{site_name}: confirme su correo para el portal",
        body=(
            f"Hola, {user.name}:\n\nPara confirmar su correo y elegir la contraseña de su cuenta "
            f"en el portal de la mesa de ayuda de {site_name}, abra este enlace:\n\n"
            f"{_absolute(invitation_path(token), base_url)}\n\n"
            "El enlace sirve una sola vez y vence en 24 horas. Si usted no lo pidió, ignore "
            f"este mensaje.\n\n{site_name}\n"
        ),
    )
