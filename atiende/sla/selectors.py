"""Reads of SLA state: one case's clocks, and the queues that depend on them."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Exists, OuterRef, QuerySet

from atiende.core import clock
from atiende.sla.models import SlaTimer


def case_sla(case: Any, *, now: dt.datetime | None = None) -> dict[str, Any]:
    """{'schedule': slug, 'first_response': {...}, 'resolution': {...}} for the API and pages."""
    now = now or clock.now()
    out: dict[str, Any] = {"schedule": None, "first_response": None, "resolution": None}
    for t in SlaTimer.objects.filter(case=case):
        out["schedule"] = t.schedule
        if t.breached_at:
            state = "breached"
        elif t.met_at:
            state = "met"
        elif t.paused:
            state = "paused"
        elif t.at_risk_at <= now:
            state = "at_risk"
        else:
            state = "running"
        out[t.kind] = {
            "target_seconds": t.target_seconds,
            "start": t.started_at,
            "due": t.due_at,
            "at_risk_at": t.at_risk_at,
            "met_at": t.met_at,
            "breached_at": t.breached_at,
            "paused_seconds": t.paused_seconds,
            "paused": t.paused,
            "state": state,
            "level": t.level,
        }
    return out


def at_risk(cases: QuerySet[Any], *, now: dt.datetime | None = None) -> QuerySet[Any]:
    """Cases (from an already scoped queryset) with a live clock past 75 % of its target."""
    now = now or clock.now()
    live = SlaTimer.objects.filter(
        case=OuterRef("pk"), met_at__isnull=True, breached_at__isnull=True, at_risk_at__lte=now
    ).exclude(next_check_at__isnull=True)
    return cases.filter(Exists(live))


def breached(cases: QuerySet[Any]) -> QuerySet[Any]:
    return cases.filter(
        Exists(SlaTimer.objects.filter(case=OuterRef("pk"), breached_at__isnull=False))
    )


def at_risk_arms(now: dt.datetime) -> list[QuerySet[SlaTimer]]:
    """Running clocks of active cases past 75 % of their target and not yet due: the ones
    the sweep flagged (partial index `sla_timer_at_risk`, by due instant) and the few it has
    not reached yet (its own index on `next_check_at`, which is then the at-risk instant).
    Disjoint; a case may have a clock in each. The console's queue and /metrics read these."""
    running = SlaTimer.objects.filter(case_active=True, next_check_at__isnull=False)
    return [
        running.filter(at_risk_flagged_at__isnull=False, due_at__gt=now, at_risk_at__lte=now),
        running.filter(at_risk_flagged_at__isnull=True, next_check_at__lte=now, due_at__gt=now),
    ]


def breached_arms(now: dt.datetime) -> list[QuerySet[SlaTimer]]:
    """Clocks of active cases with a recorded breach (partial index `sla_timer_breached`,
    by due instant; kept after the clock is met, as before), and running ones already past
    due that the sweep has not recorded yet (its index on `next_check_at`). Disjoint."""
    return [
        SlaTimer.objects.filter(case_active=True, breached_at__isnull=False),
        SlaTimer.objects.filter(case_active=True, next_check_at__lte=now, due_at__lte=now),
    ]
