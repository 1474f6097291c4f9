"""Faults: the SMTP server and the Graph API down for an hour.

Agents keep answering cases on email and WhatsApp while both real local peers (aiosmtpd,
the local Graph API server) are stopped; the worker keeps trying every five minutes of a
moved clock. After the hour the peers come back: every message arrives, once, and each
case's messages in the order they were written — a later answer never overtakes an
earlier one that is waiting for its retry.
"""

from __future__ import annotations

import email
import email.policy
import itertools

import pytest
from aiosmtpd.controller import Controller

from atiende.cases import services as cases
from atiende.cases.models import Case, Delivery, Note
from atiende.channels.email.tests.conftest import RecordingHandler
from atiende.channels.email.tests.dovecot import free_port
from atiende.channels.models import Notification, NotificationStatus
from atiende.channels.whatsapp.tests.conftest import run
from atiende.channels.whatsapp.tests.peer import GraphPeer
from atiende.customers import services as customers
from atiende.worker.models import Job, JobStatus

pytestmark = pytest.mark.django_db

WA_IDS = ["573001111111", "573002222222"]
LATE_WA_ID = "573003333333"  # writes during the outage
ROUNDS = 3


def smtp_up(handler: RecordingHandler, port: int) -> Controller:
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    return controller


def test_smtp_and_graph_down_for_an_hour_then_the_backlog_drains_in_order(
    meta, monitoreo, graph, correo, smtp_sender, agent, acme, monkeypatch, _frozen
):
    clock = _frozen
    handler = RecordingHandler()
    port = free_port()
    smtp = smtp_up(handler, port)
    monkeypatch.setenv("ATIENDE_CORREO_SMTP_URL", f"smtp://127.0.0.1:{port}")

    for wa_id in WA_IDS:  # two WhatsApp conversations open two cases
        meta.text("Caído el servicio de firma", wa_id=wa_id)
    run()
    wa_cases = list(Case.objects.filter(channel=monitoreo).order_by("pk"))
    mail_cases = [
        cases.open_case(
            actor=None,
            channel=correo,
            subject=f"Consulta por correo {i}",
            organization=acme,
            requester=customers.create_contact(
                name=f"Cliente {i}", organization=acme, emails=[f"cliente{i}@acme.com.co"]
            ),
            acknowledge=False,
        )
        for i in (1, 2)
    ]
    assert len(wa_cases) == 2
    run()  # the on-call notices of the new incidents go out while everything is up
    sent_before, mails_before = len(graph.sends()), len(handler.messages)

    # Both peers go down.
    smtp.stop()
    graph.stop()

    written: dict[str, list[str]] = {c.number: [] for c in wa_cases + mail_cases}
    for minute in range(0, 60, 5):
        if minute == 5:  # a new incident: its acknowledgement and on-call notices wait too
            meta.text("Otro servicio caído", wa_id=LATE_WA_ID)
        if minute in (0, 20, 40):  # three rounds of answers, spread over the hour
            for case in wa_cases + mail_cases:
                text = f"{case.number} respuesta {len(written[case.number]) + 1}"
                cases.add_note(case=case, body_text=text, actor=agent)
                written[case.number].append(text)
        run(1)
        clock.advance(minutes=5)
    assert len(handler.messages) == mails_before
    pending = Note.objects.filter(delivery_status=Delivery.PENDING).count()
    # nothing given up during the outage (and the late incident's acknowledgement waits too)
    assert pending == len(written) * ROUNDS + 1

    # The peers come back (the Graph API on a new port: the configuration follows it).
    smtp = smtp_up(handler, port)
    # (its message ids go on from the first one's, as the real API's never repeat)
    back = GraphPeer(_ids=itertools.count(10_000)).start()
    monkeypatch.setenv("ATIENDE_WHATSAPP_GRAPH_URL", back.base)
    try:
        for _ in range(20):  # bounded: the longest backoff is an hour
            run()
            if not Job.objects.filter(status__in=(JobStatus.PENDING, JobStatus.RUNNING)).exists():
                break
            clock.advance(minutes=10)
        # Every delivery — answers, acknowledgements, flow prompts, on-call notices — went
        # out after the hour: none was given up during it.
        # (a read receipt is no message to a person: it may give up, an hour late anyway)
        failed = Job.objects.filter(status=JobStatus.FAILED).exclude(kind="whatsapp.mark_read")
        assert not failed.exists()
        outbound = Note.objects.filter(delivery_status__isnull=False)
        assert not outbound.exclude(delivery_status=Delivery.SENT).exists()
        late = Notification.objects.filter(case__requester__phones__number=f"+{LATE_WA_ID}")
        assert late.exists()  # the on-call notices of the incident opened in the outage
        assert not Notification.objects.exclude(status=NotificationStatus.SENT).exists()
        assert any(s.get("to") == LATE_WA_ID for s in back.sends())

        # Email: each case's answers arrived once, in the order written.
        got: dict[str, list[str]] = {c.number: [] for c in mail_cases}
        for received in handler.messages:
            msg = email.message_from_bytes(received.data, policy=email.policy.default)
            body = msg.get_body(("plain",)).get_content()
            for number in got:
                if number in str(msg["Subject"]):
                    got[number] += [line for line in body.splitlines() if "respuesta" in line]
        for case in mail_cases:
            assert got[case.number] == written[case.number]

        # WhatsApp: the same, per conversation.
        assert graph.sends()[sent_before:] == []  # nothing reached the stopped peer
        for wa_id, case in zip(WA_IDS, wa_cases, strict=True):
            texts = [
                s["text"]["body"]
                for s in back.sends()
                if s.get("to") == wa_id and s["type"] == "text" and "respuesta" in s["text"]["body"]
            ]
            assert texts == written[case.number]
    finally:
        smtp.stop()
        back.stop()
