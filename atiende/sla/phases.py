"""What a case's status means for its SLA clock, in the SLA's own words.

The case app owns the statuses and maps each to a phase (`cases.statuses.sla_phase`); the
timers only know phases, so `sla` never imports `cases`."""

from __future__ import annotations

from enum import StrEnum


class Phase(StrEnum):
    RUNNING = "running"  # the clock runs (new, open)
    WAITING = "waiting"  # paused: waiting for the customer (awaiting_info)
    MET = "met"  # paused, resolution met: resolved, may still be reopened
    STOPPED = "stopped"  # the case is finished: nothing is checked any more


PAUSED = frozenset({Phase.WAITING, Phase.MET})
