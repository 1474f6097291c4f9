"""What a customer sends on the corporate line before choosing from the menu is held (stored
in the adapter's table, with its media) and lands on the case, in order, once."""

import pytest

from atiende.cases.models import Attachment, Case, Note
from atiende.channels.whatsapp import flows, inbound, services, simulate
from atiende.channels.whatsapp.models import Conversation, HeldMessage, ProcessedMessage, Step
from atiende.channels.whatsapp.tests.conftest import CORPORATIVO_ID, T0, run
from atiende.worker import queue
from atiende.worker.models import Job

pytestmark = pytest.mark.usefixtures("_frozen")

IMAGE_ID = "3013859600285441"


def image(meta, caption: str, *, media_id: str = IMAGE_ID, message_id: str | None = None):
    """A signed notification of an image with a caption from Ana on the corporate line."""
    from atiende.core import clock

    m = simulate.message(
        wa_id="573001234567",
        message_id=message_id,
        timestamp=int(clock.now().timestamp()),
        extra={
            "type": "image",
            "image": {"id": media_id, "mime_type": "image/jpeg", "caption": caption},
        },
    )
    m.pop("text", None)
    body = simulate.envelope(
        phone_number_id=CORPORATIVO_ID,
        display_phone_number="573168731648",
        messages=[m],
        contacts=[{"profile": {"name": "Ana Gómez"}, "wa_id": "573001234567"}],
    )
    assert meta.post(body).status_code == 200
    return m["id"]


def test_an_image_and_a_text_sent_before_choosing_both_land_on_the_new_case(
    meta, corporativo, graph, _frozen
):
    graph.media[IMAGE_ID] = (b"\xff\xd8\xff\xe0foto-del-error", "image/jpeg")
    first = image(meta, "Foto del error al firmar")
    run()
    menu = graph.sends()[-1]
    assert menu["type"] == "interactive" and menu["interactive"]["type"] == "list"
    _frozen.advance(seconds=20)
    second = meta.text("Además no me deja firmar", line="corporativo")
    _frozen.advance(seconds=20)
    meta.text("", line="corporativo", reply_id="menu:solicitud")
    run()
    case = Case.objects.get()
    notes = list(case.notes.filter(direction="inbound").order_by("created_at", "id"))
    assert [n.external_id for n in notes] == [first, second]
    assert notes[0].body_text == "[Imagen] Foto del error al firmar"
    assert notes[1].body_text == "Además no me deja firmar"
    assert (case.type, case.subject) == ("request", "[Imagen] Foto del error al firmar")
    att = Attachment.objects.get()
    assert att.note == notes[0] and att.size == len(b"\xff\xd8\xff\xe0foto-del-error")
    assert any(IMAGE_ID in r.path for r in graph.requests if "/cdn/" in r.path)


def inbound_notes(case):
    return list(case.notes.filter(direction="inbound").order_by("created_at", "id"))


def test_held_messages_open_an_incident_when_the_customer_reports_one(meta, corporativo, graph):
    a = meta.text("El portal no carga", line="corporativo")
    b = meta.text("Tampoco la app", line="corporativo")
    meta.text("", line="corporativo", reply_id="menu:incidente")
    run()
    case = Case.objects.get()
    assert case.type == "incident" and case.subject == "El portal no carga"
    assert [n.external_id for n in inbound_notes(case)] == [a, b]
    assert not HeldMessage.objects.exists()
    assert Conversation.objects.get().step == Step.IDLE


def test_held_messages_reach_the_agents_when_the_customer_asks_for_one(meta, corporativo, graph):
    a = meta.text("Quiero hablar con alguien", line="corporativo")
    meta.text("", line="corporativo", reply_id="menu:agente")
    run()
    case = Case.objects.get()
    assert [n.external_id for n in inbound_notes(case)] == [a]
    assert graph.sends()[-1]["text"]["body"].startswith("Un agente de servicio le responderá")


def test_asking_for_a_status_keeps_the_held_messages_for_the_choice(meta, corporativo, graph):
    a = meta.text("Necesito un certificado", line="corporativo")
    meta.text("", line="corporativo", reply_id="menu:estado")
    meta.text("CS0009999", line="corporativo")
    run()
    assert not Case.objects.exists()
    assert Conversation.objects.get().step == Step.HOLDING
    assert HeldMessage.objects.get().message_id == a
    meta.text("", line="corporativo", reply_id="menu:solicitud")
    run()
    assert [n.external_id for n in inbound_notes(Case.objects.get())] == [a]


def test_a_menu_word_shows_the_menu_and_is_not_held(meta, corporativo, graph):
    a = meta.text("Necesito un certificado", line="corporativo")
    meta.text("menú", line="corporativo")
    run()
    assert [h.message_id for h in HeldMessage.objects.all()] == [a]
    assert [s["interactive"]["type"] for s in graph.sends()] == ["list", "list"]


