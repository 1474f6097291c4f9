"""Reads of the phone channel: the block list, agents and callers by number, the call log
as a user may see it, and the screen pop an answering agent gets."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.db import connections, router
from django.db.models import Model, Q, QuerySet

from atiende.cases import statuses
from atiende.channels.phone.models import AgentPhone, BlockedNumber, Call
from atiende.core import rows
from atiende.core.errors import NotFound
from atiende.core.snapshot import Snapshot
from atiende.customers.models import Contact, ContactPhone
from atiende.customers.phones import normalize

if TYPE_CHECKING:
    from atiende.accounts.models import SupportGroup, User
    from atiende.cases.models import Case
    from atiende.customers.phones import Number
    from atiende.directory.models import Channel


def is_blocked(line: Channel, caller: Number) -> bool:
    keys = [caller.e164] if caller.e164 else []
    if caller.anonymous:
        keys.append("anonymous")
    blocked = _blocked.get()
    return any((key, None) in blocked or (key, line.pk) in blocked for key in keys)


def _blocked_numbers() -> frozenset[tuple[str, int | None]]:
    return frozenset(BlockedNumber.objects.values_list("number", "channel_id"))


# The webhook asks this while the PBX waits, for every inbound call: the list (a few
# numbers typed in the admin) is held per process, as the lines are (core/snapshot.py:
# at once in the process that saved a change, within its ttl in the others).
_blocked = Snapshot(_blocked_numbers, watch=[BlockedNumber])


def _rows(model: type[Model], sql: str, params: list[Any]) -> list[tuple[Any, ...]]:
    """Rows of a statement written out (`{table}` is `model`'s table): the worker applies
    every PBX event through these look-ups, where the ORM's query building cost more than
    the database's work (bench/bench_phone_cpu.py)."""
    conn = connections[router.db_for_read(model)]
    with conn.cursor() as cursor:
        cursor.execute(sql.format(table=conn.ops.quote_name(model._meta.db_table)), params)
        return list(cursor.fetchall())


def contacts_with_number(e164: str) -> list[Contact]:
    if not e164:
        return []
    found = _rows(ContactPhone, "SELECT contact_id FROM {table} WHERE number = %s", [e164])
    if not found:  # most callers are not contacts (yet): one indexed statement
        return []
    rows = Contact.objects.select_related("organization").filter(pk__in=[r[0] for r in found])
    return list(rows.order_by("pk"))


def agent_by_number(number: str, *, zone: str = "1") -> User | None:
    """The agent whose extension is `number`, else whose phone is `number` (E.164)."""
    from atiende.accounts.models import STAFF_ROLES, User

    number = (number or "").strip()
    if not number:
        return None
    found = _rows(
        AgentPhone, "SELECT user_id FROM {table} WHERE extension = %s ORDER BY id", [number]
    )
    if not found:
        e164 = normalize(number, zone=zone).e164
        if e164:
            found = _rows(
                AgentPhone, "SELECT user_id FROM {table} WHERE phone = %s ORDER BY id", [e164]
            )
    # the first profile with that extension (or phone) whose user is active, if an agent
    for (user_id,) in found:
        user = rows.one(User, id=user_id)
        if user is not None and user.is_active:
            return user if user.role in STAFF_ROLES else None
    return None


def agents_by_names(names: list[str]) -> list[User]:
    """Agents whose name (or e-mail) is one of `names`, case-insensitively; a name two
    agents share resolves to neither."""
    from atiende.accounts.models import STAFF_ROLES, User

    if not names:
        return []
    # one statement for all the names (a group call names several), matched here per name
    marks = ", ".join(["UPPER(%s)"] * len(names))
    roles = sorted(STAFF_ROLES)
    candidates = rows.select(
        User,
        f"WHERE is_active AND role IN ({', '.join(['%s'] * len(roles))}) "
        f"AND (UPPER(name) IN ({marks}) OR UPPER(email) IN ({marks}))",
        [*roles, *names, *names],
    )
    found: list[User] = []
    for name in names:
        key = name.casefold()
        matches = [u for u in candidates if key in (u.name.casefold(), u.email.casefold())]
        if len(matches) == 1 and matches[0] not in found:
            found.append(matches[0])
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
    cases = Case.objects.exclude(status__in=statuses.DONE).prefetch_related("sla_timers")
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


# -- The console: who a call notifies, the live screen pop, the call log page -------------

# After the hangup the answering agent keeps the pop this long, to open the case from it.
POP_AFTER_HANGUP = dt.timedelta(minutes=5)
LOG_PAGE_SIZE = 25


def group_for(line: Channel, queue: str) -> SupportGroup | None:
    """The support group whose agents a call notifies: the group the PBX's queue names (by
    slug or name), else the line's `group` setting; None when neither names one (then
    every agent is notified) — an unknown slug is logged, and notifies every agent too."""
    from atiende.accounts.models import SupportGroup
    from atiende.channels.phone import conf

    slug = conf.group_slug(line)
    # A help desk has tens of groups: all of them in one statement, matched here (Unicode
    # case folding, which SQLite's UPPER does not do).
    groups = _rows(SupportGroup, "SELECT id, slug, name FROM {table} ORDER BY id", [])
    chosen = None
    if queue:
        key = queue.casefold()
        chosen = next((pk for pk, s, n in groups if key in (s.casefold(), n.casefold())), None)
    if chosen is None and slug:
        chosen = next((pk for pk, s, _ in groups if s == slug), None)
    if chosen is not None:
        return rows.one(SupportGroup, id=chosen)
    if slug:
        import logging

        logging.getLogger(__name__).warning(
            "cti %s: the line's group %r does not exist; its calls notify every agent",
            line.slug,
            slug,
        )
    return None


def _sees_everything(user: User) -> bool:
    return user.role in ("supervisor", "admin")


def _for_agent(user: User) -> Q:
    """The calls of the agent's queues: no group, a group of theirs, a call the PBX rang
    them on, or one they took. Two indexed EXISTS, no join that repeats rows."""
    from django.db.models import Exists, OuterRef

    from atiende.accounts.models import SupportGroup

    member = SupportGroup.members.through.objects.filter(
        supportgroup_id=OuterRef("group_id"), user_id=user.pk
    )
    rung = Call.agents.through.objects.filter(call_id=OuterRef("pk"), user_id=user.pk)
    return Q(group__isnull=True) | Exists(member) | Exists(rung) | Q(agent_id=user.pk)


def live_calls(user: User, *, now: dt.datetime) -> list[Call]:
    """What the console polls: the calls ringing for the agent's queues and the calls the
    agent answered (on the line, or hung up within POP_AFTER_HANGUP and not on a case yet),
    newest first. One query (by the indexes on state and on agent), whatever the rows."""
    from atiende.channels.phone.models import CallState

    # Three flat branches, so each is one index range (the planner ORs them): ringing by
    # `call_state`, mine answered and mine just ended by `call_agent_live` — never the
    # agent's whole history.
    ringing = Q(state=CallState.RINGING) & _for_agent(user)
    on_the_line = Q(agent_id=user.pk, state=CallState.ANSWERED)
    just_ended = Q(
        agent_id=user.pk,
        state=CallState.ENDED,
        ended_at__gte=now - POP_AFTER_HANGUP,
        case__isnull=True,
        answered_at__isnull=False,
    )
    rows = (
        Call.objects.filter(ringing | on_the_line | just_ended)
        .select_related("channel", "contact", "organization", "case")
        .order_by("-started_at", "-id")[:20]
    )
    return list(rows)


def live_version(calls: list[Call], *, now: dt.datetime) -> str:
    """A short fingerprint of what the live region shows: the poll answers 204 (nothing to
    swap) while it is the same. The minute is in it so SLA clocks are redrawn each minute."""
    import hashlib

    parts = [now.strftime("%Y%m%d%H%M")] + [
        f"{c.pk}:{c.state}:{c.agent_id}:{c.case_id}:{c.updated_at.timestamp()}" for c in calls
    ]
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:16]


