"""Reads behind the console's queues page: which cases are in each queue, their counts, and
the rows of one page of a queue (with the next SLA deadline in words).

Everything starts from `cases.selectors.visible_cases(user)` (tenant scoping lives there).
A queue page runs a fixed number of statements whatever its rows: the page of cases with
its related rows joined, then the SLA clocks of those cases in one query.

Counts: the counts of the queues that are the same for every agent (at risk, breached,
critical incidents, awaiting the customer, all) are computed at most once every
`COUNT_SECONDS` per process and shared by every agent's poll; the personal ones (mine, my
group's unassigned, my verifications) are indexed counts of a few rows, computed on every
poll. So a poll every 10 s by 50 agents does not count the whole table 50 times.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.core.cache import cache
from django.db.models import Case as CaseWhen
from django.db.models import IntegerField, Min, OuterRef, Q, QuerySet, Subquery, Value, When
from django.utils.translation import gettext_lazy as _

from atiende.accounts.models import Role, SupportGroup, User
from atiende.cases.models import PRIORITY_RANK, Case
from atiende.cases.selectors import visible_cases
from atiende.core import clock
from atiende.escalations.models import EscalationRequest, RequestStatus
from atiende.escalations.selectors import levels_of
from atiende.sla.models import SlaTimer

ACTIVE = ("new", "open", "awaiting_info")
COUNT_SECONDS = 8  # shared counts are at most this old (the page polls every 10 s)
PAGE_SIZE = 25  # sorted by urgency: the first page is what an agent works from


@dataclass(frozen=True)
class Queue:
    slug: str
    label: Any
    personal: bool  # depends on who asks (mine, my group, my verifications)
    default_sort: str = "-updated"


QUEUES = [
    Queue("mine", _("Mis casos"), True),
    Queue("unassigned", _("Sin asignar de mi grupo"), True),
    Queue("at-risk", _("En riesgo"), False, "deadline"),
    Queue("breached", _("Vencidos"), False, "deadline"),
    Queue("critical", _("Incidentes críticos"), False),
    Queue("verify", _("Escalamientos por verificar"), True),
    Queue("awaiting", _("Esperando al cliente"), False),
    Queue("all", _("Todos"), False),
]
BY_SLUG = {q.slug: q for q in QUEUES}

SORTS = {
    "-updated": ("-updated_at", "-id"),
    "updated": ("updated_at", "id"),
    "-created": ("-created_at", "-id"),
    "created": ("created_at", "id"),
    "-number": ("-id",),
    "number": ("id",),
    "priority": ("priority_rank", "-updated_at", "-id"),
    "deadline": ("next_due", "id"),
}


def _running(now: dt.datetime) -> QuerySet[SlaTimer]:
    """Clocks that are running (not met, breached, paused, or of a finished case): exactly
    the ones with a next check (sla/services.py `_schedule_check`)."""
    return SlaTimer.objects.filter(next_check_at__isnull=False)


def _group_ids(user: User) -> list[int]:
    return list(user.support_groups.values_list("pk", flat=True))


@dataclass
class Who:
    """What the personal queues need to know about the user, read once per request."""

    user: User
    groups: list[int] = field(default_factory=list)
    levels: set[int] = field(default_factory=set)

    @classmethod
    def of(cls, user: User) -> Who:
        groups = _group_ids(user)
        return cls(user=user, groups=groups, levels=_levels(user, groups))


def _levels(user: User, groups: list[int]) -> set[int]:
    if user.role == Role.ADMIN:
        return set()  # an admin verifies every level (see escalations.selectors.can_verify)
    return levels_of(user) if (user.level or groups) else set()


def queue_cases(who: Who, slug: str, *, now: dt.datetime | None = None) -> QuerySet[Case]:
    """The cases of a queue, unordered."""
    now = now or clock.now()
    qs = visible_cases(who.user)
    if slug == "mine":
        return qs.filter(assignee=who.user, status__in=ACTIVE)
    if slug == "unassigned":
        # My groups' unassigned cases; someone in no group sees the cases of no group.
        group = Q(group__in=who.groups) if who.groups else Q(group__isnull=True)
        return qs.filter(group, assignee__isnull=True, status__in=ACTIVE)
    if slug == "at-risk":
        timers = _running(now).filter(at_risk_at__lte=now, due_at__gt=now)
        return qs.filter(pk__in=timers.values("case_id"))
    if slug == "breached":
        overdue = _running(now).filter(due_at__lte=now).values("case_id")
        recorded = SlaTimer.objects.filter(breached_at__isnull=False).values("case_id")
        return qs.filter(Q(pk__in=overdue) | Q(pk__in=recorded), status__in=ACTIVE)
    if slug == "critical":
        return qs.filter(type="incident", priority="critical", status__in=ACTIVE)
    if slug == "verify":
        pending = EscalationRequest.objects.filter(status=RequestStatus.PENDING)
        if who.user.role != Role.ADMIN:
            pending = pending.filter(to_level__in=who.levels)
        return qs.filter(pk__in=pending.values("case_id"))
    if slug == "awaiting":
        return qs.filter(status="awaiting_info")
    if slug == "all":
        return qs
    raise KeyError(slug)


# --- Counts ---------------------------------------------------------------------------------


def counts(who: Who, *, now: dt.datetime | None = None) -> dict[str, int]:
    """Every queue's count: personal ones counted now, shared ones from a per-process
    cache at most COUNT_SECONDS old (see the module's docstring)."""
    now = now or clock.now()
    out = {}
    shared = cache.get("console:queue-counts")
    if shared is None:
        shared = {
            q.slug: queue_cases(who, q.slug, now=now).count() for q in QUEUES if not q.personal
        }
        cache.set("console:queue-counts", shared, COUNT_SECONDS)
    for q in QUEUES:
        out[q.slug] = queue_cases(who, q.slug, now=now).count() if q.personal else shared[q.slug]
    return out


def forget_counts() -> None:
    cache.delete("console:queue-counts")


# --- One page of a queue ----------------------------------------------------------------------


@dataclass
class Filters:
    status: str = ""
    type: str = ""
    priority: str = ""
    level: int | None = None
    channel: str = ""
    organization: str = ""

    def apply(self, qs: QuerySet[Case]) -> QuerySet[Case]:
        if self.status:
            qs = qs.filter(status=self.status)
        if self.type:
            qs = qs.filter(type=self.type)
        if self.priority:
            qs = qs.filter(priority=self.priority)
        if self.level:
            qs = qs.filter(level=self.level)
        if self.channel:
            qs = qs.filter(channel__slug=self.channel)
        if self.organization:
            text = self.organization.strip()
            qs = qs.filter(Q(organization__slug=text) | Q(organization__name__iexact=text))
        return qs

    def active(self) -> bool:
        return any(
            [self.status, self.type, self.priority, self.level, self.channel, self.organization]
        )


def _next_due() -> Subquery:
    return Subquery(
        SlaTimer.objects.filter(case=OuterRef("pk"), met_at__isnull=True)
        .order_by()
        .values("case")
        .annotate(due=Min("due_at"))
        .values("due")[:1]
    )


def _priority_rank() -> CaseWhen:
    return CaseWhen(
        *[When(priority=p, then=Value(rank)) for p, rank in PRIORITY_RANK.items()],
        output_field=IntegerField(),
    )


def with_columns(qs: QuerySet[Case]) -> QuerySet[Case]:
    return qs.select_related("channel", "organization", "requester", "assignee", "group")


def queue_page(
    who: Who,
    slug: str,
    *,
    filters: Filters | None = None,
    sort: str = "",
    page: int = 1,
    now: dt.datetime | None = None,
) -> dict[str, Any]:
    """One page of a queue: {'rows': [...], 'page', 'has_next', 'sort'}. Reads the page
    plus one row more (to know whether a next page exists) instead of counting."""
    now = now or clock.now()
    queue = BY_SLUG[slug]
    sort = sort if sort in SORTS else queue.default_sort
    qs = queue_cases(who, slug, now=now)
    if filters:
        qs = filters.apply(qs)
    if sort == "deadline":
        qs = qs.annotate(next_due=_next_due())
    elif sort == "priority":
        qs = qs.annotate(priority_rank=_priority_rank())
    qs = with_columns(qs).order_by(*SORTS[sort])
    page = max(1, page)
    start = (page - 1) * PAGE_SIZE
    cases = list(qs[start : start + PAGE_SIZE + 1])
    has_next = len(cases) > PAGE_SIZE
    cases = cases[:PAGE_SIZE]
    return {
        "rows": rows_for(cases, now=now),
        "page": page,
        "has_next": has_next,
        "sort": sort,
    }


# --- Rows ----------------------------------------------------------------------------------


def rows_for(cases: list[Case], *, now: dt.datetime | None = None) -> list[dict[str, Any]]:
    """Each case with its next SLA deadline in words; one query for all their clocks."""
    now = now or clock.now()
    timers: dict[int, list[SlaTimer]] = {}
    if cases:
        for t in SlaTimer.objects.filter(case_id__in=[c.pk for c in cases]):
            timers.setdefault(t.case_id, []).append(t)
    labels = _labels()
    return [
        {
            "case": c,
            "deadline": deadline(c, timers.get(c.pk, []), now),
            "type": labels["type"].get(c.type, c.type),
            "priority": labels["priority"].get(c.priority, c.priority),
            "status": labels["status"].get(c.status, c.status),
        }
        for c in cases
    ]


def _labels() -> dict[str, dict[str, str]]:
    """The choices' labels, resolved once per page rather than once per cell."""
    return {
        name: {value: str(label) for value, label in Case._meta.get_field(name).choices}
        for name in ("type", "priority", "status")
    }


def deadline(case: Case, timers: list[SlaTimer], now: dt.datetime) -> dict[str, Any]:
    """The case's next SLA deadline: {'state': 'breached'|'at_risk'|'running'|'paused'|
    'none', 'text': 'vence en 2 h 10 min' | 'vencido hace 3 h' | …, 'due': instant}.
    Times left and overdue are business time on the clock's schedule."""
    from atiende.sla.schedules import calendar

    if case.status not in ACTIVE:
        return {"state": "none", "text": "", "due": None}
    open_timers = [t for t in timers if t.met_at is None]
    overdue = [t for t in open_timers if t.breached_at or (t.due_at <= now and not t.paused)]
    if overdue:
        t = min(overdue, key=lambda t: t.due_at)
        seconds = _business(calendar, t.schedule, t.due_at, now)
        return {
            "state": "breached",
            "text": _("vencido hace %s") % duration(seconds),
            "due": t.due_at,
        }
    running = [t for t in open_timers if not t.paused]
    if running:
        t = min(running, key=lambda t: t.due_at)
        seconds = _business(calendar, t.schedule, now, t.due_at)
        state = "at_risk" if t.at_risk_at <= now else "running"
        return {"state": state, "text": _("vence en %s") % duration(seconds), "due": t.due_at}
    if open_timers:
        return {"state": "paused", "text": _("en pausa"), "due": None}
    return {"state": "none", "text": "", "due": None}


def _business(
    calendar: Callable[[str], Any], slug: str, start: dt.datetime, end: dt.datetime
) -> int:
    try:
        return int(calendar(slug).elapsed(start, end))
    except Exception:  # a schedule removed since: wall-clock time is the honest fallback
        return max(0, int((end - start).total_seconds()))


def duration(seconds: int) -> str:
    """'2 h 10 min', '3 h', '45 min', '2 d 4 h' (days of 24 h of the clock's time)."""
    minutes = max(0, int(seconds)) // 60
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    if days:
        return f"{days} d {hours} h" if hours else f"{days} d"
    if hours:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    return f"{minutes} min"


# --- What the bulk-action form offers ------------------------------------------------------


def assignable_agents() -> list[User]:
    return list(
        User.objects.filter(
            is_active=True, role__in=[Role.AGENT, Role.SUPERVISOR, Role.ADMIN]
        ).order_by("name", "id")
    )


def groups() -> list[SupportGroup]:
    return list(SupportGroup.objects.order_by("name"))


def search(user: User, query: str, *, now: dt.datetime | None = None) -> list[dict[str, Any]]:
    """Cases matching the words of `query` (search/selectors.py), as queue rows, newest
    first, within what the user may see."""
    from atiende.search.selectors import matching_case_ids

    ids = matching_case_ids(query)
    if not ids:
        return []
    found = {c.pk: c for c in with_columns(visible_cases(user).filter(pk__in=ids))}
    return rows_for([found[pk] for pk in ids if pk in found], now=now)
