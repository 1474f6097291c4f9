"""The same message processed by two workers at the same moment is one note and one answer."""

import pytest

from atiende.cases.models import Case, Note
from atiende.channels.whatsapp import flows, inbound, simulate
from atiende.channels.whatsapp.models import ProcessedMessage
from atiende.channels.whatsapp.tests.conftest import MONITOREO_ID
from atiende.core.tests.threads import at_once, raised


@pytest.mark.django_db(transaction=True)
def test_two_workers_racing_on_one_message_store_it_once(graph, monitoreo):
    body = simulate.text_notification(
        phone_number_id=MONITOREO_ID,
        display_phone_number="573184872656",
        wa_id="573001234567",
        text="Caído",
        message_id="wamid.RACE",
    )
    [m] = inbound.parse(body).messages
    outcomes = at_once([lambda: flows.handle(monitoreo, m)] * 4)
    assert raised(outcomes) == []
    assert Note.objects.filter(external_id="wamid.RACE").count() == 1
    assert Case.objects.count() == 1 and ProcessedMessage.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_new_hidden_number_writing_to_four_workers_at_once_is_one_contact(graph, monitoreo):
    """Four different first messages of a user known only by BSUID, processed at once."""
    from atiende.customers.models import Contact

    messages = [
        inbound.parse(
            simulate.text_notification(
                phone_number_id=MONITOREO_ID,
                display_phone_number="573184872656",
                wa_id="",
                user_id="US.13491208655302741918",
                text=f"Mensaje {i}",
                message_id=f"wamid.BSUID{i}",
            )
        ).messages[0]
        for i in range(4)
    ]
    outcomes = at_once([lambda m=m: flows.handle(monitoreo, m) for m in messages])
    assert raised(outcomes) == []
    assert Contact.objects.filter(whatsapp_user_id="US.13491208655302741918").count() == 1
    assert Contact.objects.count() == 1
    assert Case.objects.count() == 1
    assert Note.objects.filter(direction="inbound").count() == 4


def _corporate(text, message_id, reply_id=None):
    from atiende.channels.whatsapp.tests.conftest import CORPORATIVO_ID

    body = simulate.text_notification(
        phone_number_id=CORPORATIVO_ID,
        display_phone_number="573168731648",
        wa_id="573001234567",
        text=text,
        reply_id=reply_id,
        message_id=message_id,
    )
    return inbound.parse(body).messages[0]


@pytest.mark.django_db(transaction=True)
def test_an_agent_looking_while_the_customer_chooses_stores_each_held_message_once(
    graph, corporativo
):
    from atiende.channels.whatsapp import services
    from atiende.channels.whatsapp.models import Conversation, HeldMessage

    flows.handle(corporativo, _corporate("Necesito un certificado", "wamid.H1"))
    flows.handle(corporativo, _corporate("Para la sede de Cali", "wamid.H2"))
    conv = Conversation.objects.get()
    choice = _corporate("", "wamid.CHOICE", reply_id="menu:solicitud")
    outcomes = at_once(
        [lambda: services.flush_pending(conv), lambda: flows.handle(corporativo, choice)]
    )
    assert raised(outcomes) == []
    for mid in ("wamid.H1", "wamid.H2"):
        assert Note.objects.filter(external_id=mid).count() == 1
    assert Case.objects.count() == 1 and not HeldMessage.objects.exists()
