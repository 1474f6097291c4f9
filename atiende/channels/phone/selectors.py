"""Reads of the phone channel: the block list, agents and callers by number, the call log
as a user may see it, and the screen pop an answering agent gets."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.db.models import Q, QuerySet

from atiende.channels.phone.models import AgentPhone, BlockedNumber, Call
from atiende.core.errors import NotFound
from atiende.customers.models import Contact, ContactPhone
from atiende.customers.phones import normalize

if TYPE_CHECKING:
    from atiende.accounts.models import User
    from atiende.customers.phones import Number
    from atiende.directory.models import Channel

FINISHED = ("resolved", "closed", "cancelled")


def is_blocked(line: Channel, caller: Number) -> bool:
    keys = [caller.e164] if caller.e164 else []
    if caller.anonymous:
        keys.append("anonymous")
    if not keys:
        return False
    return (
        BlockedNumber.objects.filter(number__in=keys)
        .filter(Q(channel__isnull=True) | Q(channel=line))
        .exists()
    )


def contacts_with_number(e164: str) -> list[Contact]:
    if not e164:
        return []
    rows = ContactPhone.objects.select_related("contact__organization").filter(number=e164)
    return [row.contact for row in rows.order_by("contact_id")]


def agent_by_number(number: str, *, zone: str = "1") -> User | None:
    """The agent whose extension is `number`, else whose phone is `number` (E.164)."""
    number = (number or "").strip()
    if not number:
        return None
    profile = (
        AgentPhone.objects.select_related("user")
        .filter(extension=number, user__is_active=True)
        .first()
    )
    if profile is None:
        e164 = normalize(number, zone=zone).e164
        if e164:
            profile = (
                AgentPhone.objects.select_related("user")
                .filter(phone=e164, user__is_active=True)
                .first()
            )
    return profile.user if profile is not None and profile.user.is_agent else None


def agents_by_names(names: list[str]) -> list[User]:
    """Agents whose name (or e-mail) is one of `names`, case-insensitively; a name two
    agents share resolves to neither."""
    from atiende.accounts.models import STAFF_ROLES, User

    found = []
    for name in names:
        rows = list(
            User.objects.filter(is_active=True, role__in=STAFF_ROLES).filter(
                Q(name__iexact=name) | Q(email__iexact=name)
            )[:2]
        )
        if len(rows) == 1 and rows[0] not in found:
            found.append(rows[0])
    return found


def visible_calls(user: User) -> QuerySet[Call]:
    """Staff see every call; a customer only the calls recognised as their organization's
    (or their own, without one). Anything else is "not found"."""
    qs = Call.objects.select_related("channel", "agent", "contact", "organization", "case")
    if user.is_agent:
        return qs
    contact = user.contact
    if contact is None:
        return qs.none()
    if contact.organization_id is None:
        return qs.filter(contact=contact)
    return qs.filter(organization_id=contact.organization_id)


@dataclass
class CallFilters:
    line: str | None = None
    direction: str | None = None
    state: str | None = None
    missed: bool | None = None
    contact: int | None = None
    organization: str | None = None
    since: dt.datetime | None = None


def call_list(user: User, filters: CallFilters) -> QuerySet[Call]:
    qs = visible_calls(user)
    if filters.line:
        qs = qs.filter(channel__slug=filters.line)
    if filters.direction:
        qs = qs.filter(direction=filters.direction)
    if filters.state:
        qs = qs.filter(state=filters.state)
    if filters.missed is not None:
        qs = qs.filter(missed=filters.missed)
    if filters.contact:
        qs = qs.filter(Q(contact_id=filters.contact) | Q(contacts__id=filters.contact)).distinct()
    if filters.organization:
        qs = qs.filter(organization__slug=filters.organization)
    if filters.since:
        qs = qs.filter(started_at__gte=filters.since)
    return qs.prefetch_related("contacts__organization").order_by("-started_at", "-id")


def call_for(user: User, call_id: int) -> Call:
    call = visible_calls(user).prefetch_related("contacts__organization").filter(pk=call_id).first()
    if call is None:
        raise NotFound("No existe esa llamada.")
    return call


def screen_pop(call: Call) -> dict[str, Any]:
    """What the agent who answers sees at once: the caller, their organization, and their
    open cases with SLA clocks and escalation level (newest first)."""
    from atiende.cases.models import Case

    contacts = list(call.contacts.select_related("organization"))
    cases = Case.objects.exclude(status__in=FINISHED).prefetch_related("sla_timers")
    wanted = Q(requester__in=contacts) if contacts else Q(pk__in=[])
    if call.organization_id:
        wanted |= Q(organization_id=call.organization_id)
    open_cases = [
        {
            "number": case.number,
            "subject": case.subject,
            "status": case.status,
            "type": case.type,
            "priority": case.priority,
            "level": case.level,
            "sla": [
                {
                    "kind": t.kind,
                    "due_at": t.due_at,
                    "breached": t.breached_at is not None,
                    "met": t.met_at is not None,
                    "paused": t.paused,
                }
                for t in case.sla_timers.all()
            ],
        }
        for case in cases.filter(wanted).order_by("-created_at")[:20]
    ]
    org = call.organization
    return {
        "call": call.pk,
        "line": call.channel.slug,
        "direction": call.direction,
        "number": call.caller_e164 or None,
        "raw": call.from_raw if call.direction == "in" else call.to_raw,
        "anonymous": call.anonymous,
        "contacts": [
            {
                "id": c.pk,
                "name": c.name,
                "organization": c.organization.slug if c.organization_id else None,
            }
            for c in contacts
        ],
        "ambiguous": call.ambiguous,
        "organization": {"slug": org.slug, "name": org.name} if org else None,
        "open_cases": open_cases,
        "case": call.case.number if call.case_id else None,
    }
