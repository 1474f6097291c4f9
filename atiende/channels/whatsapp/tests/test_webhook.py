"""The webhook end to end: signed posts → inbox job → one door → notes, with the Graph peer."""

import datetime as dt
import json

import pytest

from atiende.cases.models import Attachment, Case, Note
from atiende.channels.models import Notification
from atiende.channels.whatsapp import simulate
from atiende.channels.whatsapp.models import Conversation
from atiende.channels.whatsapp.tests.conftest import (
    CORPORATIVO_ID,
    MONITOREO_ID,
    SECRET,
    T0,
    fixture,
    run,
)
from atiende.worker import queue
from atiende.worker.models import Job

pytestmark = pytest.mark.usefixtures("_frozen")


def test_the_handshake_echoes_the_challenge_only_for_our_token(client, graph):
    ok = client.get(
        "/webhooks/whatsapp",
        {"hub.mode": "subscribe", "hub.verify_token": "verificame", "hub.challenge": "1158201444"},
    )
    assert (ok.status_code, ok.content) == (200, b"1158201444")
    for params in (
        {"hub.mode": "subscribe", "hub.verify_token": "otro", "hub.challenge": "1"},
        {"hub.verify_token": "verificame", "hub.challenge": "1"},
        {},
    ):
        assert client.get("/webhooks/whatsapp", params).status_code == 403


@pytest.mark.parametrize(
    "signature",
    [None, "", "sha256=", "sha1=abc", "sha256=" + "0" * 64, simulate.sign("otro-secreto", b"x")],
)
def test_a_missing_or_wrong_signature_is_403_and_nothing_is_stored(meta, monitoreo, signature):
    resp = meta.post_raw(simulate.encode(fixture("text.json")), signature=signature)
    assert resp.status_code == 403
    assert not Job.objects.exists()


def test_a_body_changed_after_signing_is_refused(meta, monitoreo):
    raw = simulate.encode(fixture("text.json"))
    resp = meta.post_raw(
        raw.replace(b"no responde", b"ya responde"), signature=simulate.sign(SECRET, raw)
    )
    assert resp.status_code == 403


@pytest.mark.parametrize(
    "raw", [b"{not json", b"", b"[]", b'{"object": "page"}', "\u00e1".encode("latin-1")]
)
def test_malformed_bodies_are_answered_without_a_500_and_not_queued(meta, monitoreo, raw):
    assert meta.post_raw(raw).status_code == 200
    assert not Job.objects.exists()


def test_a_signed_message_is_acknowledged_then_stored_by_the_worker(meta, monitoreo, graph):
    resp = meta.text("El portal de firma no carga")
    assert resp and not Case.objects.exists()  # only the inbox job so far
    assert Job.objects.filter(kind="whatsapp.webhook").count() == 1
    run()
    case = Case.objects.get()
    assert (case.type, case.priority, case.channel.slug) == (
        "incident",
        "critical",
        "whatsapp-monitoreo",
    )
    assert case.requester.whatsapp_id == "573001234567" and case.requester.name == "Ana Gómez"
    inbound_note = case.notes.get(direction="inbound")
    assert (
        inbound_note.body_text == "El portal de firma no carga" and inbound_note.external_id == resp
    )


def test_accented_text_is_verified_over_the_raw_bytes(meta, monitoreo):
    body = simulate.text_notification(
        phone_number_id=MONITOREO_ID,
        display_phone_number="573184872656",
        wa_id="573001234567",
        text="Señal caída en Bogotá 🚨",
        timestamp=int(T0.timestamp()),
    )
    raw = json.dumps(body, ensure_ascii=True).encode()  # Meta escapes as \uXXXX
    assert meta.post_raw(raw).status_code == 200
    run()
    assert Note.objects.get(direction="inbound").body_text == "Señal caída en Bogotá 🚨"


def test_the_same_message_delivered_many_times_is_one_note(meta, monitoreo, graph):
    body = simulate.text_notification(
        phone_number_id=MONITOREO_ID,
        display_phone_number="573184872656",
        wa_id="573001234567",
        text="Caído",
        message_id="wamid.DUP1",
        timestamp=int(T0.timestamp()),
    )
    for _ in range(3):
        assert meta.post(body).status_code == 200
    run()
    assert meta.post(body).status_code == 200  # and once more after it was processed
    run()
    assert Note.objects.filter(external_id="wamid.DUP1").count() == 1
    assert Case.objects.count() == 1
    assert len(graph.reads()) == 1  # marked as read once


