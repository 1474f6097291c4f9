"""Answers leave by SMTP through the outbox; a real aiosmtpd records what arrives."""

from __future__ import annotations

import re

import pytest

from atiende.cases import services as cases
from atiende.cases.models import Case, Note
from atiende.channels.email import intake
from atiende.channels.email.tests.conftest import fixture
from atiende.worker import queue
from atiende.worker.models import Job

pytestmark = pytest.mark.usefixtures("frozen", "sla_targets", "smtp_sender")


@pytest.fixture
def case(correo, acme, smtp_server):
    got = intake.ingest(fixture("plain.eml"), channel="correo")
    return Case.objects.get(number=got.case_number)


def test_the_acknowledgement_is_an_automatic_answer_with_an_empty_envelope_sender(
    case, smtp_server
):
    queue.run_pending()
    assert len(smtp_server.messages) == 1
    sent = smtp_server.messages[0]
    assert sent.mail_from in ("", "<>") and sent.rcpt_tos == ["pedro@acme.com.co"]
    msg = smtp_server.parsed()
    ack = Note.objects.get(case=case, automatic=True)
    assert msg["Auto-Submitted"] == "auto-replied"
    assert msg["Subject"] == "RE: [CS0000001] No puedo firmar documentos"
    assert msg["In-Reply-To"] == "<plain-1@acme.com.co>"
    assert msg["Message-ID"] == ack.external_id and ack.delivery_status == "sent"
    assert "CS0000001" in msg.get_body(("plain",)).get_content()


def test_an_agent_answer_threads_and_carries_text_html_and_attachments(case, agent, smtp_server):
    queue.run_pending()
    note = cases.add_note(case=case, actor=agent, body_text="¿Qué versión usa?\n\nGracias.")
    cases.add_attachment(
        case=case, note=note, filename="guía rápida.pdf", chunks=[b"%PDF-1.4 guia"]
    )
    queue.run_pending()
    note.refresh_from_db()
    assert note.delivery_status == "sent"
    msg = smtp_server.parsed()
    assert smtp_server.messages[-1].mail_from == "mesadeayuda@certicamara.com"
    assert msg["From"].addresses[0].addr_spec == "mesadeayuda@certicamara.com"
    assert msg["Reply-To"] == "mesadeayuda@certicamara.com" and "Auto-Submitted" not in msg
    assert msg["Message-ID"] == note.external_id
    assert re.fullmatch(
        rf"<CS0000001\.n{note.pk}\.[0-9a-f]{{20}}\.atiende@certicamara\.com>", note.external_id
    )
    assert msg["In-Reply-To"] == "<plain-1@acme.com.co>"
    refs = msg["References"].split()
    # the customer's mail, our acknowledgement, and this message itself
    assert refs[0] == "<plain-1@acme.com.co>" and len(refs) == 3 and refs[-1] == note.external_id
    assert "¿Qué versión usa?" in msg.get_body(("plain",)).get_content()
    assert "<p>¿Qué versión usa?</p>" in msg.get_body(("html",)).get_content()
    (att,) = list(msg.iter_attachments())
    assert att.get_filename() == "guía rápida.pdf" and att.get_content() == b"%PDF-1.4 guia"


def test_the_customers_reply_to_our_answer_comes_back_to_the_case(case, agent, smtp_server):
    note = cases.add_note(case=case, actor=agent, body_text="¿Qué versión usa?")
    queue.run_pending()
    note.refresh_from_db()
    reply = (
        "From: Pedro <pedro@acme.com.co>\nTo: mesadeayuda@certicamara.com\nSubject: Re: otra cosa\n"
        f"Message-ID: <r1@acme.com.co>\nIn-Reply-To: {note.external_id}\n\nLa 3.2\n"
    ).encode()
    got = intake.ingest(reply, channel="correo")
    assert got.case_number == case.number and Case.objects.count() == 1


def test_a_rejected_recipient_fails_the_note_at_once(case, agent, smtp_server):
    smtp_server.reject_rcpt["pedro@acme.com.co"] = "550 5.1.1 buzón inexistente"
    note = cases.add_note(case=case, actor=agent, body_text="Respuesta")
    queue.run_pending()
    note.refresh_from_db()
    assert note.delivery_status == "failed" and "550" in note.delivery_error


def test_a_temporary_refusal_is_retried_later(case, agent, smtp_server, frozen):
    queue.run_pending()  # the acknowledgement first: a case's messages leave in order
    smtp_server.reject_rcpt["pedro@acme.com.co"] = "451 4.3.0 intente más tarde"
    note = cases.add_note(case=case, actor=agent, body_text="Respuesta")
    queue.run_pending()
    job = Job.objects.get(kind="deliver_note", payload__note_id=note.pk)
    assert job.status == "pending" and job.attempts == 1 and "451" in job.last_error
    smtp_server.reject_rcpt.clear()
    frozen.advance(seconds=10)
    queue.run_pending()
    note.refresh_from_db()
    assert note.delivery_status == "sent"


def test_an_unreachable_server_is_a_temporary_failure(case, agent, monkeypatch):
    from atiende.channels.email.tests.dovecot import free_port

    queue.run_pending()  # the acknowledgement first: a case's messages leave in order
    monkeypatch.setenv("ATIENDE_CORREO_SMTP_URL", f"smtp://127.0.0.1:{free_port()}")
    note = cases.add_note(case=case, actor=agent, body_text="Respuesta")
    queue.run_pending()
    job = Job.objects.get(kind="deliver_note", payload__note_id=note.pk)
    assert job.status == "pending" and "No se pudo conectar" in job.last_error


def test_a_channel_without_smtp_says_so_on_the_note(case, agent, monkeypatch):
    monkeypatch.delenv("ATIENDE_CORREO_SMTP_URL")
    note = cases.add_note(case=case, actor=agent, body_text="Respuesta")
    queue.run_pending()
    note.refresh_from_db()
    assert note.delivery_status == "failed" and "ATIENDE_CORREO_SMTP_URL" in note.delivery_error


def test_a_notification_is_sent_as_auto_generated_mail(case, smtp_server):
    queue.enqueue(
        "notify",
        {
            "case_id": case.pk,
            "event": "sla.breached",
            "subject": "SLA vencido",
            "body": "El caso superó su tiempo.",
            "recipients": [{"kind": "email", "address": "sergio@mesa.test", "name": "Sergio"}],
        },
    )
    queue.run_pending()
    msg = next(
        m
        for m in map(smtp_server.parsed, range(len(smtp_server.messages)))
        if m["To"].addresses[0].addr_spec == "sergio@mesa.test"
    )
    assert msg["Auto-Submitted"] == "auto-generated" and msg["Subject"] == "[CS0000001] SLA vencido"


def test_out_of_hours_mail_is_told_when_it_will_be_attended(correo, acme, smtp_server, frozen):
    import datetime as dt

    frozen.set(dt.datetime(2026, 3, 8, 15, 0, tzinfo=dt.UTC))  # Sunday 10:00 in Bogotá
    intake.ingest(fixture("plain.eml"), channel="correo")
    queue.run_pending()
    text = smtp_server.parsed().get_body(("plain",)).get_content()
    assert "CS0000001" in text and "fuera de su horario" in text and "lunes" in text
