"""The corporate line: a menu (new request, report an incident, status of my case, talk to
an agent); a contact with an open case on the line simply talks on it.

What a customer sends before choosing is **held** (`HeldMessage`, media id included) and
the menu goes out (`Step.HOLDING`); the choice stores every held message, in order, on
the case it opens. Held messages that wait longer than the channel's `menu_wait_minutes`
reach a case anyway (`services.flush_due`, a periodic task), as they do when an agent
looks at the conversation (`services.flush_pending`). Transitions: `states.CORPORATE`.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from atiende.cases import acknowledgements, numbers, statuses
from atiende.channels.whatsapp import actions, conversations, states
from atiende.channels.whatsapp import selectors as reads
from atiende.channels.whatsapp.inbound import WaMessage
from atiende.channels.whatsapp.models import Conversation, Step
from atiende.directory import hours
from atiende.directory.models import Channel

if TYPE_CHECKING:
    from atiende.channels.messages import Received

AGENT_ASKED = "El cliente pidió hablar con un agente de servicio."
DEFAULT_WAIT_MINUTES = 30


def wait(channel: Channel) -> dt.timedelta:
    """How long held messages wait for the customer's choice (`menu_wait_minutes`)."""
    minutes = (channel.settings or {}).get("menu_wait_minutes", DEFAULT_WAIT_MINUTES)
    return dt.timedelta(minutes=int(minutes))


def handle(channel: Channel, conv: Conversation, m: WaMessage, now: dt.datetime) -> None:
    held = conversations.is_holding(conv)
    open_case = False
    if conv.wa_id and not m.reply_id:
        contact = actions.contact_of(m)
        open_case = contact is not None and reads.has_open_case(
            contact_id=contact.pk, channel=channel
        )
    event = states.corporate_event(
        conv.step,
        reachable=bool(conv.wa_id),
        reply_id=m.reply_id,
        type_=m.type,
        text=m.text or "",
        held=held,
        open_case=open_case,
    )
    t = states.transition(states.CORPORATE, conv.step, event)
    ACTIONS[t.action](channel, conv, m, now)
    conv.step = states.next_step(conv.step, t, held=conversations.is_holding(conv))
    conv.state = {}


# -- actions -------------------------------------------------------------------------------


def _escalate(channel: Channel, conv: Conversation, m: WaMessage, now) -> None:
    actions.escalate(channel, conv.wa_id, m, (m.reply_id or "").split(":", 1)[1])


def _store_on_case(channel: Channel, conv: Conversation, m: WaMessage, now) -> None:
    """On the contact's open case on the line (or a new one); held messages go first."""
    actions.store_all(channel, [*conversations.take_held(conv), m], join_open_case=True)


def _hold_and_show_menu(channel: Channel, conv: Conversation, m: WaMessage, now) -> None:
    conversations.hold(conv, m, now)
    actions.menu(channel, conv.wa_id, m.name)


def _show_menu(channel: Channel, conv: Conversation, m: WaMessage, now) -> None:
    actions.menu(channel, conv.wa_id, m.name)


def _ask(key: str):
    def ask(channel: Channel, conv: Conversation, m: WaMessage, now) -> None:
        actions.say(channel, conv.wa_id, actions.text(channel, key))

    return ask


def _open_described(kind: str):
    def open_(channel: Channel, conv: Conversation, m: WaMessage, now) -> None:
        open_case(channel, conv.wa_id, [*conversations.take_held(conv), m], kind)

    return open_


def _open_held(kind: str, *, agent: bool = False):
    def open_(channel: Channel, conv: Conversation, m: WaMessage, now) -> None:
        open_case(
            channel,
            conv.wa_id,
            conversations.take_held(conv),
            kind,
            ack_extra=actions.text(channel, "agent") if agent else "",
        )

    return open_


def _open_for_agent(channel: Channel, conv: Conversation, m: WaMessage, now) -> None:
    open_case(
        channel,
        conv.wa_id,
        [m],
        "request",
        body=AGENT_ASKED,
        ack_extra=actions.text(channel, "agent"),
    )


def _answer_status(channel: Channel, conv: Conversation, m: WaMessage, now) -> None:
    to = conv.wa_id
    number = numbers.find_in_text(m.text)
    if not number:
        actions.say(channel, to, actions.text(channel, "no_number"))
        return
    case = actions.find_case_for(m, number)
    if case is None:
        actions.say(channel, to, actions.text(channel, "not_found", number=number))
        return
    last = reads.last_public_answer(case)
    tail = f"\nÚltima respuesta: {last.body_text[:500]}" if last else ""
    body = actions.text(
        channel,
        "status",
        number=case.number,
        subject=case.subject,
        status=statuses.label(case.status),
        level=case.level,
        last=tail,
    )
    if case.status in statuses.DONE:
        actions.say(channel, to, body)
    else:
        actions.buttons(
            channel,
            to,
            body,
            [(f"escalar:{case.number}", actions.text(channel, "escalate_button"))],
        )


ACTIONS = {
    "escalate": _escalate,
    "store_on_case": _store_on_case,
    "hold_and_show_menu": _hold_and_show_menu,
    "show_menu": _show_menu,
    "ask_request": _ask("ask_request"),
    "ask_incident": _ask("ask_incident"),
    "ask_number": _ask("ask_number"),
    "open_request": _open_described("request"),
    "open_incident": _open_described("incident"),
    "open_held_request": _open_held("request"),
    "open_held_incident": _open_held("incident"),
    "open_held_for_agent": _open_held("request", agent=True),
    "open_for_agent": _open_for_agent,
    "answer_status": _answer_status,
}


# -- opening a case ------------------------------------------------------------------------


def open_case(
    channel: Channel,
    to: str,
    messages: list[WaMessage],
    type_: str | None,
    *,
    body: str | None = None,
    ack_extra: str = "",
    join_open_case: bool = False,
) -> Received | None:
    """Store `messages` in order: the first opens a case of `type_` (or joins the open one
    with `join_open_case`), the others are notes on it. A request opened out of hours also
    gets the 24/7 channels for incidents."""
    first: dict = {"type": type_} if type_ else {}
    if body:
        first["body"] = body
    if join_open_case:
        first["join_open_case"] = True
    r = actions.store_all(channel, messages, **first)
    if r is None:
        return None
    if ack_extra:
        actions.say(channel, to, ack_extra)
    case = r.case
    if (
        r.new_case
        and case.type != "incident"
        and not hours.open_for(channel, case.type, case.priority, case.created_at)
    ):
        # Out of hours for a request: the incident channels that attend 24/7.
        others = [
            hours.describe_channel(c)
            for c in hours.channels_24x7_for_incidents()
            if c.pk != channel.pk
        ]
        if others:
            actions.say(
                channel,
                to,
                acknowledgements.texts.render(
                    acknowledgements.text("ack_incident_24x7"), channels_24x7=", ".join(others)
                ),
            )
    return r


def release(channel: Channel, conv: Conversation) -> Received | None:
    """Store what the conversation holds now, without waiting for a choice: on the
    contact's open case on the line, or on a new case of the default type. The caller
    holds the conversation's lock."""
    held = conversations.take_held(conv)
    if not held:
        return None
    r = open_case(channel, conv.wa_id, held, None, join_open_case=True)
    if conv.step == Step.HOLDING:
        conv.step = Step.IDLE
    return r