def test_out_of_order_messages_are_both_kept_and_the_window_follows_the_latest(meta, monitoreo):
    late = int(T0.timestamp())
    meta.text("segundo", message_id="wamid.B", timestamp=late)
    meta.text("primero", message_id="wamid.A", timestamp=late - 60)
    run()
    case = Case.objects.get()
    assert set(case.notes.filter(direction="inbound").values_list("body_text", flat=True)) == {
        "primero",
        "segundo",
    }
    conv = Conversation.objects.get()
    assert conv.last_inbound_id == "wamid.B" and conv.last_inbound_at == T0


def test_a_replayed_old_body_is_dropped(meta, monitoreo):
    meta.text("viejo", timestamp=int((T0 - dt.timedelta(days=9)).timestamp()))
    run()
    assert not Note.objects.exists()


def test_messages_for_an_unknown_number_are_logged_and_dropped(meta, monitoreo, caplog):
    body = simulate.text_notification(
        phone_number_id="999",
        display_phone_number="15550000000",
        wa_id="573001234567",
        text="hola",
        timestamp=int(T0.timestamp()),
    )
    assert meta.post(body).status_code == 200
    run()
    assert not Note.objects.exists()
    assert "unknown number" in caplog.text


def test_without_a_phone_number_id_the_display_number_routes(meta, monitoreo, monkeypatch):
    monkeypatch.delenv("ATIENDE_WA_MONITOREO_PHONE_NUMBER_ID")
    body = simulate.text_notification(
        phone_number_id="555",
        display_phone_number="573184872656",
        wa_id="573001234567",
        text="hola",
        timestamp=int(T0.timestamp()),
    )
    meta.post(body)
    queue.run_pending(1)  # the inbox only: sending needs the id
    assert Case.objects.get().channel == monitoreo


def test_a_batch_of_two_senders_makes_two_cases(meta, monitoreo):
    body = fixture("batch.json")
    for entry in body["entry"]:
        for m in entry["changes"][0]["value"]["messages"]:
            m["timestamp"] = str(int(T0.timestamp()))
    meta.post(body)
    run()
    assert sorted(Case.objects.values_list("requester__whatsapp_id", flat=True)) == [
        "573001234567",
        "573009998877",
    ]


def test_a_known_number_is_linked_to_its_organization(meta, monitoreo, acme):
    from atiende.customers import services as customers

    customers.create_contact(name="Ana", organization=acme, phones=["+57 300 123 4567"])
    meta.text("Caído")
    run()
    case = Case.objects.get()
    assert case.organization == acme and case.requester.whatsapp_id == "573001234567"


def _status_body(statuses):
    for s in statuses:
        s.setdefault("timestamp", str(int(T0.timestamp())))
        s.setdefault("recipient_id", "573001234567")
    return simulate.envelope(
        phone_number_id=MONITOREO_ID, display_phone_number="573184872656", statuses=statuses
    )


def test_status_notifications_move_the_note_forward_never_back(meta, monitoreo, graph):
    meta.text("Caído")
    run()
    ack = Note.objects.get(automatic=True, direction="outbound")
    assert ack.delivery_status == "sent" and ack.external_id.startswith("wamid.OUT")
    meta.post(_status_body([{"id": ack.external_id, "status": "read"}]))
    meta.post(_status_body([{"id": ack.external_id, "status": "delivered"}]))
    run()
    ack.refresh_from_db()
    assert ack.delivery_status == "read"


def test_a_failed_status_shows_the_error_on_the_note(meta, monitoreo, graph):
    meta.text("Caído")
    run()
    ack = Note.objects.get(automatic=True, direction="outbound")
    failed = {
        "id": ack.external_id,
        "status": "failed",
        "errors": [
            {"code": 131026, "title": "Message undeliverable", "message": "Message undeliverable"}
        ],
    }
    meta.post(_status_body([failed]))
    run()
    ack.refresh_from_db()
    assert ack.delivery_status == "failed" and "131026" in ack.delivery_error


def test_a_text_that_failed_for_the_closed_window_goes_again_as_the_template(
    meta, monitoreo, graph
):
    meta.text("Caído")
    run()
    ack = Note.objects.get(automatic=True, direction="outbound")
    failed = fixture("statuses.json")["entry"][0]["changes"][0]["value"]["statuses"][1] | {
        "id": ack.external_id,
        "timestamp": str(int(T0.timestamp())),
    }
    meta.post(_status_body([failed]))
    meta.post(_status_body([dict(failed)]))  # redelivered: still one template
    run()
    ack.refresh_from_db()
    templates = [s for s in graph.sends() if s["type"] == "template" and s["to"] == "573001234567"]
    assert len(templates) == 1 and templates[0]["template"]["name"] == "caso_actualizado"
    assert ack.delivery_status == "sent" and ack.external_id != failed["id"]


