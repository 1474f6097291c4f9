"""Users who hide their number: WhatsApp sends a business-scoped user id (BSUID) instead.

They become contacts keyed by the BSUID, open and join cases, and an answer to them fails
with a reason an agent can act on (atiende addresses sends by number only); a user seen
with the number and later with both ids stays one contact.
"""

import copy

import pytest

from atiende.cases import services as cases
from atiende.cases.models import Case, Note
from atiende.channels.whatsapp import inbound
from atiende.channels.whatsapp.models import Conversation
from atiende.channels.whatsapp.tests.conftest import CORPORATIVO_ID, fixture, run
from atiende.core import clock
from atiende.customers import services as customers
from atiende.customers.models import Contact

BSUID = "US.13491208655302741918"


pytestmark = pytest.mark.usefixtures("_frozen")


def post(meta, name: str, *, message_id: str, text: str | None = None, line: str = "monitoreo"):
    """Post a fixture as a fresh notification (now, with its own message id)."""
    body = copy.deepcopy(fixture(name))
    value = body["entry"][0]["changes"][0]["value"]
    if line == "corporativo":
        value["metadata"] = {
            "display_phone_number": "573168731648",
            "phone_number_id": CORPORATIVO_ID,
        }
    [m] = value["messages"]
    m["id"], m["timestamp"] = message_id, str(int(clock.now().timestamp()))
    if text is not None:
        m["text"]["body"] = text
    resp = meta.post(body)
    assert resp.status_code == 200
    run()


# -- parsing (no database) -----------------------------------------------------------------


def test_a_message_with_only_the_user_id_reads_with_the_username_and_no_number():
    [m] = inbound.parse(fixture("text_user_id_only.json")).messages
    assert (m.wa_id, m.user_id, m.name, m.username) == ("", BSUID, "ana.gomez", "ana.gomez")
    assert m.text == "Hola, no puedo firmar documentos"


def test_a_message_with_both_ids_keeps_both():
    [m] = inbound.parse(fixture("text_user_id_and_number.json")).messages
    assert (m.wa_id, m.user_id, m.name) == ("573001234567", BSUID, "Ana Gómez")


def test_the_user_id_is_taken_from_contacts_when_the_message_has_only_from():
    body = fixture("text_user_id_and_number.json")
    del body["entry"][0]["changes"][0]["value"]["messages"][0]["from_user_id"]
    [m] = inbound.parse(body).messages
    assert (m.wa_id, m.user_id) == ("573001234567", BSUID)


# -- contacts and cases --------------------------------------------------------------------


@pytest.mark.django_db
def test_a_hidden_number_becomes_a_contact_keyed_by_the_user_id(meta, monitoreo, graph):
    post(meta, "text_user_id_only.json", message_id="wamid.A1")
    case = Case.objects.get()
    assert (case.type, case.priority) == ("incident", "critical")
    contact = case.requester
    assert (contact.whatsapp_user_id, contact.whatsapp_id, contact.name) == (
        BSUID,
        None,
        "ana.gomez",
    )
    assert not contact.phones.exists()
    assert Conversation.objects.get().user_id == BSUID
    # The on-call was paged; nothing was addressed to the user (no number to send to).
    tos = [s["to"] for s in graph.sends()]
    assert "573005550001" in tos and all(tos)


@pytest.mark.django_db
def test_the_next_message_of_a_hidden_number_joins_its_open_case(meta, monitoreo, graph):
    post(meta, "text_user_id_only.json", message_id="wamid.A1")
    post(meta, "text_user_id_only.json", message_id="wamid.A2", text="Sigue caído")
    case = Case.objects.get()
    assert Contact.objects.count() == 1
    assert list(case.notes.filter(direction="inbound").values_list("body_text", flat=True)) == [
        "Hola, no puedo firmar documentos",
        "Sigue caído",
    ]


@pytest.mark.django_db
def test_a_hidden_number_on_the_corporate_line_opens_a_case_instead_of_a_menu(
    meta, corporativo, graph
):
    post(meta, "text_user_id_only.json", message_id="wamid.C1", line="corporativo")
    post(
        meta,
        "text_user_id_only.json",
        message_id="wamid.C2",
        text="¿Hay novedades?",
        line="corporativo",
    )
    case = Case.objects.get()
    assert case.requester.whatsapp_user_id == BSUID
    assert case.notes.filter(direction="inbound").count() == 2
    assert [s for s in graph.sends() if s.get("type") == "interactive"] == []


