"""The ladder's subscriptions to the domain's events, made when Django starts (apps.py).
Each imports the escalation services when an event arrives, not at start: every process
would otherwise import the case services with them (issue 17, process start)."""

from __future__ import annotations

from typing import Any

from atiende.core import events


@events.subscribe("sla.breached")
def escalate_on_breach(**event: Any) -> None:
    from atiende.escalations import services

    services.escalate_on_breach(**event)
