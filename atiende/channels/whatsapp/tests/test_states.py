"""The flows' state machines, table by table (pure: no database)."""

import pytest

from atiende.channels.whatsapp import corporate, monitoring, states
from atiende.channels.whatsapp.models import Step
from atiende.channels.whatsapp.states import ANY, RESUME, SAME, Event

E = Event


def corp(step, *, reply=None, type_="text", text="hola!", held=False, open_case=False, reach=True):
    return states.corporate_event(
        step,
        reachable=reach,
        reply_id=reply,
        type_=type_,
        text=text,
        held=held,
        open_case=open_case,
    )


@pytest.mark.parametrize(
    ("step", "kw", "event"),
    [
        (Step.IDLE, {"text": "Necesito un certificado"}, E.MESSAGE),
        (Step.IDLE, {"text": "Necesito un certificado", "open_case": True}, E.MESSAGE_ON_CASE),
        (Step.IDLE, {"type_": "image", "text": "[Imagen] Foto"}, E.MESSAGE),
        (Step.HOLDING, {"type_": "image", "text": "[Imagen] Foto", "held": True}, E.MESSAGE),
        (Step.IDLE, {"text": "¡Hola!"}, E.MENU_WORD),
        (Step.HOLDING, {"text": "Menú", "held": True}, E.MENU_WORD),
        (Step.IDLE, {"reply": "menu:solicitud"}, E.REQUEST),
        (Step.HOLDING, {"reply": "menu:solicitud", "held": True}, E.REQUEST_HELD),
        (Step.IDLE, {"reply": "menu:incidente"}, E.INCIDENT),
        (Step.HOLDING, {"reply": "menu:incidente", "held": True}, E.INCIDENT_HELD),
        (Step.IDLE, {"reply": "menu:agente"}, E.AGENT),
        (Step.HOLDING, {"reply": "menu:agente", "held": True}, E.AGENT_HELD),
        (Step.HOLDING, {"reply": "menu:estado", "held": True}, E.STATUS),
        (Step.IDLE, {"reply": "menu:viejo"}, E.OTHER_CHOICE),
        (Step.ASKED_NUMBER, {"reply": "escalar:CS0000001"}, E.ESCALATE),
        (Step.ASKED_REQUEST, {"text": "menú"}, E.DESCRIPTION),
        (Step.ASKED_INCIDENT, {"type_": "image", "text": "[Imagen]"}, E.DESCRIPTION),
        (Step.ASKED_NUMBER, {"text": "CS0000001"}, E.NUMBER),
        (Step.ASKED_NUMBER, {"type_": "image", "text": "[Imagen]"}, E.MESSAGE),
        (Step.HOLDING, {"reply": "menu:solicitud", "reach": False}, E.UNREACHABLE),
    ],
)
def test_what_a_corporate_message_is(step, kw, event):
    assert corp(step, **kw) == event


@pytest.mark.parametrize(
    ("step", "event", "held", "action", "to"),
    [
        (Step.IDLE, E.MESSAGE, False, "hold_and_show_menu", Step.HOLDING),
        (Step.HOLDING, E.MESSAGE, True, "hold_and_show_menu", Step.HOLDING),
        (Step.HOLDING, E.REQUEST_HELD, False, "open_held_request", Step.IDLE),
        (Step.HOLDING, E.INCIDENT_HELD, False, "open_held_incident", Step.IDLE),
        (Step.HOLDING, E.AGENT_HELD, False, "open_held_for_agent", Step.IDLE),
        (Step.HOLDING, E.STATUS, True, "ask_number", Step.ASKED_NUMBER),
        (Step.ASKED_NUMBER, E.NUMBER, True, "answer_status", Step.HOLDING),
        (Step.ASKED_NUMBER, E.NUMBER, False, "answer_status", Step.IDLE),
        (Step.HOLDING, E.MENU_WORD, True, "show_menu", Step.HOLDING),
        (Step.IDLE, E.MENU_WORD, False, "show_menu", Step.IDLE),
        (Step.IDLE, E.REQUEST, False, "ask_request", Step.ASKED_REQUEST),
        (Step.ASKED_REQUEST, E.DESCRIPTION, False, "open_request", Step.IDLE),
        (Step.ASKED_INCIDENT, E.DESCRIPTION, False, "open_incident", Step.IDLE),
        (Step.IDLE, E.AGENT, False, "open_for_agent", Step.IDLE),
        (Step.HOLDING, E.MESSAGE_ON_CASE, False, "store_on_case", Step.IDLE),
        (Step.HOLDING, E.UNREACHABLE, False, "store_on_case", Step.IDLE),
        (Step.ASKED_NUMBER, E.ESCALATE, False, "escalate", Step.ASKED_NUMBER),
    ],
)
def test_corporate_transitions(step, event, held, action, to):
    t = states.transition(states.CORPORATE, step, event)
    assert (t.action, states.next_step(step, t, held=held)) == (action, to)


