"""The adapter's services: messages held on the corporate line reach a case without waiting
for the customer's choice — when an agent looks at the conversation (`flush_pending`,
`flush_pending_for`) and when they have waited the channel's `menu_wait_minutes`
(`flush_due`, run by the worker every minute)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from django.db import transaction

from atiende.channels.whatsapp import conf, conversations, corporate
from atiende.channels.whatsapp import selectors as reads
from atiende.channels.whatsapp.models import Conversation
from atiende.core import clock

if TYPE_CHECKING:
    from atiende.channels.messages import Received
    from atiende.customers.models import Contact

log = logging.getLogger(__name__)


def flush_pending(conversation: Conversation) -> Received | None:
    """Store every message the conversation holds, in order, on the contact's open case on
    its line or on a new case; None when nothing was held. Safe to call at any time and
    concurrently with new messages (the conversation is locked; a message is stored once)."""
    with transaction.atomic():
        conv = conversations.locked(conversation)
        if conv is None:
            return None
        received = corporate.release(conv.channel, conv)
        if received is not None:
            conv.updated_at = clock.now()
            conv.save(update_fields=["step", "updated_at"])
        return received


def flush_pending_for(contact: Contact) -> int:
    """`flush_pending` for every WhatsApp conversation of the contact (an agent opens the
    contact or one of their cases); the number of conversations that held messages."""
    keys = reads.whatsapp_keys(contact)
    if not keys:
        return 0
    found = Conversation.objects.filter(wa_id__in=keys) | Conversation.objects.filter(
        user_id__in=keys
    )
    return sum(1 for conv in found.distinct() if flush_pending(conv) is not None)


def flush_due() -> int:
    """Release the conversations whose oldest held message has waited the channel's
    `menu_wait_minutes`; one conversation's failure is logged and does not stop the rest
    (it is tried again on the next run). Channels that are not active keep what they hold
    until they are active again (the one door refuses inactive channels)."""
    now = clock.now()
    released = 0
    for channel in conf.whatsapp_channels():
        for conv_id in conversations.holding_since(channel, now - corporate.wait(channel)):
            try:
                if flush_pending(Conversation(pk=conv_id)) is not None:
                    released += 1
            except Exception:  # one bad row must not hold back the others every minute
                log.exception("whatsapp: held messages of conversation %s not stored", conv_id)
    return released
