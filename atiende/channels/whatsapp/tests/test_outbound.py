"""Outbound through the Graph peer: text, media, templates, retries and permanent errors."""

import datetime as dt

import pytest

from atiende.cases import services as cases
from atiende.cases.models import Note
from atiende.channels.models import Notification
from atiende.core.models import AuditEntry
from atiende.worker import queue
from atiende.worker.models import Job

pytestmark = pytest.mark.usefixtures("_frozen")


@pytest.fixture
def chat(meta, monitoreo, graph):
    """A customer wrote on the monitoring line at T0: case CS0000001, window open."""
    meta.text("Caído")
    queue.run_pending(500)
    graph.requests.clear()
    from atiende.cases.models import Case

    return Case.objects.get()


def answer(case, agent, text="Ya estamos revisando."):
    note = cases.add_note(case=case, actor=agent, body_text=text)
    queue.run_pending(50)
    note.refresh_from_db()
    return note


def test_an_answer_inside_the_window_goes_as_text_and_keeps_the_message_id(chat, agent, graph):
    note = answer(chat, agent)
    [sent] = graph.sends()
    assert sent == {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": "573001234567",
        "type": "text",
        "text": {"body": "Ya estamos revisando.", "preview_url": False},
    }
    assert note.delivery_status == "sent" and note.external_id.startswith("wamid.OUT")
    assert graph.requests[0].headers["Authorization"] == f"Bearer {graph.token}"


def test_a_429_is_retried_with_backoff_then_sent(chat, agent, graph, _frozen):
    graph.fail_next(429, 130429, "Rate limit hit", times=2)
    note = answer(chat, agent)
    assert note.delivery_status == "pending"
    job = Job.objects.filter(kind="deliver_note").latest("id")
    assert job.status == "pending" and "130429" in job.last_error
    for _ in range(2):
        _frozen.advance(minutes=1)
        queue.run_pending(50)
    note.refresh_from_db()
    assert note.delivery_status == "sent" and len(graph.sends()) == 3


def test_a_server_error_is_temporary(chat, agent, graph, _frozen):
    graph.fail_next(500, 1, "An unknown error occurred")
    note = answer(chat, agent)
    assert note.delivery_status == "pending"
    _frozen.advance(minutes=1)
    queue.run_pending(50)
    note.refresh_from_db()
    assert note.delivery_status == "sent"


def test_an_undeliverable_number_fails_at_once_with_the_reason_on_the_note(chat, agent, graph):
    graph.fail_next(400, 131026, "Message undeliverable")
    note = answer(chat, agent)
    assert note.delivery_status == "failed"
    assert "131026" in note.delivery_error and "otro canal" in note.delivery_error
    assert "TRACE131026" in note.delivery_error
    assert len(graph.sends()) == 1


def test_outside_the_24_hour_window_the_template_goes_instead(chat, agent, graph, _frozen):
    _frozen.advance(hours=25)
    note = answer(chat, agent, "Su caso quedó resuelto.")
    [sent] = graph.sends()
    assert sent["type"] == "template" and sent["template"]["name"] == "caso_actualizado"
    assert sent["template"]["language"] == {"code": "es_CO"}
    assert [p["text"] for p in sent["template"]["components"][0]["parameters"]] == [
        "CS0000001",
        "Su caso quedó resuelto.",
    ]
    assert note.delivery_status == "sent"
    why = AuditEntry.objects.get(action="note.sent_as_template")
    assert "24 horas" in why.changes["reason"]


def test_when_meta_says_the_window_closed_the_template_goes_instead(chat, agent, graph):
    graph.fail_next(400, 131047, "Re-engagement message")
    note = answer(chat, agent)
    assert [s["type"] for s in graph.sends()] == ["text", "template"]
    assert note.delivery_status == "sent"


def test_the_channel_names_its_own_template(chat, agent, graph, _frozen, monitoreo):
    monitoreo.settings |= {"template_note": "respuesta_caso", "template_language": "es"}
    monitoreo.save()
    _frozen.advance(days=2)
    answer(chat, agent)
    assert graph.sends()[0]["template"]["name"] == "respuesta_caso"
    assert graph.sends()[0]["template"]["language"]["code"] == "es"


def test_a_public_attachment_is_uploaded_and_sent_as_media(chat, agent, graph):
    note = cases.add_note(case=chat, actor=agent, body_text="Adjunto el procedimiento.")
    cases.add_attachment(
        case=chat, note=note, filename="procedimiento.pdf", chunks=[b"%PDF-1.4 doc"], actor=agent
    )
    queue.run_pending(50)
    uploads = [r for r in graph.requests if r.path.endswith("/media")]
    assert len(uploads) == 1 and b"procedimiento.pdf" in uploads[0].body
    kinds = [s["type"] for s in graph.sends()]
    assert kinds == ["document", "text"]
    assert graph.sends()[0]["document"]["filename"] == "procedimiento.pdf"


def test_a_contact_without_whatsapp_fails_permanently(monitoreo, graph, agent, acme):
    from atiende.customers import services as customers

    contact = customers.create_contact(name="Sin WA", organization=acme, emails=["sin@acme.com.co"])
    case = cases.open_case(
        actor=agent,
        channel=monitoreo,
        subject="x",
        requester=contact,
        type="incident",
        priority="critical",
    )
    note = answer(case, agent)
    assert note.delivery_status == "failed" and "no tiene número de WhatsApp" in note.delivery_error