def test_a_redelivered_held_message_is_held_once_and_stored_once(meta, corporativo, graph):
    body = simulate.text_notification(
        phone_number_id=CORPORATIVO_ID,
        display_phone_number="573168731648",
        wa_id="573001234567",
        text="Necesito un certificado",
        message_id="wamid.HELD1",
        timestamp=int(T0.timestamp()),
    )
    meta.post(body)
    meta.post(body)
    run()
    meta.post(body)  # again after it was held
    run()
    assert HeldMessage.objects.count() == 1
    meta.text("", line="corporativo", reply_id="menu:solicitud")
    run()
    meta.post(body)  # and after it was stored
    run()
    assert Note.objects.filter(external_id="wamid.HELD1").count() == 1
    assert not HeldMessage.objects.exists() and Case.objects.count() == 1


def test_held_messages_are_stored_with_the_job_that_brought_them(meta, corporativo, graph):
    """What the webhook acknowledged is in the database once its job ran: the held row keeps
    the whole message, media id included, so a process that dies afterwards loses nothing."""
    graph.media[IMAGE_ID] = (b"\xff\xd8\xff\xe0x", "image/jpeg")
    mid = image(meta, "Foto")
    run()
    held = HeldMessage.objects.get()
    assert held.message_id == mid and held.message["media"]["id"] == IMAGE_ID
    assert held.message["text"] == "[Imagen] Foto"
    assert Job.objects.get(kind="whatsapp.webhook").status == "done"
    assert not any("/cdn/" in r.path for r in graph.requests)  # fetched once it is stored


def test_a_handler_that_dies_mid_message_holds_nothing_and_a_retry_holds_it_once(
    corporativo, graph
):
    from django.db import transaction

    body = simulate.text_notification(
        phone_number_id=CORPORATIVO_ID,
        display_phone_number="573168731648",
        wa_id="573001234567",
        text="Necesito un certificado",
        message_id="wamid.CRASH",
        timestamp=int(T0.timestamp()),
    )
    [m] = inbound.parse(body).messages

    class Died(Exception):
        pass

    with pytest.raises(Died), transaction.atomic():  # the job's transaction
        flows.handle(corporativo, m)
        assert HeldMessage.objects.count() == 1
        raise Died
    assert not HeldMessage.objects.exists() and not ProcessedMessage.objects.exists()
    flows.handle(corporativo, m)  # another worker takes the job when the lease ends
    flows.handle(corporativo, m)
    assert HeldMessage.objects.count() == 1


def test_held_messages_that_wait_too_long_reach_a_case_with_their_media(
    meta, corporativo, graph, _frozen
):
    graph.media[IMAGE_ID] = (b"\xff\xd8\xff\xe0foto", "image/jpeg")
    first = image(meta, "Foto del error")
    _frozen.advance(minutes=5)
    second = meta.text("Además no me deja firmar", line="corporativo")
    run()
    _frozen.advance(minutes=25)  # 30 minutes after the first message, minus a second
    _frozen.advance(seconds=-1)
    assert services.flush_due() == 0
    assert not Case.objects.exists()
    _frozen.advance(seconds=1)
    assert services.flush_due() == 1
    run()
    case = Case.objects.get()
    assert case.type == "request"  # the configured default type
    assert [n.external_id for n in inbound_notes(case)] == [first, second]
    assert Attachment.objects.get().note.external_id == first
    assert "CS0000001" in graph.sends()[-1]["text"]["body"]  # the acknowledgement
    assert Conversation.objects.get().step == Step.IDLE and not HeldMessage.objects.exists()
    meta.text("Gracias", line="corporativo")  # now talks on the case
    run()
    assert len(inbound_notes(case)) == 3 and Case.objects.count() == 1


def test_the_worker_releases_held_messages_after_the_channels_wait(meta, corporativo, _frozen):
    corporativo.settings |= {"menu_wait_minutes": 5}
    corporativo.save()
    meta.text("Necesito un certificado", line="corporativo")
    run()
    queue.ensure_periodic()
    _frozen.advance(minutes=4)
    queue.run_periodic()
    assert not Case.objects.exists()
    _frozen.advance(minutes=2)
    queue.run_periodic()
    assert Case.objects.get().subject == "Necesito un certificado"


def test_an_agent_looking_releases_held_messages_at_once(meta, corporativo, graph):
    a = meta.text("Necesito un certificado", line="corporativo")
    run()
    conv = Conversation.objects.get()
    assert services.flush_pending(conv) is not None
    assert [n.external_id for n in inbound_notes(Case.objects.get())] == [a]
    assert services.flush_pending(conv) is None  # nothing left
    assert Case.objects.count() == 1


def test_releasing_for_a_contact_joins_their_open_case(meta, corporativo, graph, agent, acme):
    from atiende.cases import services as cases
    from atiende.customers import services as customers

    a = meta.text("Necesito un certificado", line="corporativo")
    run()
    ana = customers.create_contact(name="Ana", organization=acme, phones=["+573001234567"])
    from atiende.customers.models import Contact

    ana = Contact.objects.get(pk=ana.pk)
    case = cases.open_case(
        actor=agent, channel=corporativo, subject="Abierto por un agente", requester=ana
    )
    assert services.flush_pending_for(ana) == 1
    assert [n.external_id for n in inbound_notes(case)] == [a]
    assert Case.objects.count() == 1
