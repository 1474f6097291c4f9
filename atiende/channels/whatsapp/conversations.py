"""Who a WhatsApp user is on one of our numbers: their conversation row (found by BSUID or
number, created on the first message, merged when one message shows both ids) and the
messages it holds while the corporate menu waits for a choice."""

from __future__ import annotations

import datetime as dt

from django.db import IntegrityError, transaction

from atiende.channels.whatsapp import inbound
from atiende.channels.whatsapp.inbound import WaMessage
from atiende.channels.whatsapp.models import Conversation, HeldMessage
from atiende.core import rows
from atiende.directory.models import Channel


def find(channel: Channel, m: WaMessage, *, lock: bool = False) -> Conversation | None:
    """The BSUID decides when the message has one; the number otherwise. With `lock`, the
    row found is locked until the transaction ends."""
    # Each id is unique on the channel; one statement each, built once (core/rows.py): every
    # inbound message passes here.
    found = None
    if m.user_id:
        found = rows.one(Conversation, lock=lock, channel_id=channel.pk, user_id=m.user_id)
    if found is None and m.wa_id:
        found = rows.one(Conversation, lock=lock, channel_id=channel.pk, wa_id=m.wa_id)
    return found


def of_sender(channel: Channel, m: WaMessage, now: dt.datetime) -> Conversation:
    """The locked conversation of the sender, created on the first message; an id it
    learns later (the BSUID of a user first seen by number, or the reverse) is kept."""
    # Found and locked in one statement: a row merged away meanwhile is not found (the
    # lock waits for the merging transaction, then sees the row gone).
    conv = find(channel, m, lock=True)
    if conv is None:
        try:
            with transaction.atomic():
                # New in this transaction: no other one sees it, or can lock it, until commit.
                conv = Conversation.objects.create(
                    channel=channel, wa_id=m.wa_id, user_id=m.user_id or "", updated_at=now
                )
        except IntegrityError:  # created concurrently
            conv = find(channel, m, lock=True)
    if conv is None:
        raise Conversation.DoesNotExist("the conversation was merged away meanwhile")
    if m.user_id and not conv.user_id:
        conv.user_id = m.user_id
    if m.wa_id and not conv.wa_id:
        other = (
            Conversation.objects.select_for_update()
            .filter(channel=channel, wa_id=m.wa_id)
            .exclude(pk=conv.pk)
            .first()
        )
        if other is None:
            conv.wa_id = m.wa_id
        elif not other.user_id:
            conv = merge(into=other, gone=conv)
    return conv


def merge(*, into: Conversation, gone: Conversation) -> Conversation:
    """The user wrote by number, then hid it (a second conversation, by BSUID), and now a
    message carries both: one conversation, the one with the number (it can be answered),
    with the latest window and the flow step of the latest message. Held messages move
    with it (none are lost to the delete)."""
    into.user_id = gone.user_id
    if gone.last_inbound_at and (
        into.last_inbound_at is None or gone.last_inbound_at > into.last_inbound_at
    ):
        into.last_inbound_at, into.last_inbound_id = gone.last_inbound_at, gone.last_inbound_id
        into.step, into.state = gone.step, gone.state
    HeldMessage.objects.filter(conversation=gone).update(conversation=into)
    gone.delete()
    return into


def locked(conversation: Conversation) -> Conversation | None:
    """The conversation again, locked for this transaction (None if it is gone)."""
    return Conversation.objects.select_for_update().filter(pk=conversation.pk).first()


# -- held messages -------------------------------------------------------------------------


def hold(conv: Conversation, m: WaMessage, now: dt.datetime) -> None:
    """Keep `m` until the customer chooses (the flow already made it idempotent per message
    id; the unique constraint is the backstop)."""
    HeldMessage.objects.create(
        channel_id=conv.channel_id,
        conversation=conv,
        message_id=m.id,
        message=inbound.as_dict(m),
        sent_at=m.sent_at,
        received_at=now,
    )


def is_holding(conv: Conversation) -> bool:
    return HeldMessage.objects.filter(conversation=conv).exists()


def take_held(conv: Conversation) -> list[WaMessage]:
    """The held messages in the order the customer sent them, removed from the table (the
    caller stores them in the same transaction)."""
    rows = list(HeldMessage.objects.filter(conversation=conv).order_by("sent_at", "id"))
    if rows:
        HeldMessage.objects.filter(pk__in=[r.pk for r in rows]).delete()
    return [inbound.from_dict(r.message) for r in rows]


def holding_since(channel: Channel, cutoff: dt.datetime) -> list[int]:
    """Ids of the channel's conversations holding a message the customer sent at or before
    `cutoff` (the wait counts from the customer's message, not from when a worker got to it)."""
    return list(
        HeldMessage.objects.filter(channel=channel, sent_at__lte=cutoff)
        .values_list("conversation_id", flat=True)
        .distinct()
    )