def open_cases_for(call: Call) -> list[Case]:
    """The caller's open cases (theirs or their organization's), newest first, with SLA
    timers: three queries (contacts, cases, timers) whatever the rows."""
    from atiende.cases.models import Case

    contacts = list(call.contacts.all())
    wanted = Q(requester__in=contacts) if contacts else Q(pk__in=[])
    if call.organization_id:
        wanted |= Q(organization_id=call.organization_id)
    return list(
        Case.objects.exclude(status__in=statuses.DONE)
        .filter(wanted)
        .select_related("requester")
        .prefetch_related("sla_timers")
        .order_by("-created_at")[:10]
    )


@dataclass
class LogFilters:
    line: str = ""
    queue: str = ""
    missed: bool | None = None
    state: str = ""
    pending: bool = False  # missed calls and callbacks not marked done


def call_log(user: User, filters: LogFilters) -> QuerySet[Call]:
    """The console's call log: the calls of the agent's queues (supervisors and admins: all),
    newest first, with the recognised contacts for names."""
    qs = visible_calls(user)
    if not _sees_everything(user):
        qs = qs.filter(_for_agent(user))
    if filters.line:
        qs = qs.filter(channel__slug=filters.line)
    if filters.queue:
        qs = qs.filter(queue=filters.queue)
    if filters.missed is not None:
        qs = qs.filter(missed=filters.missed)
    if filters.state:
        qs = qs.filter(state=filters.state)
    if filters.pending:
        qs = qs.filter(Q(missed=True) | Q(callback=True), done_at__isnull=True)
    return (
        qs.select_related("done_by")
        .prefetch_related("contacts__organization")
        .order_by("-started_at", "-id")
    )


def known_queues() -> list[str]:
    """The queue names the PBX has sent (for the log's filter)."""
    return list(
        Call.objects.exclude(queue="")
        .order_by("queue")
        .values_list("queue", flat=True)
        .distinct()[:100]
    )
