"""The escalation ladder: requesting a climb of one level, deciding it, reminding the
verifier. The only code that writes `EscalationRequest` rows (and, through
`cases.services.change_level`, the only path by which a case's level changes).

Every step is audited on the case (its timeline), tells the customer with an automatic
public note (delivered through the case's channel), and notifies the responsibles of the
levels concerned through the "notify" job, in the same transaction.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import IntegrityError, transaction

from atiende.accounts.models import User
from atiende.cases import services as case_services
from atiende.cases import statuses
from atiende.cases.models import Case
from atiende.core import audit, clock, events, site
from atiende.core.errors import DomainError, InvalidInput, PermissionDenied
from atiende.core.transactions import service
from atiende.customers.models import Contact
from atiende.customers.phones import notification_address
from atiende.escalations import selectors
from atiende.escalations.models import EscalationLevel, EscalationRequest, RequestStatus, Via
from atiende.sla.models import SlaTimer
from atiende.sla.schedules import calendar
from atiende.worker import queue

FALLBACK_SCHEDULE = "24x7"


class EscalationRefused(DomainError):
    """409 with a machine-readable `code`: skip_level, not_eligible, already_pending,
    top_level, closed, already_decided."""

    status = 409
    code = "not_eligible"


def _utc(at: dt.datetime) -> str:
    """As the API writes instants: UTC with a Z."""
    return at.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


def _refuse(result: selectors.Eligibility) -> EscalationRefused:
    extra: dict[str, Any] = {"from_level": result.from_level, "to_level": result.to_level}
    if result.pending_id is not None:
        extra["pending_id"] = result.pending_id
    if result.eligible_from is not None:
        extra["eligible_from"] = _utc(result.eligible_from)
    return EscalationRefused(result.detail, code=result.code, **extra)


# --- Requesting ---------------------------------------------------------------------------


@service
def request_escalation(
    *,
    case: Case,
    actor: User | None,
    to_level: int | None = None,
    reason: str = "",
    via: str | None = None,
    contact: Contact | None = None,
) -> EscalationRequest:
    """Ask the responsible of the next level to take the case. `actor=None` is the system
    (automatic escalation, or a channel message from `contact`)."""
    reason = (reason or "").strip()
    if len(reason) > 4000:
        raise InvalidInput(
            "No se pudo solicitar el escalamiento.",
            errors={"reason": "Admite máximo 4000 caracteres."},
        )
    if via is None and actor is None:
        via = Via.AUTO
    elif via is None:
        via = Via.AGENT if actor.is_agent else Via.API
    if via not in Via.values:
        raise InvalidInput(
            "No se pudo solicitar el escalamiento.", errors={"via": f"Valor inválido {via!r}."}
        )
    if actor is not None and actor.is_customer:
        contact = actor.contact
    # The case row lock serialises requests for one case; the partial unique constraint
    # is the guarantee even so (and on a database that would not serialise them).
    case = Case.objects.select_for_update(of=("self",)).select_related("channel").get(pk=case.pk)
    result = selectors.eligibility(case, actor=actor, to_level=to_level)
    if not result.eligible:
        raise _refuse(result)
    now = clock.now()
    row = EscalationRequest(
        case=case,
        from_level=case.level,
        to_level=case.level + 1,
        requested_by=audit.signed_in(actor),
        requested_by_contact=contact,
        via=via,
        grounds=result.grounds,
        reason=reason,
        created_at=now,
        next_reminder_at=_next_reminder(case, now),
    )
    try:
        with transaction.atomic():
            row.save()
    except IntegrityError:
        pending = EscalationRequest.objects.filter(case=case, status=RequestStatus.PENDING).first()
        raise EscalationRefused(
            "Ya hay una solicitud de escalamiento pendiente de verificación para este caso.",
            code="already_pending",
            pending_id=pending.pk if pending else None,
            from_level=case.level,
            to_level=case.level + 1,
        ) from None
    audit.record(
        actor=actor,
        action="escalation.requested",
        obj=row,
        case=case,
        at=now,
        changes={
            "id": row.pk,
            "from_level": row.from_level,
            "to_level": row.to_level,
            "via": via,
            "grounds": row.grounds,
            "reason": reason,
            "status": [None, RequestStatus.PENDING],
        },
    )
    target = selectors.level(row.to_level)
    _tell_customer(
        case,
        (
            f"Se solicitó escalar el caso {case.number} al nivel {row.to_level}"
            f"{_level_label(target)}. El responsable de ese nivel verificará que el caso haya surtido el "
            f"nivel {row.from_level} sin recibir la atención o la solución necesaria, y le informaremos su decisión."
        ),
    )
    events.publish("escalation.requested", case=case, request=row)
    who = _requester_label(row)
    body = (
        f"Solicitud de escalamiento del caso {case.number} («{case.subject}») del nivel {row.from_level} "
        f"al nivel {row.to_level}, pedida por {who} ({row.get_via_display()}).\n"
        f"Motivos: {'; '.join(selectors.GROUNDS_ES[g] for g in row.grounds)}.\n"
        + (f"Razón: {reason}\n" if reason else "")
        + f"Verifique la evidencia y acepte o rechace: POST /api/v1/escalations/{row.pk}/decision"
    )
    _notify(
        case,
        "escalation.requested",
        f"[{case.number}] Escalamiento al nivel {row.to_level} por verificar",
        body,
        _level_recipients(row.to_level) + _level_recipients(row.from_level),
    )
    return row


# --- Deciding -----------------------------------------------------------------------------


@service
def decide_escalation(
    *, request: EscalationRequest, actor: User, decision: str, reason: str = ""
) -> EscalationRequest:
    """The responsible of the requested level (or an admin) accepts — the case climbs, goes
    to that level's group or person and that level's response target starts — or rejects
    with a reason shown to the requester. Anyone else: 403."""
    if decision not in ("accept", "reject"):
        raise InvalidInput("Decisión inválida.", errors={"decision": "Use «accept» o «reject»."})
    reason = (reason or "").strip()
    if decision == "reject" and not reason:
        raise InvalidInput(
            "Indique por qué se rechaza el escalamiento.",
            errors={"reason": "La razón es obligatoria para rechazar."},
        )
    row = EscalationRequest.objects.select_for_update().select_related("case").get(pk=request.pk)
    if not selectors.can_verify(actor, row.to_level):
        raise PermissionDenied(
            f"Solo el responsable del nivel {row.to_level} (o un administrador) puede decidir este escalamiento."
        )
    if row.status != RequestStatus.PENDING:
        raise EscalationRefused(
            f"La solicitud {row.pk} ya fue decidida ({row.get_status_display().lower()}).",
            code="already_decided",
            status_now=row.status,
        )
    case = (
        Case.objects.select_for_update(of=("self",)).select_related("channel").get(pk=row.case_id)
    )
    now = clock.now()
    target = selectors.level(row.to_level)
    if decision == "accept":
        if case.status in statuses.FINISHED:
            raise EscalationRefused(
                f"El caso {case.number} ya no está activo; rechace la solicitud indicando el motivo.",
                code="closed",
            )
        case = case_services.change_level(
            case=case,
            actor=actor,
            level=row.to_level,
            group=target.group if target else None,
            assignee=_assignee_for(row.to_level, actor),
            reason=reason or f"escalamiento {row.pk} aceptado",
        )
        row.status = RequestStatus.ACCEPTED
    else:
        row.status = RequestStatus.REJECTED
    row.decided_by, row.decided_at, row.decision_reason = actor, now, reason
    row.next_reminder_at = None
    row.save(
        update_fields=["status", "decided_by", "decided_at", "decision_reason", "next_reminder_at"]
    )
    audit.record(
        actor=actor,
        action=f"escalation.{row.status}",
        obj=row,
        case=case,
        at=now,
        changes={
            "id": row.pk,
            "from_level": row.from_level,
            "to_level": row.to_level,
            "status": [RequestStatus.PENDING, row.status],
            "reason": reason,
        },
    )

    label = _level_label(target)
    if row.status == RequestStatus.ACCEPTED:
        customer = (
            f"El caso {case.number} fue escalado al nivel {row.to_level}{label}, que desde ahora "
            "atiende su solicitud." + (f" Observación: {reason}" if reason else "")
        )
        subject = f"[{case.number}] Escalamiento al nivel {row.to_level} aceptado"
        staff = (
            f"{actor.name} aceptó escalar el caso {case.number} («{case.subject}») del nivel "
            f"{row.from_level} al nivel {row.to_level}."
            + (f"\nObservación: {reason}" if reason else "")
        )
    else:
        customer = (
            f"La solicitud de escalar el caso {case.number} al nivel {row.to_level} no fue aceptada: "
            f"{reason} El caso continúa en el nivel {row.from_level}."
        )
        subject = f"[{case.number}] Escalamiento al nivel {row.to_level} rechazado"
        staff = (
            f"{actor.name} rechazó escalar el caso {case.number} («{case.subject}») al nivel "
            f"{row.to_level}; sigue en el nivel {row.from_level}.\nRazón: {reason}"
        )
    _tell_customer(case, customer)
    recipients = _level_recipients(row.from_level) + _level_recipients(row.to_level)
    if row.requested_by_id and row.requested_by.is_agent and row.requested_by.email:
        recipients.append(
            {"kind": "email", "address": row.requested_by.email, "name": row.requested_by.name}
        )
    _notify(case, f"escalation.{row.status}", subject, staff, recipients)
    return row


def _assignee_for(number: int, actor: User) -> User | None:
    """The deciding responsible if they answer for the level by mapping; else the level's
    only mapped person; else nobody (the level's group queue)."""
    if number in selectors.levels_of(actor):
        return actor
    mapped = [u for u in selectors.responsibles(number) if u.level == number]
    return mapped[0] if len(mapped) == 1 else None


# --- Automatic escalation and reminders ------------------------------------------------


def escalate_on_breach(*, case: Case, timer: SlaTimer, **_: Any) -> EscalationRequest | None:
    """A target of the case's current level was breached (the event `sla.breached`, through
    escalations/receivers.py): if that level is configured to escalate on breach, request
    the next level (inside the SLA sweep's transaction). A refusal (top level, a request
    already pending, closed) is not an error here."""
    lv = EscalationLevel.objects.filter(number=case.level).only("auto_escalate_on_breach").first()
    if lv is None or not lv.auto_escalate_on_breach:
        return None
    try:
        with transaction.atomic():
            return request_escalation(
                case=case,
                actor=None,
                via=Via.AUTO,
                reason=f"Escalamiento automático: se venció el objetivo de "
                f"{selectors.KIND_ES.get(timer.kind, timer.kind)} en el nivel {case.level}.",
            )
    except EscalationRefused:
        return None


def reminder_seconds() -> int:
    minutes = site.get("escalations.reminder_after_minutes")
    return max(60, int(float(minutes or 0) * 60))


def _next_reminder(case: Case, after: dt.datetime) -> dt.datetime:
    """`escalations.reminder_after_minutes` of business time on the case's SLA schedule."""
    slug = (
        SlaTimer.objects.filter(case=case).values_list("schedule", flat=True).first()
        or FALLBACK_SCHEDULE
    )
    try:
        cal = calendar(slug)
    except DomainError:
        return after + dt.timedelta(seconds=reminder_seconds())
    return cal.add(after, reminder_seconds()).astimezone(dt.UTC)


def send_reminders(*, now: dt.datetime | None = None, limit: int = 200) -> int:
    """Remind the responsibles of requests still undecided after the configured business
    time; then again after the same time. Each reminder is claimed with a conditional
    UPDATE, so two workers never send the same one."""
    now = now or clock.now()
    sent = 0
    # A case closed or cancelled meanwhile needs no verification any more: stop reminding
    # (the request stays in the queue until its verifier rejects it).
    EscalationRequest.objects.filter(
        status=RequestStatus.PENDING,
        next_reminder_at__lte=now,
        case__status__in=statuses.FINISHED,
    ).update(next_reminder_at=None)
    due = (
        EscalationRequest.objects.filter(status=RequestStatus.PENDING, next_reminder_at__lte=now)
        .select_related("case")
        .order_by("next_reminder_at")[:limit]
    )
    for row in due:
        with transaction.atomic():
            nxt = _next_reminder(row.case, now)
            claimed = EscalationRequest.objects.filter(
                pk=row.pk, status=RequestStatus.PENDING, next_reminder_at=row.next_reminder_at
            ).update(
                next_reminder_at=nxt, last_reminded_at=now, reminders_sent=row.reminders_sent + 1
            )
            if not claimed:
                continue
            case = row.case
            audit.record(
                actor=None,
                action="escalation.reminded",
                obj=row,
                case=case,
                at=now,
                changes={
                    "id": row.pk,
                    "to_level": row.to_level,
                    "reminders_sent": [row.reminders_sent, row.reminders_sent + 1],
                },
            )
            waiting = selectors.time_since_es(row.created_at, now)
            _notify(
                case,
                "escalation.reminder",
                f"[{case.number}] Recordatorio: escalamiento al nivel {row.to_level} por verificar",
                f"La solicitud {row.pk} de escalar el caso {case.number} («{case.subject}») al nivel "
                f"{row.to_level} espera su verificación desde hace {waiting}.\n"
                f"Acepte o rechace: POST /api/v1/escalations/{row.pk}/decision",
                _level_recipients(row.to_level),
            )
            sent += 1
    return sent


# --- Telling people -----------------------------------------------------------------------


def _level_label(target: EscalationLevel | None) -> str:
    if target is None:
        return ""
    who = f", responsable: {target.responsible_name}" if target.responsible_name else ""
    return f" ({target.title}{who})"


def _requester_label(row: EscalationRequest) -> str:
    if row.requested_by_id:
        return row.requested_by.name
    if row.requested_by_contact_id:
        return str(row.requested_by_contact)
    return "el sistema"


def _tell_customer(case: Case, text: str) -> None:
    """An automatic public note: the customer sees it on the portal, and on an email or
    WhatsApp case `add_note` queues its delivery through that channel."""
    case_services.add_note(case=case, body_text=text, automatic=True)


def _level_recipients(number: int) -> list[dict[str, str]]:
    """Email for every responsible of the level (mapped users, the group's mailbox and, for
    a level with a named responsible, its configured addresses); WhatsApp for a configured
    WhatsApp number of a named responsible. A level without a named responsible (level 1,
    the support group) publishes the desk's own channels, which are not people to notify."""
    out: list[dict[str, str]] = []
    for user in selectors.responsibles(number):
        if user.email:
            out.append({"kind": "email", "address": user.email, "name": user.name})
    lv = selectors.level(number)
    if lv is not None:
        if lv.group_id and lv.group.email:
            out.append({"kind": "email", "address": lv.group.email, "name": lv.group.name})
        if lv.responsible_name:
            for c in lv.contacts or []:
                if c.get("kind") in ("email", "whatsapp") and c.get("value"):
                    out.append(
                        {
                            "kind": c["kind"],
                            "address": notification_address(c["value"]),
                            "name": lv.responsible_name,
                        }
                    )
    return out


def _notify(
    case: Case, event: str, subject: str, body: str, recipients: list[dict[str, str]]
) -> None:
    # Phone numbers are put in E.164, and duplicates dropped, where every notification is
    # made (channels.services.queue_notifications, through the "notify" job).
    if recipients:
        queue.enqueue(
            "notify",
            {
                "case_id": case.pk,
                "event": event,
                "subject": subject,
                "body": body,
                "recipients": recipients,
            },
        )
