"""Worker jobs of the phone channel: the CTI inbox and the sweep of calls left ringing."""

from __future__ import annotations

import datetime as dt
import logging

from atiende.channels.phone import services
from atiende.channels.phone.inbound import CtiEvent
from atiende.directory import selectors as channel_selectors
from atiende.worker.errors import DeliveryError
from atiende.worker.registry import handler, periodic

log = logging.getLogger(__name__)


@handler("phone.event", service=True)  # apply_event joins the job's transaction
def process_event(payload: dict) -> None:
    line = channel_selectors.channel(payload["line"])
    if line is None or line.kind != "phone":
        raise DeliveryError(f"la línea {payload['line']!r} ya no existe", permanent=True)
    services.apply_event(
        line=line,
        event=CtiEvent.from_payload(payload["event"]),
        received_at=dt.datetime.fromisoformat(payload["received_at"]),
    )


@periodic("phone.close_stale", every=60)
def close_stale() -> None:
    closed = services.close_stale_calls()
    if closed:
        log.info("cti: %d calls left ringing were closed as missed", closed)
