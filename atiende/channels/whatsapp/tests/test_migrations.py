"""The step column and held rows replace the old JSON keys: existing conversations keep
their step, and a message an older version kept waiting for the menu is not lost."""

import importlib

from django.apps import apps

from atiende.channels.whatsapp.models import Conversation, HeldMessage, Step
from atiende.channels.whatsapp.tests.conftest import T0

migration = importlib.import_module(
    "atiende.channels.whatsapp.migrations.0003_conversation_step_and_held_messages"
)


def test_old_flow_keys_become_steps_and_the_pending_message_is_held(corporativo, monitoreo):
    def conv(wa_id, channel, state):
        return Conversation.objects.create(channel=channel, wa_id=wa_id, state=state, updated_at=T0)

    waiting = conv(
        "573001",
        corporativo,
        {"flow": "menu", "pending": {"id": "wamid.P", "text": "Hola, necesito"}},
    )
    asked = conv("573002", corporativo, {"flow": "await_number"})
    interview = conv(
        "573003", monitoreo, {"flow": "incident", "case": "CS0000001", "steps": ["what"]}
    )
    menu = conv("573004", corporativo, {"flow": "menu"})
    migration.steps_from_state(apps, None)
    for c in (waiting, asked, interview, menu):
        c.refresh_from_db()
    assert (waiting.step, waiting.state) == (Step.HOLDING, {})
    assert (asked.step, menu.step) == (Step.ASKED_NUMBER, Step.IDLE)
    assert (interview.step, interview.state) == (
        Step.INTERVIEW,
        {"case": "CS0000001", "steps": ["what"]},
    )
    held = HeldMessage.objects.get()
    assert (held.conversation, held.message_id, held.message["text"]) == (
        waiting,
        "wamid.P",
        "Hola, necesito",
    )
    from atiende.channels.whatsapp import services

    received = services.flush_pending(waiting)
    assert received.note.body_text == "Hola, necesito" and received.note.external_id == "wamid.P"