def test_a_description_is_only_expected_after_asking_for_one():
    with pytest.raises(states.NoTransition):
        states.transition(states.CORPORATE, Step.IDLE, E.DESCRIPTION)
    with pytest.raises(states.NoTransition):
        states.transition(states.CORPORATE, Step.HOLDING, E.NUMBER)


@pytest.mark.parametrize(
    ("step", "kw", "event", "action", "to"),
    [
        (Step.IDLE, {"new_case": True}, E.NEW_INCIDENT, "page_and_interview", Step.INTERVIEW),
        (
            Step.IDLE,
            {"new_case": True, "reachable": False},
            E.NEW_INCIDENT_UNREACHABLE,
            "page",
            Step.IDLE,
        ),
        (Step.INTERVIEW, {"questions_left": 3}, E.ANSWER, "ask_next", Step.INTERVIEW),
        (Step.INTERVIEW, {"questions_left": 1}, E.LAST_ANSWER, "thank_with_escalation", Step.IDLE),
        (Step.INTERVIEW, {"duplicate": True}, E.NOTE, "nothing", Step.INTERVIEW),
        (Step.INTERVIEW, {"case": "CS0000002"}, E.NOTE, "nothing", Step.INTERVIEW),
        (Step.IDLE, {}, E.NOTE, "nothing", Step.IDLE),
        (Step.INTERVIEW, {"reply_id": "escalar:CS0000001"}, E.ESCALATE, "escalate", Step.INTERVIEW),
    ],
)
def test_monitoring_transitions(step, kw, event, action, to):
    facts = {
        "reply_id": None,
        "new_case": False,
        "reachable": True,
        "interview_case": "CS0000001",
        "case": "CS0000001",
        "duplicate": False,
        "questions_left": 2,
    } | kw
    assert states.monitoring_event(step, **facts) == event
    t = states.transition(states.MONITORING, step, event)
    assert (t.action, states.next_step(step, t, held=False)) == (action, to)


@pytest.mark.parametrize(
    ("table", "actions"),
    [(states.CORPORATE, corporate.ACTIONS), (states.MONITORING, monitoring.ACTIONS)],
)
def test_every_transition_names_a_known_action_and_step(table, actions):
    steps = {s.value for s in Step} | {SAME, RESUME}
    for step, row in table.items():
        assert step == ANY or step in {s.value for s in Step}
        for t in row.values():
            assert t.action in actions and t.to in steps
    assert {t.action for row in table.values() for t in row.values()} == set(actions)


def test_every_corporate_event_has_a_transition_from_idle_or_its_step():
    monitoring_only = {
        E.NEW_INCIDENT,
        E.NEW_INCIDENT_UNREACHABLE,
        E.ANSWER,
        E.LAST_ANSWER,
        E.NOTE,
    }
    covered = {e for row in states.CORPORATE.values() for e in row}
    assert covered == set(Event) - monitoring_only
