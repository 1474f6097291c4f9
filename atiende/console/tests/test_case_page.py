"""The console's case page and its forms: what an agent sees and does, what a customer
never reaches, and the fixed number of queries the page costs."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext

from atiende.cases import services as cases
from atiende.cases.models import Attachment, Case, Note
from atiende.channels.whatsapp.models import Conversation
from atiende.console.canned import selectors as canned
from atiende.console.canned.models import CannedAnswer
from atiende.console.case_page import duration_words
from atiende.console.tests.case_fixtures import *  # noqa: F403
from atiende.core import clock
from atiende.customers import services as customers
from atiende.escalations import services as escalations
from atiende.escalations.models import EscalationRequest
from atiende.sla.models import SlaTimer
from atiende.worker.models import Job

pytestmark = pytest.mark.django_db


def page_text(response) -> str:
    return response.content.decode()


def url(case, rest: str = "") -> str:
    return f"/console/cases/{case.number}{rest}"


# -- Who reaches the page --------------------------------------------------------------


def test_anonymous_goes_to_sign_in(client, acme_incident):
    response = client.get(url(acme_incident))
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=/console/cases/")


@pytest.mark.parametrize("who", ["customer", "other_customer"])
def test_a_customer_gets_404_on_every_case_route_even_their_own_case(
    client, who, request, acme_incident, ladder
):
    client.force_login(request.getfixturevalue(who))
    note = Note.objects.filter(case=acme_incident).first()
    att = cases.add_attachment(case=acme_incident, filename="a.txt", chunks=[b"x"])
    for method, path in [
        ("get", url(acme_incident)),
        ("post", url(acme_incident, "/reply")),
        ("post", url(acme_incident, f"/notes/{note.pk}/confirm")),
        ("post", url(acme_incident, "/assign")),
        ("post", url(acme_incident, "/fields")),
        ("post", url(acme_incident, "/escalate")),
        ("post", url(acme_incident, "/escalations/1/decision")),
        ("get", url(acme_incident, f"/attachments/{att.pk}")),
    ]:
        response = getattr(client, method)(path, {"body": "intruso", "status": "cancelled"})
        assert response.status_code == 404, (path, response.status_code)
        assert "No puedo firmar" not in page_text(response)
    acme_incident.refresh_from_db()
    assert acme_incident.status == "new"
    assert not Note.objects.filter(body_text="intruso").exists()


def test_an_unknown_case_is_404(client, agent):
    client.force_login(agent)
    assert client.get("/console/cases/CS9999999").status_code == 404


def test_another_cases_attachment_note_or_escalation_is_404_under_this_case(
    client, agent, supervisor, acme_incident, ladder, make_case, other_customer, clock_at
):
    globex_case = make_case(actor=other_customer, subject="Factura duplicada")
    att = cases.add_attachment(case=globex_case, filename="factura.txt", chunks=[b"GLOBEX"])
    foreign_note = cases.add_note(
        case=globex_case, body_text="de otro caso", visibility="internal", actor=agent
    )
    request_row = escalations.request_escalation(case=globex_case, actor=agent, reason="x")
    client.force_login(agent)
    assert client.get(url(acme_incident, f"/attachments/{att.pk}")).status_code == 404
    assert client.post(url(acme_incident, f"/notes/{foreign_note.pk}/confirm")).status_code == 404
    client.force_login(supervisor)
    response = client.post(
        url(acme_incident, f"/escalations/{request_row.pk}/decision"), {"decision": "accept"}
    )
    assert response.status_code == 404
    request_row.refresh_from_db()
    assert request_row.status == "pending"


# -- What the page shows -----------------------------------------------------------------


def test_the_page_shows_header_sla_ladder_and_timeline(client, agent, email_case, ladder):
    cases.add_note(
        case=email_case, body_text="Revisando el certificado", visibility="internal", actor=agent
    )
    client.force_login(agent)
    response = client.get(url(email_case))
    assert response.status_code == 200
    text = page_text(response)
    for fact in (
        "CS0000001",
        "No puedo descargar el certificado",
        "ACME S.A.S.",
        "pedro@acme.com.co",
        "Requerimiento",
        "Alta",
        "Nivel 1",
        "Correo",  # the intake channel
        "Uso interno",  # classification label
        "Primera respuesta",
        "vence en 1 h",
        "Resolución",
        "Orlando Méndez",  # level 2's responsible
        "nivel actual",
        "Nota interna",
        "Revisando el certificado",
        "Solicitar escalamiento",
    ):
        assert fact in text, fact
    assert 'class="entry note note-internal' in text
    assert '<meter min="0" max="100"' in text


def test_phone_numbers_are_tel_links_and_whatsapp_is_shown(
    client, agent, acme_incident, acme_contact
):
    customers.update_contact(
        contact=acme_contact, phones=["+573001234567"], whatsapp_id="573001234567"
    )
    Case.objects.filter(pk=acme_incident.pk).update(requester=acme_contact)
    client.force_login(agent)
    text = page_text(client.get(url(acme_incident)))
    assert 'href="tel:+573001234567"' in text
    assert "https://wa.me/573001234567" in text


def test_sla_words_for_breached_and_paused_clocks(client, agent, email_case, clock_at):
    client.force_login(agent)
    clock_at.advance(hours=3, minutes=10)  # first response (1 h) overdue by 2 h 10 min
    text = page_text(client.get(url(email_case)))
    assert "vencido hace 2 h 10 min" in text
    cases.change_status(case=email_case, actor=agent, status="awaiting_info")
    clock_at.advance(minutes=30)
    text = page_text(client.get(url(email_case)))
    assert "en pausa" in text
    assert "30 min" in text  # paused time so far


def test_duration_words():
    assert duration_words(30) == "menos de 1 min"
    assert duration_words(7800) == "2 h 10 min"
    assert duration_words(3 * 3600) == "3 h"
    assert duration_words(26 * 3600) == "26 h"  # business time: no days


def test_calls_linked_to_the_case_show_with_duration_and_agent(client, agent, acme_incident):
    from atiende.channels.phone.models import Call

    now = clock.now()
    Call.objects.create(
        channel=acme_incident.channel,
        call_id="c-1",
        direction="in",
        caller_e164="+573001234567",
        agent=agent,
        state="ended",
        started_at=now,
        answered_at=now,
        ended_at=now + dt.timedelta(seconds=95),
        duration_seconds=95,
        case=acme_incident,
        created_at=now,
        updated_at=now,
    )
    client.force_login(agent)
    text = page_text(client.get(url(acme_incident)))
    assert "Llamada entrante" in text and "95 s" in text and "Ana Agente" in text


def test_an_unverified_note_is_confirmed_from_the_page(client, agent, email_case, globex_contact):
    note = cases.add_note(
        case=email_case, body_text="Soy un colega", author_contact=globex_contact, unverified=True
    )
    client.force_login(agent)
    text = page_text(client.get(url(email_case)))
    assert "Remitente no verificado" in text and "Confirmar" in text
    response = client.post(url(email_case, f"/notes/{note.pk}/confirm"))
    assert response.status_code == 302
    note.refresh_from_db()
    assert note.visibility == "public" and not note.unverified


def test_image_attachments_preview_inline_through_the_console_download(
    client, agent, acme_incident
):
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
    att = cases.add_attachment(
        case=acme_incident, filename="pantallazo.png", chunks=[png], actor=agent
    )
    client.force_login(agent)
    text = page_text(client.get(url(acme_incident)))
    href = url(acme_incident, f"/attachments/{Attachment.objects.get(sha256=att.sha256).pk}")
    assert f'<img src="{href}"' in text
    download = client.get(href)
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == png
    assert download["X-Content-Type-Options"] == "nosniff"


# -- The composer ---------------------------------------------------------------------------


def test_an_email_answer_is_queued_for_delivery_on_the_intake_channel(client, agent, email_case):
    client.force_login(agent)
    response = client.post(url(email_case, "/reply"), {"mode": "reply", "body": "Ya lo revisamos."})
    assert response.status_code == 302
    note = Note.objects.get(case=email_case, body_text="Ya lo revisamos.")
    assert note.visibility == "public" and note.channel.slug == "correo"
    assert note.delivery_status == "pending"
    assert Job.objects.filter(kind="deliver_note", payload__note_id=note.pk).exists()
    email_case.refresh_from_db()
    assert email_case.status == "open" and email_case.first_response_at is not None


def test_an_internal_note_is_never_sent_nor_shown_to_the_customer(
    client, agent, customer, api, email_case
):
    client.force_login(agent)
    client.post(url(email_case, "/reply"), {"mode": "note", "body": "Solo para el equipo"})
    note = Note.objects.get(body_text="Solo para el equipo")
    assert note.visibility == "internal" and note.delivery_status is None
    assert not Job.objects.filter(kind="deliver_note", payload__note_id=note.pk).exists()
    Case.objects.filter(pk=email_case.pk).update(requester=customer.contact)
    listed = api.get(f"/api/v1/cases/{email_case.number}/notes", as_="customer").json()
    assert "Solo para el equipo" not in str(listed)


def test_reply_and_await_the_customer_pauses_the_sla(client, agent, email_case):
    client.force_login(agent)
    client.post(
        url(email_case, "/reply"),
        {"mode": "reply", "body": "¿Nos envía el pantallazo?", "status": "awaiting_info"},
    )
    email_case.refresh_from_db()
    assert email_case.status == "awaiting_info"
    resolution = SlaTimer.objects.get(case=email_case, kind="resolution")
    assert resolution.paused
    assert "en pausa" in page_text(client.get(url(email_case)))


def test_reply_and_resolve(client, agent, email_case):
    client.force_login(agent)
    client.post(url(email_case, "/reply"), {"body": "Quedó listo.", "status": "resolved"})
    email_case.refresh_from_db()
    assert email_case.status == "resolved"


def test_several_attachments_go_with_the_answer(client, agent, email_case):
    client.force_login(agent)
    files = [
        SimpleUploadedFile("uno.txt", b"uno"),
        SimpleUploadedFile("dos.txt", b"dos"),
    ]
    client.post(url(email_case, "/reply"), {"body": "Adjunto los archivos", "files": files})
    note = Note.objects.get(body_text="Adjunto los archivos")
    assert sorted(a.filename for a in note.attachments.all()) == ["dos.txt", "uno.txt"]
    assert all(a.public for a in note.attachments.all())


def test_a_file_over_the_limit_is_refused_and_nothing_is_stored(
    client, agent, email_case, settings
):
    settings.ATIENDE_MAX_ATTACHMENT_BYTES = 10
    client.force_login(agent)
    response = client.post(
        url(email_case, "/reply"),
        {"body": "Con un archivo grande", "files": [SimpleUploadedFile("grande.bin", b"x" * 11)]},
    )
    assert response.status_code == 413
    assert "supera el tamaño máximo" in page_text(response)
    assert "Con un archivo grande" in page_text(response)  # the draft is kept
    assert not Note.objects.filter(body_text="Con un archivo grande").exists()


def test_a_refused_status_after_the_answer_stores_nothing(client, agent, email_case):
    cases.change_status(case=email_case, actor=agent, status="resolved")
    client.force_login(agent)
    response = client.post(
        url(email_case, "/reply"), {"body": "Otra cosa", "status": "awaiting_info"}
    )
    assert response.status_code == 409
    assert "se permite" in page_text(response)
    assert not Note.objects.filter(body_text="Otra cosa").exists()


def test_an_empty_message_is_a_422_in_spanish(client, agent, email_case):
    client.force_login(agent)
    response = client.post(url(email_case, "/reply"), {"body": "  "})
    assert response.status_code == 422
    assert "Escriba el mensaje" in page_text(response)


def test_a_channel_the_contact_cannot_be_reached_on_is_refused(
    client, agent, email_case, corporativo
):
    client.force_login(agent)  # Pedro has no WhatsApp number
    response = client.post(
        url(email_case, "/reply"), {"body": "Hola", "channel": "whatsapp-corporativo"}
    )
    assert response.status_code == 422
    assert "no sirve para responder" in page_text(response)


@pytest.fixture
def whatsapp_case(corporativo, acme_contact, sla_targets, clock_at):
    customers.update_contact(contact=acme_contact, whatsapp_id="573001234567")
    return cases.open_case(
        actor=None,
        channel=corporativo,
        subject="WhatsApp: no me llega el código",
        type="request",
        priority="high",
        requester=acme_contact,
        acknowledge=False,
    )


def test_whatsapp_window_open_shows_the_countdown(
    client, agent, whatsapp_case, corporativo, clock_at
):
    Conversation.objects.create(
        channel=corporativo,
        wa_id="573001234567",
        last_inbound_at=clock.now() - dt.timedelta(hours=23, minutes=30),
        updated_at=clock.now(),
    )
    client.force_login(agent)
    text = page_text(client.get(url(whatsapp_case)))
    assert "Ventana de 24 horas de WhatsApp abierta" in text
    assert "30 min" in text
    assert "wa-reminder hidden" not in text  # the reminder shows in the last hour


def test_whatsapp_window_closed_refuses_free_text_and_sends_an_approved_template(
    client, agent, whatsapp_case
):
    client.force_login(agent)
    text = page_text(client.get(url(whatsapp_case)))
    assert "Ventana de 24 horas de WhatsApp cerrada" in text
    response = client.post(url(whatsapp_case, "/reply"), {"body": "Texto libre"})
    assert response.status_code == 422
    assert "plantilla aprobada" in page_text(response)
    assert not Note.objects.filter(body_text="Texto libre").exists()
    client.post(url(whatsapp_case, "/reply"), {"body": "", "template": "seguimiento"})
    note = Note.objects.get(case=whatsapp_case, author_user=agent)
    assert note.body_text.startswith("Pedro Pérez, su caso CS0000001 sigue en curso")
    assert note.delivery_status == "pending"


def test_opening_a_whatsapp_case_lands_held_messages(client, agent, whatsapp_case, monkeypatch):
    from atiende.console.views import case as view

    flushed = []
    monkeypatch.setattr(view.whatsapp, "flush_pending_for", lambda c: flushed.append(c) or 0)
    client.force_login(agent)
    client.get(url(whatsapp_case))
    assert flushed == [whatsapp_case.requester]


def test_canned_answers_fill_the_placeholders(email_case, agent):
    answer = CannedAnswer.objects.create(
        slug="prueba", title="Prueba", body="Hola {contacto}, caso {numero} ({organizacion}) {otro}"
    )
    assert canned.text_for(answer, email_case, agent) == (
        "Hola Pedro Pérez, caso CS0000001 (ACME S.A.S.) {otro}"
    )


# -- Actions -----------------------------------------------------------------------------


def test_assign_to_me_to_another_agent_and_to_a_group(
    client, agent, supervisor, email_case, ladder
):
    client.force_login(agent)
    client.post(url(email_case, "/assign"), {"assignee": "me"})
    email_case.refresh_from_db()
    assert email_case.assignee == agent
    client.post(
        url(email_case, "/assign"), {"assignee": str(supervisor.pk), "group": "soporte-tecnico"}
    )
    email_case.refresh_from_db()
    assert email_case.assignee == supervisor and email_case.group.slug == "soporte-tecnico"
    response = client.post(url(email_case, "/assign"), {"assignee": "999999"})
    assert response.status_code == 422


def test_change_type_priority_and_a_refused_status_explains_what_is_allowed(
    client, agent, email_case
):
    client.force_login(agent)
    client.post(url(email_case, "/fields"), {"type": "incident", "priority": "critical"})
    email_case.refresh_from_db()
    assert (email_case.type, email_case.priority) == ("incident", "critical")
    response = client.post(url(email_case, "/fields"), {"status": "closed"})
    assert response.status_code == 409
    text = page_text(response)
    assert "No se puede pasar de «Nuevo» a «Cerrado»" in text and "se permite" in text


# -- Escalation ----------------------------------------------------------------------------


def test_a_refused_escalation_shows_the_services_reason(client, supervisor, acme_incident, ladder):
    client.force_login(supervisor)  # level 2's responsible, not an agent of level 1
    text = page_text(client.get(url(acme_incident)))
    assert "aún está dentro de sus tiempos de atención" in text
    response = client.post(url(acme_incident, "/escalate"), {"reason": "quiero"})
    assert response.status_code == 409
    assert "aún está dentro de sus tiempos de atención" in page_text(response)
    assert not EscalationRequest.objects.exists()


def test_level_one_requests_and_level_two_accepts(client, agent, supervisor, acme_incident, ladder):
    client.force_login(agent)
    response = client.post(url(acme_incident, "/escalate"), {"reason": "Requiere al supervisor"})
    assert response.status_code == 302
    row = EscalationRequest.objects.get()
    text = page_text(client.get(url(acme_incident)))
    assert "Solicitud pendiente" in text and "Evidencia" in text
    assert "Aceptar escalamiento" not in text  # level 1 does not decide
    client.force_login(supervisor)
    text = page_text(client.get(url(acme_incident)))
    assert "Aceptar escalamiento" in text
    response = client.post(
        url(acme_incident, f"/escalations/{row.pk}/decision"), {"decision": "reject"}
    )
    assert response.status_code == 422  # a rejection needs a reason
    client.post(url(acme_incident, f"/escalations/{row.pk}/decision"), {"decision": "accept"})
    acme_incident.refresh_from_db()
    assert acme_incident.level == 2


def test_only_the_responsible_may_decide(client, agent, acme_incident, ladder, coordinator):
    row = escalations.request_escalation(case=acme_incident, actor=agent, reason="x")
    client.force_login(coordinator)
    response = client.post(
        url(acme_incident, f"/escalations/{row.pk}/decision"), {"decision": "accept"}
    )
    assert response.status_code == 403
    row.refresh_from_db()
    assert row.status == "pending"


# -- Cost ------------------------------------------------------------------------------------


def _queries(client, path) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(path).status_code == 200
    return len(ctx.captured_queries)


def test_the_page_costs_the_same_queries_whatever_the_number_of_notes(
    client, agent, email_case, ladder, clock_at
):
    client.force_login(agent)
    for i in range(3):
        cases.add_note(case=email_case, body_text=f"nota {i}", visibility="internal", actor=agent)
    _queries(client, url(email_case))  # warm the per-process snapshots
    few = _queries(client, url(email_case))
    for i in range(40):
        clock_at.advance(minutes=1)
        note = cases.add_note(
            case=email_case,
            body_text=f"más {i}",
            visibility="internal" if i % 2 else "public",
            actor=agent,
        )
        cases.add_attachment(case=email_case, filename=f"a{i}.txt", chunks=[b"x"], note=note)
    many = _queries(client, url(email_case))
    assert many == few, (few, many)
    assert many <= 40


def test_the_page_speaks_english_when_asked(client, agent, email_case, ladder):
    client.force_login(agent)
    client.post("/i18n/setlang/", {"language": "en", "next": "/console/"})
    text = page_text(client.get(url(email_case)))
    for words in (
        "Reply to the customer",
        "Internal note",
        "Case history",
        "First response",
        "due in 1 h",
        "Request escalation",
    ):
        assert words in text, words


def test_a_late_answer_says_by_how_much_and_a_finished_case_stops_its_clocks(
    client, agent, email_case, clock_at
):
    client.force_login(agent)
    clock_at.advance(hours=3)  # first response due after 1 h: answered 2 h late
    cases.add_note(case=email_case, body_text="Ya lo revisamos", actor=agent)
    clock_at.advance(hours=1)
    text = page_text(client.get(url(email_case)))
    assert "cumplido con 2 h de retraso" in text
    cases.change_status(case=email_case, actor=agent, status="cancelled")
    clock_at.advance(days=3)
    text = page_text(client.get(url(email_case)))
    assert "detenido: el caso terminó" in text  # resolution: not "overdue" forever
