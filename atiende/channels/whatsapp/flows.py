"""Guided conversations on the two WhatsApp lines, in Spanish, with editable texts: the
entry point for every inbound message.

`handle` makes a message's handling idempotent (`ProcessedMessage`), finds the sender's
conversation (`conversations.py`), keeps the 24-hour window, marks the message as read and
hands it to the line's flow: `monitoring.py` (critical incidents, 24/7) or `corporate.py`
(the menu). Both are state machines whose steps and transitions are in `states.py`; what
both do (texts, sends, storing through the one door, escalation) is in `actions.py`, and
the message bodies in `payloads.py`.

Texts: every prompt has a key in `options.TEXTS`; a channel overrides it with the setting
`text_<key>` (the configuration loader refuses unknown keys and placeholders).
"""

from __future__ import annotations

import logging

from atiende.channels.whatsapp import conversations, corporate, monitoring
from atiende.channels.whatsapp.actions import text
from atiende.channels.whatsapp.inbound import WaMessage
from atiende.channels.whatsapp.models import ProcessedMessage
from atiende.core import clock, once, rows
from atiende.core.transactions import service_scope
from atiende.directory.models import Channel
from atiende.worker import queue

__all__ = ["handle", "is_monitoring", "text"]

log = logging.getLogger(__name__)


def is_monitoring(channel: Channel) -> bool:
    flow = (channel.settings or {}).get("flow")
    if flow:
        return flow == "monitoring"
    return channel.attends_request("incident", "critical") and not channel.attends_request(
        "request", "moderate"
    )


def handle(channel: Channel, m: WaMessage) -> None:
    """Handle one inbound message exactly once (a redelivery is a no-op)."""
    now = clock.now()
    with service_scope():  # in the job's batch() it joins its transaction (jobs.py)
        # The unique (channel, message id) row decides; one statement, no savepoint.
        seen = {"channel_id": channel.pk, "message_id": m.id, "received_at": now}
        if once.insert_once(ProcessedMessage, seen, key=["channel", "message_id"]) is None:
            return
        if not (m.wa_id or m.user_id):
            log.warning("whatsapp: message %s on %s has no sender; ignored", m.id, channel.slug)
            return
        conv = conversations.of_sender(channel, m, now)
        if conv.last_inbound_at is None or m.sent_at > conv.last_inbound_at:
            conv.last_inbound_at, conv.last_inbound_id = m.sent_at, m.id
        if m.type != "reaction":
            queue.enqueue(
                "whatsapp.mark_read", {"channel_id": channel.pk, "message_id": m.id}, max_attempts=3
            )
        if is_monitoring(channel):
            monitoring.handle(channel, conv, m)
        else:
            corporate.handle(channel, conv, m, now)
        conv.updated_at = now
        rows.update(conv)
