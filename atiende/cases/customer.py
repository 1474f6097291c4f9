"""What a customer does to a case besides writing on it: follow it (colleagues of the
organization who get its notifications), reopen or close it, rate a resolution, and answer
a case that can no longer be reopened (a new case linked to the old one). Also how the
customers of a case are told about it (`notify_customers`), which `services.add_note` and
`services._move` call in the same transaction.

The only code that writes `Follower`, `Rating` and `FollowUp`. Every change is audited.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import IntegrityError

from atiende.accounts.models import User
from atiende.cases import services, statuses
from atiende.cases.models import Case, Follower, FollowUp, Note, Rating
from atiende.core import audit, clock, site
from atiende.core.errors import InvalidInput, PermissionDenied, TransitionRefused
from atiende.core.transactions import service, service_scope
from atiende.customers.models import Contact, ContactEmail
from atiende.worker import queue

CUSTOMER_EVENT = "case.customer_update"


# --- Telling the customers ------------------------------------------------------------------


def portal_link(case: Case) -> str:
    base = settings.PUBLIC_URL or "http://" + getattr(settings, "ATIENDE_BIND", "127.0.0.1:8000")
    return f"{base}/portal/cases/{case.number}"


def notify_customers(
    case: Case, text: str, *, exclude: Contact | None = None, followers: bool = True
) -> None:
    """Email `text` with the portal link to the case's followers and, when the case came
    through the portal (where no channel carries the answer), to its requester. Cases of
    other channels already reach their requester through that channel (`add_note`).
    `followers=False` when the caller knows there are none (a case opened in this
    transaction): no look-up."""
    contact_ids = (
        list(Follower.objects.filter(case=case).values_list("contact_id", flat=True))
        if followers
        else []
    )
    if case.requester_id and case.channel.kind == "portal":
        contact_ids.append(case.requester_id)
    if exclude is not None:
        contact_ids = [c for c in contact_ids if c != exclude.pk]
    if not contact_ids:
        return
    seen: set[int] = set()
    recipients = []
    for row in (
        ContactEmail.objects.filter(contact_id__in=contact_ids)
        .select_related("contact")
        .order_by("contact_id", "id")
    ):
        if row.contact_id in seen:
            continue  # one address per person: their first
        seen.add(row.contact_id)
        recipients.append(
            {"kind": "email", "address": row.address, "name": row.contact.name or row.address}
        )
    if recipients:
        queue.enqueue(  # the "notify" job (channels) writes and delivers them: the outbox
            "notify",
            {
                "case_id": case.pk,
                "event": CUSTOMER_EVENT,
                "subject": f"[{case.number}] {case.subject}",
                "body": f"{text}\n\nVea el caso y responda en el portal: {portal_link(case)}\n",
                "recipients": recipients,
            },
        )


STATUS_MESSAGES = {
    "awaiting_info": (
        "Su caso {number} espera su respuesta: el equipo necesita información para continuar. "
        "Mientras tanto los tiempos de atención están en pausa."
    ),
    "resolved": (
        "Su caso {number} fue marcado como resuelto. Si la solución no le sirve, puede reabrirlo "
        "en los próximos {days} días; si quedó bien, califique la atención."
    ),
}


def tell_status(case: Case, status: str, actor: User | None) -> None:
    """After a staff change to awaiting_info or resolved: an automatic public note, which
    reaches the requester through the case's channel (and followers by email)."""
    if actor is not None and actor.is_customer:
        return
    template = STATUS_MESSAGES.get(status)
    if template is None:
        return
    body = template.format(number=case.number, days=site.get("cases.reopen_within_days"))
    services.add_note(case=case, body_text=body, automatic=True)


# --- Following --------------------------------------------------------------------------------


def _check_customer_of(actor: User, case: Case) -> None:
    if actor.is_customer and (
        actor.contact is None or actor.contact.organization_id != case.organization_id
    ):
        raise PermissionDenied("Solo personas de la organización del caso pueden hacerlo.")


@service
def follow_case(*, case: Case, contact: Contact, actor: User) -> Follower:
    """Add a colleague of the case's organization as a follower (idempotent)."""
    _check_customer_of(actor, case)
    if case.organization_id is None or contact.organization_id != case.organization_id:
        raise InvalidInput(
            "No se pudo agregar el seguidor.",
            errors={"contact": "Solo personas de la organización del caso pueden seguirlo."},
        )
    existing = Follower.objects.filter(case=case, contact=contact).first()
    if existing:
        return existing
    # add_note skips the follower look-up on a case opened in the same transaction: not
    # on this one any more.
    case.__dict__.pop("_opened_in", None)
    try:
        with service_scope():
            row = Follower.objects.create(
                case=case, contact=contact, added_by=audit.signed_in(actor), created_at=clock.now()
            )
    except IntegrityError:
        return Follower.objects.get(case=case, contact=contact)
    audit.record(
        actor=actor,
        action="case.follower_added",
        obj=case,
        case=case,
        changes={"follower": [None, contact.pk]},
    )
    return row


@service
def unfollow_case(*, case: Case, contact: Contact, actor: User) -> None:
    _check_customer_of(actor, case)
    deleted, _ = Follower.objects.filter(case=case, contact=contact).delete()
    if deleted:
        audit.record(
            actor=actor,
            action="case.follower_removed",
            obj=case,
            case=case,
            changes={"follower": [contact.pk, None]},
        )


# --- Reopening, closing, answering late ------------------------------------------------------


def reopen_window() -> dt.timedelta:
    return dt.timedelta(days=site.get("cases.reopen_within_days"))


