"""The domain's events, turned into agents' notifications (inside the publishing service's
transaction: a notification exists exactly when the change it tells about does).

Subscribed when Django starts (apps.py); each receiver imports the services it calls when
its event arrives, so that every process does not import them, and the escalation
selectors with the SLA calendar, at start (issue 17, process start)."""

from __future__ import annotations

from typing import Any

from atiende.cases.models import Direction, Visibility
from atiende.core import events
from atiende.notifications.models import Kind

KIND_ES = {"first_response": "primera respuesta", "resolution": "resolución"}


def _label(case) -> str:
    return f"{case.number} «{case.subject[:80]}»"


@events.subscribe("case.assigned")
def on_assigned(*, case, assignee, actor=None, **_: Any) -> None:
    from atiende.notifications import services

    if actor is not None and getattr(actor, "pk", None) == assignee.pk:
        return  # "assign to me" needs no bell
    name = actor.name if actor is not None else ""
    who = f" por {name}" if name else ""
    services.notify(
        user=assignee,
        kind=Kind.ASSIGNED,
        case=case,
        text=f"Se le asignó el caso {_label(case)}{who}.",
    )


@events.subscribe("note.added")
def on_note(*, case, note, actor=None, **_: Any) -> None:
    from atiende.notifications import mentions, services

    if note.direction == Direction.INBOUND and note.author_contact_id and case.assignee_id:
        services.notify(
            user=case.assignee,
            kind=Kind.CUSTOMER_ANSWERED,
            case=case,
            text=f"El cliente escribió en el caso {_label(case)}"
            + (" (remitente por confirmar)." if note.unverified else "."),
        )
    elif (
        note.visibility == Visibility.INTERNAL
        and note.direction == Direction.INTERNAL
        and actor is not None
        and getattr(actor, "is_agent", False)
    ):
        for user in mentions.mentioned_users(note.body_text):
            if user.pk != actor.pk:
                services.notify(
                    user=user,
                    kind=Kind.MENTIONED,
                    case=case,
                    text=f"{actor.name} lo mencionó en una nota interna del caso {_label(case)}.",
                )


@events.subscribe("escalation.requested")
def on_escalation(*, case, request, **_: Any) -> None:
    from atiende.escalations import selectors as escalation_selectors
    from atiende.notifications import services

    for user in escalation_selectors.responsibles(request.to_level):
        services.notify(
            user=user,
            kind=Kind.ESCALATION,
            case=case,
            text=f"El caso {_label(case)} espera su verificación para escalar al nivel "
            f"{request.to_level}.",
        )


@events.subscribe("sla.at_risk")
def on_at_risk(*, case, timer, **_: Any) -> None:
    from atiende.notifications import services

    if case.assignee_id:
        services.notify(
            user=case.assignee,
            kind=Kind.AT_RISK,
            case=case,
            text=f"El caso {_label(case)} está en riesgo de vencer su objetivo de "
            f"{KIND_ES.get(timer.kind, timer.kind)}.",
        )


@events.subscribe("sla.breached")
def on_breached(*, case, timer, **_: Any) -> None:
    from atiende.notifications import services

    if case.assignee_id:
        services.notify(
            user=case.assignee,
            kind=Kind.BREACHED,
            case=case,
            text=f"El caso {_label(case)} venció su objetivo de "
            f"{KIND_ES.get(timer.kind, timer.kind)}.",
        )
