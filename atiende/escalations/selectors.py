"""Reads of the escalation ladder: who verifies a level, whether a case may climb now (and
why not), the verifier's queue, and the evidence pack they decide on.

Scoping goes through `cases.selectors.visible_cases`: a request on another organization's
case is "not found", like the case itself.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Q, QuerySet

from atiende.accounts.models import Role, User
from atiende.cases import statuses
from atiende.cases.models import Case, Direction, Note, Visibility
from atiende.cases.selectors import visible_cases
from atiende.cases.statuses import Status
from atiende.core import clock
from atiende.core.errors import NotFound
from atiende.core.models import AuditEntry
from atiende.escalations.models import EscalationLevel, EscalationRequest, RequestStatus
from atiende.sla.models import SlaTimer
from atiende.sla.schedules import calendar
from atiende.sla.selectors import case_sla
from atiende.sla.texts import when_es

KIND_ES = {"first_response": "primera respuesta", "resolution": "resolución"}


# --- Who is responsible for a level ---------------------------------------------------


def level(number: int) -> EscalationLevel | None:
    return EscalationLevel.objects.select_related("group").filter(number=number).first()


def top_level() -> int:
    """The highest configured level: the ladder decides (the reference has four, another
    provider may configure five). Without a ladder a case stays at level 1."""
    numbers = list(EscalationLevel.objects.values_list("number", flat=True))
    return max(numbers) if numbers else 1


def levels_of(user: User) -> set[int]:
    """The levels a staff user answers for: their own `level`, and the levels whose
    support group they belong to."""
    if not user.is_agent:
        return set()
    out = {user.level} if user.level else set()
    groups = list(user.support_groups.values_list("pk", flat=True))
    if groups:
        out |= set(
            EscalationLevel.objects.filter(group__in=groups).values_list("number", flat=True)
        )
    return out


def can_verify(user: User, number: int) -> bool:
    """The responsible of level `number` (mapped user or group member), or an admin."""
    if not user.is_active or not user.is_agent:
        return False
    return user.role == Role.ADMIN or number in levels_of(user)


def responsibles(number: int) -> list[User]:
    """Active staff users who answer for a level (mapped users first, then group members)."""
    lv = level(number)
    cond = Q(level=number)
    if lv is not None and lv.group_id:
        cond |= Q(support_groups=lv.group_id)
    users = User.objects.filter(
        cond, is_active=True, role__in=[Role.AGENT, Role.SUPERVISOR, Role.ADMIN]
    )
    return list(users.distinct().order_by("-level", "name", "id"))


# --- Eligibility ------------------------------------------------------------------------


@dataclass
class Eligibility:
    """Whether a case may climb from `from_level` to `to_level` now, on which grounds, and
    if not, why (`code`, `detail` in Spanish) and from when (`eligible_from`)."""

    eligible: bool
    from_level: int
    to_level: int | None
    code: str | None = None
    detail: str = ""
    grounds: list[str] = field(default_factory=list)
    eligible_from: dt.datetime | None = None
    pending_id: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "eligible": self.eligible,
            "from_level": self.from_level,
            "to_level": self.to_level,
            "code": self.code,
            "detail": self.detail,
            "grounds": self.grounds,
            "eligible_from": self.eligible_from,
            "pending_id": self.pending_id,
        }


GROUNDS_ES = {
    "breach": "se venció un objetivo de ANS en el nivel actual",
    "reopened": "el cliente rechazó la solución (reabrió el caso)",
    "agent": "lo solicita un agente del nivel actual",
}


def level_breaches(
    case: Case, number: int, *, now: dt.datetime | None = None
) -> list[dict[str, Any]]:
    """SLA breaches at a level: the recorded ones, plus (at the case's current level) a
    live clock already past due that the sweep has not reached yet."""
    out = [
        {"timer": e.changes.get("timer"), "due_at": e.changes.get("due_at"), "recorded": True}
        for e in AuditEntry.objects.filter(case=case, action="sla.breached").order_by("at", "id")
        if e.changes.get("level") == number
    ]
    if number == case.level:
        now = now or clock.now()
        for t in _live_timers(case):
            if t.due_at <= now:
                out.append({"timer": t.kind, "due_at": t.due_at.isoformat(), "recorded": False})
    return out


def _live_timers(case: Case) -> list[SlaTimer]:
    """Timers still running (not met, breached or paused) — the ones that can breach."""
    return [
        t
        for t in SlaTimer.objects.filter(case=case, met_at__isnull=True, breached_at__isnull=True)
        if not t.paused and t.next_check_at is not None
    ]


def level_since(case: Case, number: int) -> dt.datetime:
    """When the case arrived at a level (creation for level 1)."""
    entries = AuditEntry.objects.filter(case=case, action="case.level_changed").order_by("at", "id")
    for e in entries:
        if (e.changes.get("level") or [None, None])[1] == number:
            return e.at
    return case.created_at


def reopened_at_level(case: Case, number: int) -> list[dt.datetime]:
    since = level_since(case, number)
    return list(
        AuditEntry.objects.filter(case=case, action="case.reopened", at__gte=since)
        .order_by("at")
        .values_list("at", flat=True)
    )


def eligibility(
    case: Case, *, actor: User | None, to_level: int | None = None, now: dt.datetime | None = None
) -> Eligibility:
    """The one place the ladder's rules live (issue 4):

    - the case is not closed or cancelled (`closed`), and not at the top (`top_level`);
    - no request is pending (`already_pending`, with its id);
    - it climbs to the next level only (`skip_level`: "el caso debe surtir primero el nivel 2");
    - the current level has not given attention or a solution: one of its SLA targets is
      breached, or the customer rejected the solution (reopened after resolution), or a
      staff user of that level asks (`not_eligible` otherwise, with the instant the next
      target will be breached, if a clock is running).
    """
    now = now or clock.now()
    current = case.level
    nxt = current + 1
    to_level = to_level if to_level is not None else nxt
    result = Eligibility(eligible=False, from_level=current, to_level=to_level)

    def refuse(code: str, detail: str) -> Eligibility:
        result.code, result.detail = code, detail
        return result

    if case.status in statuses.FINISHED:
        return refuse(
            "closed",
            f"El caso {case.number} está {statuses.label(case.status).lower()}; "
            "no puede escalarse. Si el problema persiste, cree un caso nuevo.",
        )
    top = top_level()
    if current >= top:
        return refuse(
            "top_level",
            f"El caso ya está en el nivel {current}, el último nivel de escalamiento; "
            "no hay un nivel superior al cual escalarlo.",
        )
    pending = EscalationRequest.objects.filter(case=case, status=RequestStatus.PENDING).first()
    if pending is not None:
        result.pending_id = pending.pk
        return refuse(
            "already_pending",
            f"Ya hay una solicitud de escalamiento al nivel {pending.to_level} "
            "pendiente de verificación para este caso.",
        )
    if to_level > nxt:
        return refuse(
            "skip_level",
            f"No se puede saltar niveles: el caso está en el nivel {current} y "
            f"debe surtir primero el nivel {nxt}.",
        )
    if to_level <= current:
        return refuse(
            "not_eligible",
            f"El caso ya está en el nivel {current}; solo puede escalarse al nivel {nxt}.",
        )

    if level_breaches(case, current, now=now):
        result.grounds.append("breach")
    if reopened_at_level(case, current):
        result.grounds.append("reopened")
    if actor is not None and actor.is_agent and current in levels_of(actor):
        result.grounds.append("agent")
    if result.grounds:
        result.eligible = True
        result.detail = (
            "Procede el escalamiento: " + "; ".join(GROUNDS_ES[g] for g in result.grounds) + "."
        )
        return result

    timers = sorted(_live_timers(case), key=lambda t: t.due_at)
    detail = (
        f"El nivel {current} aún está dentro de sus tiempos de atención y el cliente no ha rechazado "
        "una solución; el responsable de cada nivel verifica que el caso haya surtido los niveles "
        "precedentes sin recibir atención o solución."
    )
    if timers:
        first = timers[0]
        result.eligible_from = first.due_at
        detail += (
            f" Podrá solicitarse desde el {when_es(first.due_at)} (hora de Colombia) si para entonces "
            f"no se ha cumplido el objetivo de {KIND_ES.get(first.kind, first.kind)}, o antes si se "
            "rechaza la solución propuesta."
        )
    elif SlaTimer.objects.filter(case=case, met_at__isnull=True, breached_at__isnull=True).exists():
        detail += " Los tiempos están en pausa mientras el caso espera información del cliente."
    return refuse("not_eligible", detail)


# --- Queues and lists -------------------------------------------------------------------


def visible_requests(user: User) -> QuerySet[EscalationRequest]:
    return EscalationRequest.objects.filter(case__in=visible_cases(user)).select_related(
        "case", "requested_by", "requested_by_contact", "decided_by"
    )


def request_for(user: User, request_id: int) -> EscalationRequest:
    row = visible_requests(user).filter(pk=request_id).first()
    if row is None:
        raise NotFound(f"No existe la solicitud de escalamiento {request_id}.")
    return row


def case_requests(user: User, case: Case) -> QuerySet[EscalationRequest]:
    return visible_requests(user).filter(case=case).order_by("created_at", "id")


def verification_queue(
    user: User, *, status: str | None = RequestStatus.PENDING
) -> QuerySet[EscalationRequest]:
    """For staff: the requests to the levels they verify (an admin: every level). For a
    customer: the requests on the cases they can see."""
    qs = visible_requests(user)
    if user.is_agent and user.role != Role.ADMIN:
        qs = qs.filter(to_level__in=levels_of(user))
    if status:
        qs = qs.filter(status=status)
    return qs.order_by("created_at", "id")


# --- The evidence pack --------------------------------------------------------------------


def time_since_es(start: dt.datetime, now: dt.datetime) -> str:
    minutes = max(0, int((now - start).total_seconds() // 60))
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    parts = [
        f"{days} d" if days else "",
        f"{hours} h" if hours else "",
        f"{minutes} min" if minutes or not (days or hours) else "",
    ]
    return " ".join(p for p in parts if p)


def _excerpt(text: str, limit: int = 500) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def time_at_levels(case: Case, *, now: dt.datetime | None = None) -> list[dict[str, Any]]:
    """Each level the case has been at: from, until, wall-clock and business seconds."""
    now = now or clock.now()
    end_of_case = case.closed_at if case.status in statuses.FINISHED and case.closed_at else None
    spans: list[tuple[int, dt.datetime]] = [(1, case.created_at)]
    for e in AuditEntry.objects.filter(case=case, action="case.level_changed").order_by("at", "id"):
        new = (e.changes.get("level") or [None, None])[1]
        if new:
            spans.append((new, e.at))
    slug = SlaTimer.objects.filter(case=case).values_list("schedule", flat=True).first()
    cal = calendar(slug) if slug else None
    out = []
    for i, (number, start) in enumerate(spans):
        end = spans[i + 1][1] if i + 1 < len(spans) else None
        until = end or end_of_case or now
        out.append(
            {
                "level": number,
                "since": start,
                "until": end,
                "seconds": max(0, int((until - start).total_seconds())),
                "business_seconds": cal.elapsed(start, until) if cal else None,
                "schedule": slug,
            }
        )
    return out


def evidence(case: Case, *, now: dt.datetime | None = None) -> dict[str, Any]:
    """What the verifier decides on: time at each level, SLA state and breaches per level,
    the last public answer, whether a solution was proposed, and what the customer said."""
    now = now or clock.now()
    levels = time_at_levels(case, now=now)
    for span in levels:
        span["breaches"] = level_breaches(case, span["level"], now=now)
    notes = Note.objects.filter(case=case, visibility=Visibility.PUBLIC).select_related(
        "author_user", "author_contact"
    )
    answer = (
        notes.filter(direction=Direction.OUTBOUND, automatic=False, author_user__isnull=False)
        .order_by("-created_at", "-id")
        .first()
    )
    customer_notes = list(
        notes.filter(direction=Direction.INBOUND).order_by("-created_at", "-id")[:3]
    )
    resolutions = [
        e.at
        for e in AuditEntry.objects.filter(case=case, action="case.status_changed").order_by(
            "at", "id"
        )
        if (e.changes.get("status") or [None, None])[1] == Status.RESOLVED
    ]
    reopenings = list(
        AuditEntry.objects.filter(case=case, action="case.reopened")
        .order_by("at", "id")
        .values("at", "changes")
    )
    return {
        "case": case.number,
        "level": case.level,
        "status": case.status,
        "levels": levels,
        "sla": case_sla(case, now=now),
        "last_public_answer": {
            "at": answer.created_at,
            "author": answer.author_user.name,
            "excerpt": _excerpt(answer.body_text),
        }
        if answer
        else None,
        "solution_proposed": bool(resolutions),
        "resolved_at": resolutions,
        "reopened_at": [r["at"] for r in reopenings],
        "customer_said": [
            {
                "at": n.created_at,
                "author": str(n.author_contact) if n.author_contact_id else "",
                "excerpt": _excerpt(n.body_text),
            }
            for n in reversed(customer_notes)
        ]
        + (
            [
                {
                    "at": case.created_at,
                    "author": str(case.requester or ""),
                    "excerpt": _excerpt(case.description),
                }
            ]
            if case.description and not customer_notes
            else []
        ),
    }