def test_a_channel_without_phone_number_id_fails_permanently(chat, agent, monkeypatch):
    monkeypatch.delenv("ATIENDE_WA_MONITOREO_PHONE_NUMBER_ID")
    note = answer(chat, agent)
    assert (
        note.delivery_status == "failed"
        and "ATIENDE_WA_MONITOREO_PHONE_NUMBER_ID" in note.delivery_error
    )


def test_an_expired_token_is_permanent(chat, agent, graph, monkeypatch):
    monkeypatch.setenv("ATIENDE_WHATSAPP_ACCESS_TOKEN", "vencido")
    note = answer(chat, agent)
    assert note.delivery_status == "failed" and "(190)" in note.delivery_error


def test_graph_unreachable_is_temporary(chat, agent, monkeypatch):
    monkeypatch.setenv("ATIENDE_WHATSAPP_GRAPH_URL", "http://127.0.0.1:9/v25.0")
    note = answer(chat, agent)
    assert note.delivery_status == "pending"
    assert "no disponible" in Job.objects.filter(kind="deliver_note").latest("id").last_error


def test_staff_notifications_always_use_a_template(chat, graph):
    queue.enqueue(
        "notify",
        {
            "case_id": chat.pk,
            "event": "escalation.requested",
            "subject": "Escalamiento CS0000001",
            "body": "Se solicitó escalar",
            "recipients": [{"kind": "whatsapp", "address": "+57 318 717 4937", "name": "Nelson"}],
        },
    )
    queue.run_pending(50)
    [sent] = graph.sends()
    assert sent["to"] == "573187174937" and sent["type"] == "template"
    assert sent["template"]["name"] == "aviso_mesa_de_ayuda"
    n = Notification.objects.get(address="+573187174937")  # stored in E.164
    assert n.status == "sent" and n.external_id.startswith("wamid.OUT")


def test_read_receipts_are_sent_for_inbound_messages(meta, monitoreo, graph):
    wamid = meta.text("Caído")
    queue.run_pending(500)
    assert graph.reads() == [wamid]
    assert Note.objects.filter(external_id=wamid).exists()


# -- media by link ---------------------------------------------------------------------------


@pytest.fixture
def by_link(monitoreo, monkeypatch):
    monkeypatch.setenv("ATIENDE_PUBLIC_URL", "https://mesa.example.test/")
    monitoreo.settings |= {"media_by_link": True}
    monitoreo.save()
    return monitoreo


def _attach(case, agent, name="procedimiento.pdf", content=b"%PDF-1.4 doc", public=True):
    note = cases.add_note(case=case, actor=agent, body_text="Adjunto el procedimiento.")
    att = cases.add_attachment(
        case=case, note=note, filename=name, chunks=[content], actor=agent, public=public
    )
    return note, att


def test_media_by_link_sends_a_signed_link_meta_can_fetch_and_uploads_nothing(
    chat, agent, graph, by_link, client
):
    note, _ = _attach(chat, agent)
    cases.add_attachment(
        case=chat,
        note=note,
        filename="pantallazo.png",
        chunks=[b"\x89PNG\r\n\x1a\n img"],
        actor=agent,
    )
    queue.run_pending(50)
    assert [r for r in graph.requests if r.path.endswith("/media")] == []
    doc, image, text = graph.sends()
    assert (doc["type"], image["type"], text["type"]) == ("document", "image", "text")
    assert set(doc["document"]) == {"link", "filename"}
    assert doc["document"]["filename"] == "procedimiento.pdf"
    assert set(image["image"]) == {"link"}
    link = doc["document"]["link"]
    assert link.startswith("https://mesa.example.test/webhooks/whatsapp/media/")
    assert link.endswith("/procedimiento.pdf")
    # What Meta gets when it fetches the link: the file, without any credential.
    resp = client.get(link.removeprefix("https://mesa.example.test"))
    assert resp.status_code == 200 and b"".join(resp.streaming_content) == b"%PDF-1.4 doc"
    assert resp["Content-Type"] == "application/pdf"
    got = client.get(image["image"]["link"].removeprefix("https://mesa.example.test"))
    assert b"".join(got.streaming_content) == b"\x89PNG\r\n\x1a\n img"


def test_a_tampered_or_expired_media_link_is_not_found(
    chat, agent, graph, by_link, client, monkeypatch
):
    from atiende.channels.whatsapp import media_links

    _, att = _attach(chat, agent)
    path = media_links.link_for(att).removeprefix("https://mesa.example.test")
    token = path.split("/")[-2]
    assert client.get(path.replace(token, token[:-2] + "xx")).status_code == 404
    assert client.get("/webhooks/whatsapp/media/nada/procedimiento.pdf").status_code == 404
    monkeypatch.setattr(media_links, "MAX_AGE", dt.timedelta(seconds=-1))
    assert client.get(path).status_code == 404


def test_an_internal_attachment_has_no_working_link(chat, agent, by_link, client):
    from atiende.channels.whatsapp import media_links

    _, att = _attach(chat, agent, name="interno.pdf", public=False)
    path = media_links.link_for(att).removeprefix("https://mesa.example.test")
    assert client.get(path).status_code == 404


def test_media_by_link_without_a_public_url_uploads_instead(
    chat, agent, graph, by_link, monkeypatch
):
    monkeypatch.delenv("ATIENDE_PUBLIC_URL")
    _attach(chat, agent)
    queue.run_pending(50)
    assert len([r for r in graph.requests if r.path.endswith("/media")]) == 1
    assert set(graph.sends()[0]["document"]) == {"id", "filename"}