def can_reopen(case: Case, *, now: dt.datetime | None = None) -> bool:
    now = now or clock.now()
    return (
        case.status == "resolved"
        and case.resolved_at is not None
        and now - case.resolved_at <= reopen_window()
    )


@service
def reopen_case(*, case: Case, actor: User, reason: str = "") -> Case:
    """The customer says the solution did not work: back to open (within the window)."""
    reason = (reason or "").strip()
    case = services.change_status(
        case=case, actor=actor, status="open", reason=reason or "reabierto por el cliente"
    )
    if reason:
        services.add_note(case=case, body_text=reason, actor=actor)
    return case


@service
def close_case(*, case: Case, actor: User) -> Case:
    """The customer says it is solved: an active case is resolved (by them) and closed; a
    resolved one is closed."""
    case = Case.objects.select_for_update().get(pk=case.pk)
    if case.status in statuses.FINISHED:
        raise TransitionRefused(
            f"El caso {case.number} ya está {statuses.label(case.status).lower()}."
        )
    if case.status != "resolved":
        case = services._move(
            case, actor, "resolved", reason="el cliente indicó que quedó resuelto"
        )
    return services._move(case, actor, "closed", reason="cerrado por el cliente")


@service
def answer_case(*, case: Case, actor: User, body: str) -> tuple[Case, Note | None]:
    """A customer's comment. On a case that can still take notes it is a note (which
    resumes a case awaiting the customer); on a closed case, or a resolved one past its
    reopen window, it opens a new case linked to the old one. Returns (case, note)."""
    case = Case.objects.select_for_update().select_related("channel").get(pk=case.pk)
    late = case.status in statuses.FINISHED or (case.status == "resolved" and not can_reopen(case))
    if not late:
        return case, services.add_note(case=case, body_text=body, actor=actor)
    if not (body or "").strip():
        raise InvalidInput(
            "No se pudo agregar la nota.", errors={"body": "La nota no puede estar vacía."}
        )
    from atiende.directory import selectors as channel_selectors

    channel = channel_selectors.channel("portal") or case.channel
    new = services.open_case(
        actor=actor,
        channel=channel,
        subject=f"Seguimiento de {case.number}: {case.subject}"[:300],
        description=body,
        type=case.type,
        priority=case.priority,
    )
    FollowUp.objects.create(case=new, original=case)
    audit.record(
        actor=actor,
        action="case.follow_up_opened",
        obj=case,
        case=case,
        changes={"follow_up": [None, new.number]},
    )
    return new, None


# --- Rating -----------------------------------------------------------------------------------


def rating_due(case: Case) -> bool:
    """Whether the customer may rate now: resolved or closed after a resolution not rated."""
    return (
        case.status in ("resolved", "closed")
        and case.resolved_at is not None
        and not Rating.objects.filter(case=case, resolved_at=case.resolved_at).exists()
    )


@service
def rate_case(*, case: Case, actor: User, score: int, comment: str = "") -> Rating:
    """Rate the case's current resolution, once."""
    _check_customer_of(actor, case)
    case = Case.objects.select_for_update().get(pk=case.pk)
    errors = {}
    if not isinstance(score, int) or not 1 <= score <= 5:
        errors["score"] = "Elija una calificación de 1 a 5."
    comment = (comment or "").strip()
    if len(comment) > 4000:
        errors["comment"] = "Admite máximo 4000 caracteres."
    if errors:
        raise InvalidInput("No se pudo guardar la calificación.", errors=errors)
    if case.status not in ("resolved", "closed") or case.resolved_at is None:
        raise TransitionRefused(
            "Podrá calificar la atención cuando el caso esté resuelto.", code="not_resolved"
        )
    try:
        with service_scope():
            row = Rating.objects.create(
                case=case,
                resolved_at=case.resolved_at,
                score=score,
                comment=comment,
                contact=actor.contact if actor.is_customer else None,
                created_at=clock.now(),
            )
    except IntegrityError:
        raise TransitionRefused("Esta solución ya fue calificada.", code="already_rated") from None
    audit.record(
        actor=actor,
        action="case.rated",
        obj=case,
        case=case,
        changes={"score": [None, score], "comment": comment},
    )
    return row


# --- Portal writes with files -------------------------------------------------------------------

MAX_FILES = 5


def _check_files(files: list) -> None:
    if len(files) > MAX_FILES:
        raise InvalidInput(
            "Demasiados archivos.",
            errors={"files": f"Adjunte máximo {MAX_FILES} archivos a la vez."},
        )


@service
def open_case_with_files(*, actor: User, channel, files: list, **fields) -> Case:
    """`services.open_case` and its attachments, all or nothing. `files` are
    (filename, chunks) pairs; each goes through the same checks as an API upload."""
    _check_files(files)
    case = services.open_case(actor=actor, channel=channel, **fields)
    for filename, chunks in files:
        services.add_attachment(case=case, filename=filename, chunks=chunks, actor=actor)
    return case


@service
def comment_with_files(*, case: Case, actor: User, body: str, files: list) -> Case:
    """A customer's comment (see `answer_case`) and its attachments, all or nothing.
    Returns the case the comment landed on (a new linked one past the reopen window)."""
    _check_files(files)
    if not (body or "").strip() and files:
        body = "(Adjuntos)"
    target, note = answer_case(case=case, actor=actor, body=body)
    for filename, chunks in files:
        services.add_attachment(
            case=target, filename=filename, chunks=chunks, actor=actor, note=note
        )
    return target
