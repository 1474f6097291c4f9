"""The guided flows as state machines: named steps, the events a message is, and what each
(step, event) does and where it leads. Pure: no database, no sending.

A conversation is at one `Step` (a column of `Conversation`). A message becomes one
`Event` (`corporate_event`, `monitoring_event`), and `corporate`/`monitoring` look the
pair up in their tables to get a `Transition`: the name of the action the flow runs and
the step that follows. The flows (`corporate.py`, `monitoring.py`) implement the actions;
`tests/test_states.py` walks the tables.

Messages held while the corporate menu waits for a choice are data, not a step: the step
`HOLDING` says the menu went out for them, and `RESUME` in a table means "back to
`HOLDING` if messages are still held, else `IDLE`".
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from atiende.channels.whatsapp.models import Step

MENU_WORDS = frozenset({"menu", "menú", "inicio", "opciones", "hola"})
RESUME = "resume"
SAME = "same"


class Event(StrEnum):
    # Both lines
    ESCALATE = "escalate"  # the escalation button (reply id "escalar:CS…")
    # Corporate line
    UNREACHABLE = "unreachable"  # the user hides the number: no menu can reach them
    REQUEST = "request"  # «Nueva solicitud», nothing held
    INCIDENT = "incident"  # «Reportar un incidente», nothing held
    AGENT = "agent"  # «Hablar con un agente», nothing held
    REQUEST_HELD = "request_held"  # the same three with messages held
    INCIDENT_HELD = "incident_held"
    AGENT_HELD = "agent_held"
    STATUS = "status"  # «Estado de mi caso»
    OTHER_CHOICE = "other_choice"  # a menu id we do not know (an old menu)
    MENU_WORD = "menu_word"  # «menú», «hola»…
    DESCRIPTION = "description"  # anything sent after we asked for a description
    NUMBER = "number"  # a text sent after we asked for a case number
    MESSAGE = "message"  # anything else, and the contact has no open case on the line
    MESSAGE_ON_CASE = "message_on_case"  # anything else, and the contact has an open case
    # Monitoring line (decided after the message is stored: every message lands)
    NEW_INCIDENT = "new_incident"  # it opened the incident, and the user can be asked
    NEW_INCIDENT_UNREACHABLE = "new_incident_unreachable"  # …but hides the number
    ANSWER = "answer"  # an answer to the interview, more questions to go
    LAST_ANSWER = "last_answer"  # the answer to the last question
    NOTE = "note"  # any other message (stored on the case, nothing more to do)


@dataclass(frozen=True)
class Transition:
    action: str
    to: str  # a Step value, SAME (stay) or RESUME (HOLDING if messages are held, else IDLE)


T = Transition
ANY = "*"

CORPORATE: dict[str, dict[Event, Transition]] = {
    # In every step.
    ANY: {
        Event.UNREACHABLE: T("store_on_case", Step.IDLE),
        Event.ESCALATE: T("escalate", SAME),
        Event.REQUEST: T("ask_request", Step.ASKED_REQUEST),
        Event.INCIDENT: T("ask_incident", Step.ASKED_INCIDENT),
        Event.AGENT: T("open_for_agent", Step.IDLE),
        Event.REQUEST_HELD: T("open_held_request", Step.IDLE),
        Event.INCIDENT_HELD: T("open_held_incident", Step.IDLE),
        Event.AGENT_HELD: T("open_held_for_agent", Step.IDLE),
        Event.STATUS: T("ask_number", Step.ASKED_NUMBER),
        Event.OTHER_CHOICE: T("show_menu", RESUME),
        Event.MENU_WORD: T("show_menu", RESUME),
        Event.MESSAGE: T("hold_and_show_menu", Step.HOLDING),
        Event.MESSAGE_ON_CASE: T("store_on_case", Step.IDLE),
    },
    Step.ASKED_REQUEST: {Event.DESCRIPTION: T("open_request", Step.IDLE)},
    Step.ASKED_INCIDENT: {Event.DESCRIPTION: T("open_incident", Step.IDLE)},
    Step.ASKED_NUMBER: {Event.NUMBER: T("answer_status", RESUME)},
}

MONITORING: dict[str, dict[Event, Transition]] = {
    ANY: {
        Event.ESCALATE: T("escalate", SAME),
        Event.NEW_INCIDENT: T("page_and_interview", Step.INTERVIEW),
        Event.NEW_INCIDENT_UNREACHABLE: T("page", SAME),
        Event.NOTE: T("nothing", SAME),
    },
    Step.INTERVIEW: {
        Event.ANSWER: T("ask_next", Step.INTERVIEW),
        Event.LAST_ANSWER: T("thank_with_escalation", Step.IDLE),
    },
}


class NoTransition(LookupError):
    pass


def transition(table: dict[str, dict[Event, Transition]], step: str, event: Event) -> Transition:
    """The transition for `event` at `step` (the step's own entry first, then ANY's)."""
    found = table.get(step, {}).get(event) or table[ANY].get(event)
    if found is None:
        raise NoTransition(f"{event} at {step}")
    return found


def next_step(step: str, t: Transition, *, held: bool) -> str:
    if t.to == SAME:
        return step
    if t.to == RESUME:
        return Step.HOLDING if held else Step.IDLE
    return t.to


def corporate_event(
    step: str,
    *,
    reachable: bool,
    reply_id: str | None,
    type_: str,
    text: str,
    held: bool,
    open_case: bool,
) -> Event:
    """What a message on the corporate line is, given the step and what is known."""
    choice = reply_id or ""
    if not reachable:
        return Event.UNREACHABLE
    if choice.startswith("escalar:"):
        return Event.ESCALATE
    if choice.startswith("menu:"):
        if choice == "menu:estado":
            return Event.STATUS
        chosen = {
            "menu:solicitud": (Event.REQUEST, Event.REQUEST_HELD),
            "menu:incidente": (Event.INCIDENT, Event.INCIDENT_HELD),
            "menu:agente": (Event.AGENT, Event.AGENT_HELD),
        }.get(choice)
        if chosen is None:
            return Event.OTHER_CHOICE
        return chosen[1] if held else chosen[0]
    if step in (Step.ASKED_REQUEST, Step.ASKED_INCIDENT):
        return Event.DESCRIPTION
    if step == Step.ASKED_NUMBER and type_ == "text":
        return Event.NUMBER
    if type_ == "text" and text.strip().lower().strip("¡!¿?.") in MENU_WORDS:
        return Event.MENU_WORD
    return Event.MESSAGE_ON_CASE if open_case else Event.MESSAGE


def monitoring_event(
    step: str,
    *,
    reply_id: str | None,
    new_case: bool,
    reachable: bool,
    interview_case: str | None,
    case: str | None,
    duplicate: bool,
    questions_left: int,
) -> Event:
    """What a message on the monitoring line was, once stored (`case` is its case)."""
    if (reply_id or "").startswith("escalar:"):
        return Event.ESCALATE
    if new_case:
        return Event.NEW_INCIDENT if reachable else Event.NEW_INCIDENT_UNREACHABLE
    if step == Step.INTERVIEW and interview_case == case and not duplicate:
        return Event.ANSWER if questions_left > 1 else Event.LAST_ANSWER
    return Event.NOTE
