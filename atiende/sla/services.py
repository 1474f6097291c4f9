"""SLA timers: started with the case, paused, met, recomputed and swept for breaches.

Called by the case services (cases -> sla); everything here is plain arithmetic on the
case's schedule through `calendar.BusinessCalendar`, plus audited writes of the timers.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction

from atiende.core import audit, clock, deferred, events
from atiende.sla import schedules
from atiende.sla.calendar import BusinessCalendar
from atiende.sla.models import SlaTimer, TimerKind
from atiende.sla.phases import PAUSED, Phase
from atiende.sla.schedules import Target, calendar
from atiende.worker import queue

AT_RISK_FRACTION = 0.75
FALLBACK_SCHEDULE = "24x7"


def _iso(t: dt.datetime) -> str:
    return t.astimezone(dt.UTC).isoformat()


def _parse(s: str) -> dt.datetime:
    return dt.datetime.fromisoformat(s)


def target_for(type: str, priority: str) -> Target | None:
    return schedules.target(type, priority)


def schedule_slug_for(case: Any, target: Target | None = None) -> str:
    """The target's own schedule if it has one (e.g. critical incidents on 24x7), else the
    schedule the intake channel gives this kind of request."""
    if target is not None and target.schedule:
        return target.schedule
    return case.channel.schedule_slug_for(case.type, case.priority) or FALLBACK_SCHEDULE


def _paused_seconds(cal: BusinessCalendar, pauses: list[Any], now: dt.datetime) -> int:
    total = 0
    for start, end in pauses:
        total += cal.elapsed(_parse(start), _parse(end) if end else now)
    return total


def _recompute(timer: SlaTimer, cal: BusinessCalendar, now: dt.datetime) -> None:
    """Derive due, at-risk and next check from start, target and pauses."""
    timer.paused_seconds = _paused_seconds(cal, timer.pauses, now)
    timer.due_at = cal.add(timer.started_at, timer.target_seconds + timer.paused_seconds)
    timer.at_risk_at = cal.add(
        timer.started_at, int(timer.target_seconds * AT_RISK_FRACTION) + timer.paused_seconds
    )
    _schedule_check(timer)


def _schedule_check(timer: SlaTimer) -> None:
    if timer.met_at or timer.breached_at or timer.paused:
        timer.next_check_at = None
    elif timer.at_risk_flagged_at is None:
        timer.next_check_at = timer.at_risk_at
    else:
        timer.next_check_at = timer.due_at


def start_timers(case: Any) -> list[SlaTimer]:
    """Create the case's first-response and resolution timers (at case creation; the
    case service records them in its `case.created` audit entry, see `describe_start`)."""
    target = target_for(case.type, case.priority)
    if target is None:
        return []
    slug = schedule_slug_for(case, target)
    cal = calendar(slug)
    start = cal.next_opening(case.created_at)
    timers = []
    for kind, seconds in (
        (TimerKind.FIRST_RESPONSE, target.first_response_seconds),
        (TimerKind.RESOLUTION, target.resolution_seconds),
    ):
        timer = SlaTimer(
            case=case,
            kind=kind,
            schedule=slug,
            level=case.level,
            target_seconds=seconds,
            started_at=start,
        )
        _recompute(timer, cal, case.created_at)
        timers.append(timer)
    deferred.insert(*timers)
    return timers


def describe_start(timers: list[SlaTimer]) -> dict[str, Any]:
    if not timers:
        return {}
    return {
        "sla_schedule": [None, timers[0].schedule],
        "sla_started_at": [None, _iso(timers[0].started_at)],
        **{f"{t.kind}_due": [None, _iso(t.due_at)] for t in timers},
    }


def _timers(case: Any) -> list[SlaTimer]:
    return list(SlaTimer.objects.select_for_update().filter(case=case))


def _save(timers: list[SlaTimer]) -> None:
    for t in timers:
        t.save()


def on_status_change(case: Any, old: Phase, new: Phase, *, actor: Any = None) -> None:
    """Pause while waiting or met (resolved), meet resolution when met, resume when running
    again, stop when finished. `old` and `new` are the phases of the case's statuses
    (`cases.statuses.sla_phase`)."""
    now = clock.now()
    timers = _timers(case)
    if not timers:
        return
    cal = calendar(timers[0].schedule)
    changed = []
    # The console's queues read `case_active` (see SlaTimer): a finished or resolved case
    # leaves "at risk" and "breached"; reopened, it comes back with its breach.
    active = new in (Phase.RUNNING, Phase.WAITING)
    for t in timers:
        before = (t.due_at, t.met_at, t.paused, t.next_check_at, t.case_active)
        t.case_active = active
        if new in PAUSED and not t.paused and not t.met_at:
            t.pauses = [*t.pauses, [_iso(now), None]]
        if new == Phase.MET and not t.met_at:
            t.met_at = now
        if old in PAUSED and new == Phase.RUNNING and t.paused:
            t.pauses = [*t.pauses[:-1], [t.pauses[-1][0], _iso(now)]]
        if old == Phase.MET and new == Phase.RUNNING and t.kind == TimerKind.RESOLUTION:
            t.met_at = None
        _recompute(t, cal, now)
        if new == Phase.STOPPED:
            t.next_check_at = None
        if (t.due_at, t.met_at, t.paused, t.next_check_at, t.case_active) != before:
            changed.append(t)
    _save(changed)
    if new == Phase.WAITING or (old in PAUSED and new == Phase.RUNNING):
        audit.record(
            actor=actor,
            action="sla.paused" if new == Phase.WAITING else "sla.resumed",
            obj=case,
            case=case,
            changes={f"{t.kind}_due": _iso(t.due_at) for t in timers if not t.met_at},
        )


def record_first_response(case: Any, at: dt.datetime) -> None:
    for t in SlaTimer.objects.select_for_update().filter(
        case=case, kind=TimerKind.FIRST_RESPONSE, met_at__isnull=True
    ):
        t.met_at = at
        _schedule_check(t)
        t.save(update_fields=["met_at", "next_check_at"])
        audit.record(
            actor=None,
            action="sla.first_response_met",
            obj=case,
            case=case,
            changes={"met_at": [None, _iso(at)], "breached": t.breached_at is not None},
        )


def retarget(case: Any, *, actor: Any = None) -> None:
    """Type or priority changed: new targets and possibly a new schedule, same history."""
    target = target_for(case.type, case.priority)
    timers = _timers(case)
    if target is None or not timers:
        return
    slug = schedule_slug_for(case, target)
    cal = calendar(slug)
    now = clock.now()
    changes: dict[str, Any] = {}
    for t in timers:
        old = (t.schedule, t.target_seconds, t.due_at)
        t.schedule = slug
        t.target_seconds = (
            target.first_response_seconds
            if t.kind == TimerKind.FIRST_RESPONSE
            else target.resolution_seconds
        )
        t.started_at = cal.next_opening(case.created_at)
        _recompute(t, cal, now)
        if old != (t.schedule, t.target_seconds, t.due_at):
            changes[t.kind] = {
                "schedule": [old[0], slug],
                "target_seconds": [old[1], t.target_seconds],
                "due_at": [_iso(old[2]), _iso(t.due_at)],
            }
    _save(timers)
    if changes:
        audit.record(actor=actor, action="sla.retargeted", obj=case, case=case, changes=changes)


def sweep(*, now: dt.datetime | None = None, limit: int = 500) -> dict[str, int]:
    """Flag timers at risk and record breaches whose instant has come.

    Reads only the partial index on `next_check_at`. Rows are claimed with SKIP LOCKED and
    each breach is a conditional UPDATE, so concurrent sweeps never record one twice.
    """
    now = now or clock.now()
    counts = {"at_risk": 0, "breached": 0}
    with transaction.atomic():
        due = list(
            SlaTimer.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("case", "case__assignee", "case__group")
            .filter(next_check_at__lte=now)
            .order_by("next_check_at")[:limit]
        )
        for t in due:
            if now >= t.due_at:
                if SlaTimer.objects.filter(
                    pk=t.pk, breached_at__isnull=True, met_at__isnull=True
                ).update(breached_at=t.due_at, next_check_at=None):
                    t.breached_at = t.due_at
                    _on_breach(t)
                    counts["breached"] += 1
            else:
                t.at_risk_flagged_at = now
                _schedule_check(t)
                t.save(update_fields=["at_risk_flagged_at", "next_check_at"])
                counts["at_risk"] += 1
                events.publish("sla.at_risk", case=t.case, timer=t)
    return counts


KIND_ES = {"first_response": "primera respuesta", "resolution": "resolución"}


def _on_breach(t: SlaTimer) -> None:
    case = t.case
    audit.record(
        actor=None,
        action="sla.breached",
        obj=case,
        case=case,
        at=t.due_at,
        changes={
            "timer": t.kind,
            "level": case.level,
            "due_at": _iso(t.due_at),
            "target_seconds": t.target_seconds,
        },
    )
    recipients = []
    if case.assignee_id and case.assignee.email:
        recipients.append(
            {"kind": "email", "address": case.assignee.email, "name": case.assignee.name}
        )
    if case.group_id and case.group.email:
        recipients.append({"kind": "email", "address": case.group.email, "name": case.group.name})
    if recipients:
        queue.enqueue(
            "notify",
            {
                "case_id": case.pk,
                "event": "sla.breached",
                "recipients": recipients,
                "subject": f"[{case.number}] ANS de {KIND_ES[t.kind]} vencido",
                "body": (
                    f"El caso {case.number} («{case.subject}») superó su objetivo de {KIND_ES[t.kind]} "
                    f"en el nivel {case.level}; vencía el {_iso(t.due_at)}."
                ),
            },
        )
    events.publish("sla.breached", case=case, timer=t)


def restart_response_target(
    case: Any, *, phase: Phase = Phase.RUNNING, actor: Any = None
) -> SlaTimer | None:
    """The case climbed to a new escalation level: that level gets its own first-response
    target (the case's type and priority target), counted from now on the case's schedule.
    The resolution clock keeps running — it is the customer's promise, not the level's — but
    from now on it is the new level's to keep. Breaches of earlier levels stay in the audit
    trail (`sla.breached` entries carry the level)."""
    target = target_for(case.type, case.priority)
    timers = {t.kind: t for t in _timers(case)}
    timer = timers.get(TimerKind.FIRST_RESPONSE)
    if target is None or timer is None:
        return None
    slug = schedule_slug_for(case, target)
    cal = calendar(slug)
    now = clock.now()
    before = {
        "level": timer.level,
        "due_at": _iso(timer.due_at),
        "met_at": timer.met_at and _iso(timer.met_at),
        "breached_at": timer.breached_at and _iso(timer.breached_at),
    }
    timer.level = case.level
    timer.schedule = slug
    timer.target_seconds = target.first_response_seconds
    timer.started_at = cal.next_opening(now)
    # A case waiting for the customer (or resolved) starts the new level's clock paused.
    timer.pauses = [[_iso(now), None]] if phase in PAUSED else []
    timer.met_at = timer.breached_at = timer.at_risk_flagged_at = None
    _recompute(timer, cal, now)
    if phase == Phase.STOPPED:
        timer.next_check_at = None
    timer.save()
    resolution = timers.get(TimerKind.RESOLUTION)
    if resolution is not None and resolution.level != case.level and not resolution.breached_at:
        resolution.level = case.level
        resolution.save(update_fields=["level"])
    audit.record(
        actor=actor,
        action="sla.level_target_started",
        obj=case,
        case=case,
        at=now,
        changes={
            "level": [before["level"], case.level],
            "first_response_due": [before["due_at"], _iso(timer.due_at)],
            "previous": before,
        },
    )
    return timer