@pytest.mark.django_db
def test_a_contact_seen_by_number_and_then_with_both_ids_stays_one_contact(meta, monitoreo, graph):
    meta.text("Caído")
    run()
    first = Contact.objects.get()
    assert (first.whatsapp_id, first.whatsapp_user_id) == ("573001234567", None)
    post(meta, "text_user_id_and_number.json", message_id="wamid.B1")
    post(meta, "text_user_id_only.json", message_id="wamid.B2", text="Ahora sin número")
    contact = Contact.objects.get()
    assert contact.pk == first.pk
    assert (contact.whatsapp_id, contact.whatsapp_user_id) == ("573001234567", BSUID)
    assert (
        Case.objects.count() == 1
        and Case.objects.get().notes.filter(direction="inbound").count() == 3
    )
    conv = Conversation.objects.get()
    assert (conv.wa_id, conv.user_id) == ("573001234567", BSUID)


@pytest.mark.django_db
def test_a_contact_first_seen_with_the_user_id_gets_the_number_when_it_shows_up(
    meta, monitoreo, graph
):
    post(meta, "text_user_id_only.json", message_id="wamid.D1")
    post(meta, "text_user_id_and_number.json", message_id="wamid.D2")
    contact = Contact.objects.get()
    assert (contact.whatsapp_id, contact.whatsapp_user_id) == ("573001234567", BSUID)
    assert contact.phones.get().number == "+573001234567"
    assert Conversation.objects.get().wa_id == "573001234567"


# -- answers -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_an_answer_to_a_hidden_number_fails_with_the_reason(meta, monitoreo, graph, agent):
    post(meta, "text_user_id_only.json", message_id="wamid.E1")
    case = Case.objects.get()
    ack = case.notes.get(direction="outbound")
    assert ack.delivery_status == "failed" and "oculta su número" in ack.delivery_error
    graph.requests.clear()
    note = cases.add_note(case=case, actor=agent, body_text="Ya lo revisamos.")
    run()
    note = Note.objects.get(pk=note.pk)
    assert note.delivery_status == "failed"
    assert BSUID in note.delivery_error and "otro canal" in note.delivery_error
    assert graph.sends() == []


@pytest.mark.django_db
def test_an_answer_to_a_user_with_both_ids_goes_to_the_number_in_the_window(
    meta, monitoreo, graph, agent
):
    post(meta, "text_user_id_and_number.json", message_id="wamid.F1")
    post(meta, "text_user_id_only.json", message_id="wamid.F2", text="Escribo sin número")
    case = Case.objects.get()
    graph.requests.clear()
    note = cases.add_note(case=case, actor=agent, body_text="Ya lo revisamos.")
    run()
    [sent] = graph.sends()
    assert sent["to"] == "573001234567" and sent["type"] == "text"  # free text: window open
    assert Note.objects.get(pk=note.pk).delivery_status == "sent"


@pytest.mark.django_db
def test_a_whatsapp_contact_service_refuses_a_sender_without_ids():
    from atiende.core.errors import InvalidInput

    with pytest.raises(InvalidInput):
        customers.find_or_create_whatsapp_contact(wa_id=None, user_id=None)


@pytest.mark.django_db
def test_number_then_hidden_then_both_ends_in_one_conversation_that_can_be_answered(
    meta, corporativo, graph, _frozen
):
    meta.text("Hola", line="corporativo")  # an old payload: number only
    run()
    _frozen.advance(minutes=5)
    post(meta, "text_user_id_only.json", message_id="wamid.G1", line="corporativo")
    assert Conversation.objects.count() == 2  # nothing links a BSUID-only message to a number
    _frozen.advance(minutes=5)
    post(meta, "text_user_id_and_number.json", message_id="wamid.G2", line="corporativo")
    conv = Conversation.objects.get()
    assert (conv.wa_id, conv.user_id) == ("573001234567", BSUID)
    assert conv.last_inbound_id == "wamid.G2"
