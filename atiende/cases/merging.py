"""Merging a duplicate case into the case that survives.

The duplicate's notes and attachments move to the survivor (its timeline reads as one
conversation), cases merged into the duplicate earlier and incident cases under it follow,
and the duplicate closes pointing at the survivor (`Case.merged_into`). From then on:

- staff answers on the duplicate are refused with a 409 naming the survivor (`refusal`);
- the customer's side — a channel message threaded to the duplicate, the portal — lands on
  the survivor (`survivor_of`, used by `services.add_note` and by channel intake).
"""

from __future__ import annotations

from atiende.accounts.models import User
from atiende.cases import statuses, versions
from atiende.cases.models import Attachment, Case, Note
from atiende.core import audit, clock
from atiende.core.errors import DomainError, InvalidInput, NotFound, PermissionDenied
from atiende.core.transactions import service
from atiende.sla import services as sla

MAX_HOPS = 20  # a chain is re-pointed at every merge, so it is one hop; this is a guard


class CaseMerged(DomainError):
    status = 409
    code = "merged"


def refusal(case: Case) -> CaseMerged:
    survivor = survivor_of(case)
    return CaseMerged(
        f"El caso {case.number} se fusionó en el caso {survivor.number} y no admite respuestas; "
        f"escriba en el caso {survivor.number}.",
        survivor=survivor.number,
    )


def survivor_of(case: Case, *, lock: bool = False) -> Case:
    """The case that answers for `case`: itself, or the end of its `merged_into` chain."""
    hops = 0
    while case.merged_into_id is not None and hops < MAX_HOPS:
        rows = Case.objects.select_for_update() if lock else Case.objects
        case = rows.get(pk=case.merged_into_id)
        hops += 1
    return case


@service
def merge_case(
    *,
    case: Case,
    into: Case,
    actor: User,
    reason: str = "",
    expected_version: str | None = None,
) -> Case:
    """Merge the duplicate `case` into `into` (the survivor). Returns the survivor.

    Both rows are locked (in id order, so two opposite merges cannot deadlock). Refused: a
    case into itself, across organizations (a customer of one would read the other's
    conversation), a duplicate already merged or finished, a survivor merged or finished."""
    if actor is None or not actor.is_agent:
        raise PermissionDenied("Solo el personal de la mesa de ayuda puede fusionar casos.")
    if case.pk == into.pk:
        raise InvalidInput(
            "No se pudo fusionar.", errors={"into": "Un caso no se puede fusionar en sí mismo."}
        )
    first, second = sorted([case.pk, into.pk])
    locked = {c.pk: c for c in Case.objects.select_for_update().filter(pk__in=[first, second])}
    if len(locked) != 2:
        raise NotFound("No existe uno de los casos.")
    case, into = locked[case.pk], locked[into.pk]
    versions.check(case, expected_version)
    errors: dict[str, str] = {}
    if case.merged_into_id is not None:
        errors["case"] = f"El caso {case.number} ya se fusionó en otro caso."
    elif case.status in statuses.FINISHED:
        errors["case"] = (
            f"El caso {case.number} está {statuses.label(case.status).lower()}; "
            "no se puede fusionar."
        )
    if into.merged_into_id is not None:
        errors["into"] = (
            f"El caso {into.number} ya se fusionó en el caso {survivor_of(into).number}; "
            "indique ese."
        )
    elif into.status in statuses.FINISHED:
        errors["into"] = (
            f"El caso {into.number} está {statuses.label(into.status).lower()}; "
            "el caso que sobrevive debe seguir activo."
        )
    elif case.organization_id != into.organization_id:
        errors["into"] = "Solo se fusionan casos de la misma organización."
    if errors:
        raise InvalidInput("No se pudo fusionar.", errors=errors)

    now = clock.now()
    notes = Note.objects.filter(case=case).update(case=into)
    attachments = Attachment.objects.filter(case=case).update(case=into)
    Case.objects.filter(merged_into=case).update(merged_into=into)
    Case.objects.filter(parent_incident=case).update(parent_incident=into)
    old = case.status
    case.status, case.closed_at, case.merged_into, case.updated_at = "closed", now, into, now
    case.save(update_fields=["status", "closed_at", "merged_into", "updated_at"])
    sla.on_status_change(case, statuses.sla_phase(old), statuses.sla_phase("closed"), actor=actor)
    into.updated_at = now
    into.save(update_fields=["updated_at"])
    changes = {"merged_into": [None, into.number], "status": [old, "closed"]}
    if reason:
        changes["reason"] = reason
    audit.record(actor=actor, action="case.merged", obj=case, case=case, at=now, changes=changes)
    audit.record(
        actor=actor,
        action="case.merged_here",
        obj=into,
        case=into,
        at=now,
        changes={"duplicate": case.number, "notes": notes, "attachments": attachments},
    )
    return into
