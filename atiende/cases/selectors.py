"""Reads of cases, scoped to what the user may see. Every interface goes through here.

Tenant scoping lives in `visible_cases`: staff see every case; a customer sees their
organization's cases (or only their own, with no organization). Anything else is NotFound,
never "forbidden", so case numbers of other organizations reveal nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Q, QuerySet

from atiende.accounts.models import User
from atiende.cases import numbers
from atiende.cases.models import Attachment, Case, Note, Visibility
from atiende.core.errors import NotFound
from atiende.core.models import AuditEntry
from atiende.customers.models import Contact


def visible_cases(user: User) -> QuerySet[Case]:
    qs = Case.objects.all()
    if user.is_agent:
        return qs
    contact = user.contact
    if contact is None:
        return qs.none()
    if contact.organization_id is not None:  # the rule of `contact_may_see`, as a query
        return qs.filter(organization_id=contact.organization_id)
    return qs.filter(requester=contact)


def contact_may_see(contact: Contact, case: Case) -> bool:
    """The tenant rule for one contact and one case, wherever a contact asks about a case
    (the portal through `visible_cases`, a channel's message about a case number): a contact
    of an organization sees that organization's cases; one without an organization sees the
    cases they requested."""
    if contact.organization_id is not None:
        return case.organization_id == contact.organization_id
    return case.requester_id == contact.pk


def case_for(user: User, number: str) -> Case:
    case = (
        visible_cases(user)
        .select_related("channel", "organization", "requester", "assignee", "group")
        .filter(number=numbers.normalise(number))
        .first()
    )
    if case is None:
        raise NotFound(f"No existe el caso {number}.")
    return case


SORTS = {
    "created_at": ("created_at", "id"),
    "-created_at": ("-created_at", "-id"),
    "updated_at": ("updated_at", "id"),
    "-updated_at": ("-updated_at", "-id"),
    "number": ("id",),
    "-number": ("-id",),
}


@dataclass
class CaseFilters:
    status: list[str] | None = None
    type: str | None = None
    priority: str | None = None
    level: int | None = None
    organization: str | None = None
    channel: str | None = None
    assignee: str | None = None  # user id, an email, "me" or "none"
    group: str | None = None
    q: str | None = None


def case_list(user: User, filters: CaseFilters, *, sort: str = "-created_at") -> QuerySet[Case]:
    qs = visible_cases(user)
    f = filters
    if f.status:
        qs = qs.filter(status__in=f.status) if len(f.status) > 1 else qs.filter(status=f.status[0])
    if f.type:
        qs = qs.filter(type=f.type)
    if f.priority:
        qs = qs.filter(priority=f.priority)
    if f.level:
        qs = qs.filter(level=f.level)
    if f.organization:
        qs = qs.filter(organization__slug=f.organization)
    if f.channel:
        qs = qs.filter(channel__slug=f.channel)
    if f.group:
        qs = qs.filter(group__slug=f.group)
    if f.assignee:
        if f.assignee == "me":
            qs = qs.filter(assignee=user)
        elif f.assignee == "none":
            qs = qs.filter(assignee__isnull=True)
        elif f.assignee.isdigit():
            qs = qs.filter(assignee_id=int(f.assignee))
        else:
            qs = qs.filter(assignee__email__iexact=f.assignee)
    if f.q:
        text = f.q.strip()
        cond = Q(subject__icontains=text)
        if numbers.looks_like(text):
            cond |= Q(number=numbers.normalise(text))
        qs = qs.filter(cond)
    return qs.order_by(*SORTS.get(sort, SORTS["-created_at"]))


def visible_notes(user: User, case: Case) -> QuerySet[Note]:
    qs = case.notes.select_related("author_user", "author_contact", "channel").order_by(
        "created_at", "id"
    )
    if not user.is_agent:
        qs = qs.filter(visibility=Visibility.PUBLIC)
    return qs


def known_on_case(contact: Contact, case: Case) -> bool:
    """Whether a message from `contact`, whose address nothing has authenticated (email's
    `From:` can be anything), may speak on `case` as the customer: become a public note,
    move the case. Known on the case are
    - the case's requester;
    - whoever already has a confirmed note on it (people in the conversation: a colleague
      the requester brought in and an agent confirmed, a portal user who commented);
    - a contact of the case's organization with a portal account: an address the provider
      registered for a person, not one that appeared in a mail header.
    Anyone else — above all a new address at the organization's email domain, which intake
    files under the organization — is not: their message waits, internal and unverified,
    for an agent (`services.confirm_note`)."""
    if contact.pk == case.requester_id:
        return True
    if Note.objects.filter(case=case, author_contact=contact, unverified=False).exists():
        return True
    return (
        case.organization_id is not None
        and contact.organization_id == case.organization_id
        and User.objects.filter(contact=contact, is_active=True).exists()
    )


def visible_attachments(user: User, case: Case) -> QuerySet[Attachment]:
    qs = case.attachments.order_by("created_at", "id")
    if not user.is_agent:
        qs = qs.filter(public=True).filter(
            Q(note__isnull=True) | Q(note__visibility=Visibility.PUBLIC)
        )
    return qs


def attachment_for(user: User, number: str, attachment_id: int) -> Attachment:
    case = case_for(user, number)
    row = visible_attachments(user, case).filter(pk=attachment_id).first()
    if row is None:
        raise NotFound("No existe ese adjunto.")
    return row


# Timeline events a customer may see; the rest (assignments, internal notes) are staff-only.
CUSTOMER_EVENTS = frozenset(
    {
        "case.created",
        "case.status_changed",
        "case.reopened",
        "escalation.requested",
        "escalation.accepted",
        "escalation.rejected",
        "attachment.added",
    }
)


def case_timeline(user: User, case: Case) -> list[dict[str, Any]]:
    """Notes, status changes, assignments, escalations and SLA events, in order."""
    items: list[tuple[Any, int, dict[str, Any]]] = []
    for note in visible_notes(user, case):
        items.append(
            (
                note.created_at,
                0,
                {
                    "at": note.created_at,
                    "kind": "note",
                    "id": note.pk,
                    "visibility": note.visibility,
                    "direction": note.direction,
                    "channel": note.channel.slug if note.channel else None,
                    "author": _author(note),
                    "body": note.body_text,
                    "delivery_status": note.delivery_status,
                },
            )
        )
    entries = AuditEntry.objects.filter(case=case).exclude(
        action__in=["note.added", "note.delivery"]
    )
    if not user.is_agent:
        entries = entries.filter(action__in=CUSTOMER_EVENTS)
        # Uploads the customer may not see stay out of their timeline too.
        hidden = case.attachments.exclude(pk__in=visible_attachments(user, case).values("pk"))
        hidden_ids = [str(pk) for pk in hidden.values_list("pk", flat=True)]
        entries = entries.exclude(action="attachment.added", object_id__in=hidden_ids)
    for entry in entries.order_by("at", "id"):
        items.append(
            (
                entry.at,
                1,
                {
                    "at": entry.at,
                    "kind": entry.action,
                    "id": entry.pk,
                    "actor": entry.actor_label
                    if user.is_agent or entry.actor_id is None
                    else _public_actor(entry),
                    "changes": entry.changes,
                },
            )
        )
    items.sort(key=lambda item: (item[0], item[1], item[2]["id"]))
    return [item[2] for item in items]


def _author(note: Note) -> str:
    if note.author_user_id:
        return note.author_user.name
    if note.author_contact_id:
        return str(note.author_contact)
    return "sistema"


def _public_actor(entry: AuditEntry) -> str:
    return entry.actor.name if entry.actor else entry.actor_label