def test_a_status_for_a_send_not_yet_recorded_is_looked_up_again(meta, monitoreo, graph, _frozen):
    meta.post(_status_body([{"id": "wamid.LATE", "status": "delivered"}]))
    run()
    assert Job.objects.filter(kind="whatsapp.status", status="pending").count() == 1
    meta.text("Caído")
    run()
    Note.objects.filter(automatic=True, direction="outbound").update(external_id="wamid.LATE")
    _frozen.advance(seconds=30)
    run()
    assert Note.objects.get(external_id="wamid.LATE").delivery_status == "delivered"


def test_an_image_is_downloaded_into_a_case_attachment(meta, monitoreo, graph):
    graph.media["1013859600285441"] = (b"\xff\xd8\xff\xe0fake-jpeg", "image/jpeg")
    body = fixture("image_reply.json")
    body["entry"][0]["changes"][0]["value"]["messages"][0]["timestamp"] = str(int(T0.timestamp()))
    meta.post(body)
    run()
    att = Attachment.objects.get()
    assert att.note.body_text == "[Imagen] Foto del error" and att.public
    assert att.filename.endswith(".jpg") and att.size == len(b"\xff\xd8\xff\xe0fake-jpeg")
    media_calls = [r for r in graph.requests if "1013859600285441" in r.path]
    assert ["/cdn/" in r.path for r in media_calls] == [False, True]
    assert all(r.headers["Authorization"] == f"Bearer {graph.token}" for r in media_calls)


def test_a_media_that_cannot_be_fetched_leaves_a_note_saying_so(meta, monitoreo, graph, _frozen):
    body = fixture("document.json")
    body["entry"][0]["changes"][0]["value"]["messages"][0]["timestamp"] = str(int(T0.timestamp()))
    meta.post(body)
    run()  # the peer does not know this media id: 404 (code 100) is permanent
    assert not Attachment.objects.exists()
    note = Note.objects.get(visibility="internal")
    assert "factura.pdf" in note.body_text and "No se pudo descargar" in note.body_text


def test_a_temporary_media_error_is_retried(meta, monitoreo, graph, _frozen):
    graph.media["2013859600285441"] = (b"%PDF-1.4 fake", "application/pdf")
    body = fixture("document.json")
    body["entry"][0]["changes"][0]["value"]["messages"][0]["timestamp"] = str(int(T0.timestamp()))
    meta.post(body)
    queue.run_pending(1)  # the inbox job
    graph.fail_next(503, 131016, "Service unavailable", path="2013859600285441")
    run()
    assert not Attachment.objects.exists()
    _frozen.advance(minutes=1)
    run()
    assert Attachment.objects.get().filename == "factura.pdf"


def test_pages_go_to_on_call_by_whatsapp_template_and_email(meta, monitoreo, graph):
    meta.text("Caído")
    run()
    rows = {(n.kind, n.address, n.template, n.status) for n in Notification.objects.all()}
    assert ("whatsapp", "+573005550001", "pagina_incidente_critico", "sent") in rows
    assert ("email", "guardia@mesa.test", "", "pending") in {
        (k, a, t, s if k == "whatsapp" else "pending") for k, a, t, s in rows
    }
    page = next(s for s in graph.sends() if s["to"] == "573005550001")
    assert page["type"] == "template" and page["template"]["name"] == "pagina_incidente_critico"
    assert "CS0000001" in json.dumps(page)


def test_corporate_routing_uses_its_own_number(meta, corporativo, monitoreo):
    meta.text("hola", line="corporativo")
    run()
    assert Conversation.objects.get().channel == corporativo
    assert CORPORATIVO_ID


def test_a_refused_message_does_not_hold_back_the_rest_of_the_batch(
    meta, monitoreo, corporativo, caplog
):
    corporativo.active = False
    corporativo.save()
    body = simulate.text_notification(
        phone_number_id=CORPORATIVO_ID,
        display_phone_number="573168731648",
        wa_id="573001234567",
        text="hola",
        timestamp=int(T0.timestamp()),
    )
    mon = simulate.text_notification(
        phone_number_id=MONITOREO_ID,
        display_phone_number="573184872656",
        wa_id="573001234567",
        text="caído",
        timestamp=int(T0.timestamp()),
    )
    body["entry"] += mon["entry"]
    meta.post(body)
    run()
    assert Note.objects.get(direction="inbound").body_text == "caído"
