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
from django.db import connection
from django.db.models import (
    BooleanField,
    IntegerField,
    Max,
    Min,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models import Case as CaseWhen
from django.db.models.expressions import RawSQL
from django.utils.translation import gettext_lazy as _

from atiende.accounts.models import Role, SupportGroup, User
from atiende.cases.models import ACTIVE_STATUSES, PRIORITY_RANK, Case
from atiende.cases.selectors import visible_cases
from atiende.core import clock
from atiende.customers.models import Organization
from atiende.directory.models import Channel
from atiende.escalations.models import EscalationRequest, RequestStatus
from atiende.escalations.selectors import levels_of
from atiende.sla import selectors as sla_reads
from atiende.sla.models import SlaTimer

ACTIVE = ACTIVE_STATUSES
COUNT_SECONDS = 8  # shared counts are at most this old (the page polls every 10 s)
PAGE_SIZE = 25  # sorted by urgency: the first page is what an agent works from
# Above this many cases the "all" count is the highest case id, shown as "≈ N" (cases are
# never deleted, so it is the number of cases ever opened); below it, an exact COUNT(*).
EXACT_ALL_UP_TO = 10_000
# A page of "at risk" or "breached" by deadline this deep or less is read straight from the
# clocks' partial indexes (see `_sla_page`); deeper pages take the general query.
SLA_FAST_ROWS = 2_000


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


def _literal(sql: str) -> RawSQL:
    """A condition written with constants, not parameters: SQLite's planner uses a partial
    index only when the query spells the index's condition with the same constants (a bound
    parameter never matches), so the queues' conditions are written like the indexes'
    (cases/models.py `case_active_*`, `case_awaiting`). Only fixed text goes here."""
    return RawSQL(sql, [], output_field=BooleanField())


_STATUS_ACTIVE = "cases_case.status IN ({})".format(", ".join(f"'{s}'" for s in ACTIVE))


def _arms(slug: str, now: dt.datetime) -> list[QuerySet[SlaTimer]]:
    return sla_reads.at_risk_arms(now) if slug == "at-risk" else sla_reads.breached_arms(now)


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
    active = _literal(_STATUS_ACTIVE)
    if slug == "mine":
        return qs.filter(active, assignee=who.user)
    if slug == "unassigned":
        # My groups' unassigned cases; someone in no group sees the cases of no group.
        group = Q(group__in=who.groups) if who.groups else Q(group__isnull=True)
        return qs.filter(active, group, _literal("cases_case.assignee_id IS NULL"))
    if slug in ("at-risk", "breached"):
        arms = _arms(slug, now)
        return qs.filter(Q(pk__in=arms[0].values("case_id")) | Q(pk__in=arms[1].values("case_id")))
    if slug == "critical":
        return qs.filter(
            active,
            _literal("cases_case.type = 'incident'"),
            _literal("cases_case.priority = 'critical'"),
        )
    if slug == "verify":
        return qs.filter(pk__in=_pending_for(who).values("case_id"))
    if slug == "awaiting":
        return qs.filter(_literal("cases_case.status = 'awaiting_info'"))
    if slug == "all":
        return qs
    raise KeyError(slug)


def _pending_for(who: Who) -> QuerySet[EscalationRequest]:
    """Pending escalation requests towards a level `who` verifies (an admin: every level)."""
    pending = EscalationRequest.objects.filter(status=RequestStatus.PENDING)
    if who.user.role != Role.ADMIN:
        pending = pending.filter(to_level__in=who.levels)
    return pending


# --- Counts ---------------------------------------------------------------------------------


class Counts(dict[str, int]):
    """Each queue's count; `approximate` names the ones shown as "≈ N"."""

    approximate: frozenset[str] = frozenset()


def _count(who: Who, slug: str, now: dt.datetime) -> int:
    if slug in ("at-risk", "breached"):
        # Distinct cases over the two index reads (a case may have two clocks in them).
        first, second = (arm.order_by().values("case_id") for arm in _arms(slug, now))
        return first.union(second).count()
    if slug == "verify" and who.user.is_agent:
        # Staff see every case (cases.selectors.visible_cases), so the count is the pending
        # requests' distinct cases, without joining the cases table.
        return _pending_for(who).values("case_id").distinct().count()
    qs = queue_cases(who, slug, now=now)
    if slug in QUEUE_INDEX and connection.vendor == "sqlite":
        sql, params = _with_index(qs.order_by().values("pk"), QUEUE_INDEX[slug])
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT COUNT(*) FROM ({sql})", params)
            return int(cursor.fetchone()[0])
    return qs.count()


# The partial index of each queue of active cases (cases/models.py). PostgreSQL picks it
# by itself; SQLite's planner, with ANALYZE statistics, prefers wider indexes it must then
# check row by row in the table (the unassigned count read 30,000 rows of the table, 150-
# 180 ms at a million cases, instead of 7,500 index entries), so on SQLite the queue's
# count and page name their index. The queue's rows are all in it, so it is never a bad
# choice; naming an index the query cannot use is an error ("no query solution"), so the
# tests check that each queue's condition matches its index.
QUEUE_INDEX = {
    "mine": "case_active_assignee",
    "unassigned": "case_active_unassigned",
    "critical": "case_active_critical",
    "awaiting": "case_awaiting",
}


def _with_index(qs: QuerySet[Any], index: str) -> tuple[str, tuple[Any, ...]]:
    """The SQL of `qs` (on cases alone, plus joins) reading cases through `index`."""
    sql, params = qs.query.sql_with_params()
    table = f'FROM "{Case._meta.db_table}"'
    assert sql.count(table) == 1, sql
    return sql.replace(table, f"{table} INDEXED BY {index}"), params


def _all_count() -> tuple[int, bool]:
    """(count, approximate): exact while small, else the highest case id — one index
    lookup instead of counting a million rows; cases are never deleted (a merge closes the
    duplicate), so it is the number of cases ever opened."""
    top = Case.objects.aggregate(top=Max("id"))["top"] or 0
    if top <= EXACT_ALL_UP_TO:
        return Case.objects.count(), False
    return top, True


def counts(who: Who, *, now: dt.datetime | None = None) -> Counts:
    """Every queue's count: personal ones counted now, shared ones from a per-process
    cache at most COUNT_SECONDS old (see the module's docstring)."""
    now = now or clock.now()
    shared = cache.get("console:queue-counts")
    if shared is None:
        numbers = {
            q.slug: _count(who, q.slug, now) for q in QUEUES if not q.personal and q.slug != "all"
        }
        numbers["all"], approximate = _all_count()
        shared = (numbers, approximate)
        cache.set("console:queue-counts", shared, COUNT_SECONDS)
    numbers, approximate = shared
    out = Counts(
        {q.slug: _count(who, q.slug, now) if q.personal else numbers[q.slug] for q in QUEUES}
    )
    out.approximate = frozenset({"all"} if approximate else ())
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
        # Channel and organization are looked up first, so the cases are filtered by
        # their own column, which leads an index by last activity (case_channel_updated,
        # case_org_updated): a join would make SQLite sort every matching case.
        if self.channel:
            channels = Channel.objects.filter(slug=self.channel)
            qs = qs.filter(_in("channel_id", list(channels.values_list("pk", flat=True))))
        if self.organization:
            text = self.organization.strip()
            orgs = Organization.objects.filter(Q(slug=text) | Q(name__iexact=text))
            qs = qs.filter(_in("organization_id", list(orgs.values_list("pk", flat=True))))
        return qs

    def active(self) -> bool:
        return any(
            [self.status, self.type, self.priority, self.level, self.channel, self.organization]
        )


def _in(column: str, ids: list[int]) -> Q:
    """`column = id` for one id (an index's equality, which orders its rows), else IN."""
    return Q(**{column: ids[0]}) if len(ids) == 1 else Q(**{f"{column}__in": ids})


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
    page = max(1, page)
    start = (page - 1) * PAGE_SIZE
    if (
        slug in ("at-risk", "breached")
        and sort == "deadline"
        and not (filters and filters.active())
        and start + PAGE_SIZE < SLA_FAST_ROWS
    ):
        cases = _sla_page(who, slug, start, now)
        has_next = len(cases) > PAGE_SIZE
        cases = cases[:PAGE_SIZE]
        return {"rows": rows_for(cases, now=now), "page": page, "has_next": has_next, "sort": sort}
    qs = queue_cases(who, slug, now=now)
    if filters:
        qs = filters.apply(qs)
    if sort == "deadline":
        qs = qs.annotate(next_due=_next_due())
    elif sort == "priority":
        qs = qs.annotate(priority_rank=_priority_rank())
    # First the page's ids in order, then those cases with their related rows: the sort
    # (of a few thousand cases, e.g. my group's unassigned by priority) handles narrow rows
    # instead of rows already joined to organization, contact, channel, agent and group.
    ids_qs = qs.order_by(*SORTS[sort]).values_list("pk", flat=True)[start : start + PAGE_SIZE + 1]
    if slug in QUEUE_INDEX and connection.vendor == "sqlite":
        sql, params = _with_index(ids_qs, QUEUE_INDEX[slug])
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            ids = [row[0] for row in cursor.fetchall()]
    else:
        ids = list(ids_qs)
    found = with_columns(Case.objects.all()).in_bulk(ids)
    cases = [found[pk] for pk in ids if pk in found]
    has_next = len(cases) > PAGE_SIZE
    cases = cases[:PAGE_SIZE]
    return {
        "rows": rows_for(cases, now=now),
        "page": page,
        "has_next": has_next,
        "sort": sort,
    }


def _sla_page(who: Who, slug: str, start: int, now: dt.datetime) -> list[Case]:
    """Cases start .. start + PAGE_SIZE (one more, to know whether a next page exists) of
    "at risk" or "breached" by deadline, read from the clocks' partial indexes in due order:
    each arm gives its first rows already sorted (LIMIT, no sort of the whole queue), merged
    here, each case at its earliest clock (a case has at most two clocks, so twice the rows
    are enough). Then the cases themselves by id. Three statements whatever the queue's
    size."""
    wanted = start + PAGE_SIZE + 1
    pairs: list[tuple[dt.datetime, int]] = []
    for arm in _arms(slug, now):
        pairs += arm.order_by("due_at", "case_id").values_list("due_at", "case_id")[: 2 * wanted]
    ids = list(dict.fromkeys(case_id for _, case_id in sorted(pairs)))[start:wanted]
    found = with_columns(visible_cases(who.user)).in_bulk(ids)
    return [found[pk] for pk in ids if pk in found]


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
