"""Major incidents: many cases linked to one parent case, answered all at once.

During an outage every affected customer writes; the agents link their cases to one
parent (`Case.parent_incident`) and answer them together with `reply_to_incident`: one
public note per linked case, each through `services.add_note` — the same reply the API
makes — so each goes out on its own case's channel, with that case's number and contact
name filled in.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import QuerySet

from atiende.accounts.models import User
from atiende.cases import services, statuses, versions
from atiende.cases.models import Case
from atiende.core import audit, clock
from atiende.core.errors import DomainError, InvalidInput, PermissionDenied
from atiende.core.transactions import service

# The placeholders an incident answer may use, filled per case.
PLACEHOLDERS = {
    "{caso}": "el número del caso",
    "{contacto}": "el nombre del contacto",
    "{asunto}": "el asunto del caso",
}


def fill(text: str, case: Case) -> str:
    contact = case.requester.name if case.requester_id and case.requester else ""
    values = {"{caso}": case.number, "{contacto}": contact or "cliente", "{asunto}": case.subject}
    for key, value in values.items():
        text = text.replace(key, value)
    return text


def _staff(actor: User | None) -> None:
    if actor is None or not actor.is_agent:
        raise PermissionDenied("Solo el personal de la mesa de ayuda maneja incidentes mayores.")


def incident_cases(parent: Case) -> QuerySet[Case]:
    """The cases linked to `parent`, oldest first (a selector kept beside its service)."""
    return (
        Case.objects.filter(parent_incident=parent)
        .select_related("requester", "channel", "assignee")
        .order_by("created_at", "id")
    )


@service
def link_to_incident(
    *, case: Case, parent: Case, actor: User, expected_version: str | None = None
) -> Case:
    """Link `case` to the major incident `parent`. A parent is not itself a child (one level),
    and a linked case cannot be a parent."""
    _staff(actor)
    case = Case.objects.select_for_update().get(pk=case.pk)
    versions.check(case, expected_version)
    parent = Case.objects.get(pk=parent.pk)
    errors: dict[str, str] = {}
    if case.pk == parent.pk:
        errors["parent"] = "Un caso no puede ser su propio incidente mayor."
    elif parent.parent_incident_id is not None:
        errors["parent"] = (
            f"El caso {parent.number} ya está vinculado a otro incidente mayor; indique ese."
        )
    elif Case.objects.filter(parent_incident=case).exists():
        errors["case"] = f"El caso {case.number} es un incidente mayor con casos vinculados."
    elif parent.merged_into_id is not None or parent.status in statuses.FINISHED:
        errors["parent"] = f"El caso {parent.number} ya no está activo."
    if errors:
        raise InvalidInput("No se pudo vincular al incidente.", errors=errors)
    if case.parent_incident_id == parent.pk:
        return case
    before = (
        Case.objects.values_list("number", flat=True).get(pk=case.parent_incident_id)
        if case.parent_incident_id
        else None
    )
    case.parent_incident, case.updated_at = parent, clock.now()
    case.save(update_fields=["parent_incident", "updated_at"])
    audit.record(
        actor=actor,
        action="case.incident_linked",
        obj=case,
        case=case,
        changes={"parent_incident": [before, parent.number]},
    )
    return case


@service
def unlink_from_incident(*, case: Case, actor: User, expected_version: str | None = None) -> Case:
    _staff(actor)
    case = Case.objects.select_for_update().get(pk=case.pk)
    versions.check(case, expected_version)
    if case.parent_incident_id is None:
        return case
    before = Case.objects.values_list("number", flat=True).get(pk=case.parent_incident_id)
    case.parent_incident, case.updated_at = None, clock.now()
    case.save(update_fields=["parent_incident", "updated_at"])
    audit.record(
        actor=actor,
        action="case.incident_unlinked",
        obj=case,
        case=case,
        changes={"parent_incident": [before, None]},
    )
    return case


@dataclass
class IncidentReply:
    answered: list[str]  # case numbers answered
    skipped: dict[str, str]  # case number -> why not (finished, merged)


def reply_to_incident(*, parent: Case, body: str, actor: User) -> IncidentReply:
    """Answer every active case linked to `parent` (and `parent` itself when it has a
    customer) with `body`, placeholders filled per case. Each case is its own transaction:
    one refused case (closed meanwhile) does not hold back the others' answers."""
    _staff(actor)
    if not (body or "").strip():
        raise InvalidInput(
            "No se pudo responder.", errors={"body": "La respuesta no puede estar vacía."}
        )
    targets = list(incident_cases(parent))
    if parent.requester_id is not None:
        targets.insert(0, parent)
    result = IncidentReply(answered=[], skipped={})
    for case in targets:
        if case.status in statuses.FINISHED:
            result.skipped[case.number] = statuses.label(case.status)
            continue
        try:
            services.add_note(case=case, body_text=fill(body, case), actor=actor)
        except DomainError as exc:
            result.skipped[case.number] = exc.message
            continue
        result.answered.append(case.number)
    return result
