"""Answers from the case page reach the real local peers through the outbox: the SMTP
server (threaded to the customer's message) and the Graph API (free text inside the
24-hour window, the approved template outside it). The browser version of these paths is
test_case_browser.py; these run without Chromium."""

from __future__ import annotations

import datetime as dt

import pytest

from atiende.cases import services as cases
from atiende.cases.models import Case, Note
from atiende.channels.email import intake
from atiende.channels.email.tests.conftest import fixture
from atiende.channels.whatsapp.models import Conversation
from atiende.console.tests.case_fixtures import *  # noqa: F403
from atiende.core import clock
from atiende.customers import services as customers
from atiende.worker import queue

pytestmark = pytest.mark.django_db


def run_worker() -> None:
    for _ in range(3):
        queue.run_pending(100)


def test_an_email_answer_reaches_the_smtp_server_threaded_to_the_customers_message(
    client, agent, correo, smtp_server, smtp_sender, acme, sla_targets, clock_at
):
    got = intake.ingest(fixture("plain.eml"), channel="correo")
    case = Case.objects.get(number=got.case_number)
    run_worker()
    before = len(smtp_server.messages)
    client.force_login(agent)
    response = client.post(
        f"/console/cases/{case.number}/reply", {"mode": "reply", "body": "¿Qué versión usa?"}
    )
    assert response.status_code == 302
    run_worker()
    assert len(smtp_server.messages) == before + 1
    msg = smtp_server.parsed()
    assert smtp_server.messages[-1].rcpt_tos == ["pedro@acme.com.co"]
    assert msg["In-Reply-To"] == "<plain-1@acme.com.co>"
    assert "<plain-1@acme.com.co>" in msg["References"]
    note = Note.objects.get(body_text="¿Qué versión usa?")
    assert note.delivery_status == "sent" and msg["Message-ID"] == note.external_id
    text = client.get(f"/console/cases/{case.number}").content.decode()
    assert "delivery-sent" in text

    # An internal note: nothing more reaches the server.
    client.post(f"/console/cases/{case.number}/reply", {"mode": "note", "body": "Solo interno"})
    run_worker()
    assert len(smtp_server.messages) == before + 1


@pytest.fixture
def wa_case(corporativo, acme_contact, sla_targets, clock_at):
    customers.update_contact(contact=acme_contact, whatsapp_id="573001234567")
    return cases.open_case(
        actor=None,
        channel=corporativo,
        subject="No me llega el código",
        type="request",
        priority="high",
        requester=acme_contact,
        acknowledge=False,
    )


def _sends(graph) -> list[dict]:
    return [r.json for r in graph.requests if r.method == "POST" and r.path.endswith("/messages")]


def test_a_whatsapp_answer_in_the_window_reaches_the_graph_api_as_text(
    client, agent, graph, corporativo, wa_case
):
    Conversation.objects.create(
        channel=corporativo,
        wa_id="573001234567",
        last_inbound_at=clock.now() - dt.timedelta(hours=2),
        updated_at=clock.now(),
    )
    client.force_login(agent)
    client.post(f"/console/cases/{wa_case.number}/reply", {"body": "Ya le reenviamos el código."})
    run_worker()
    sent = _sends(graph)
    assert sent[-1]["to"] == "573001234567"
    assert sent[-1]["text"]["body"] == "Ya le reenviamos el código."
    assert Note.objects.get(body_text="Ya le reenviamos el código.").delivery_status == "sent"


def test_outside_the_window_the_approved_template_reaches_the_graph_api(
    client, agent, graph, wa_case
):
    client.force_login(agent)
    client.post(f"/console/cases/{wa_case.number}/reply", {"template": "seguimiento"})
    run_worker()
    sent = _sends(graph)[-1]
    assert sent["type"] == "template"
    params = [p["text"] for p in sent["template"]["components"][0]["parameters"]]
    assert params[0] == wa_case.number
    assert params[1].startswith("Pedro Pérez, su caso")
