"""Guided flows on both lines, driven by signed webhooks and answered through the Graph peer."""

import datetime as dt
import json

import pytest

from atiende.cases import services as cases
from atiende.cases.models import Case
from atiende.channels.whatsapp.tests.conftest import run
from atiende.core import clock
from atiende.customers import services as customers

SUNDAY = dt.datetime(2026, 3, 8, 15, 0, tzinfo=dt.UTC)


pytestmark = pytest.mark.usefixtures("_frozen")


def said(graph, to="573001234567"):
    """Texts and interactive bodies sent to `to`, in order."""
    out = []
    for s in graph.sends():
        if s.get("to") != to:
            continue
        if s["type"] == "text":
            out.append(s["text"]["body"])
        elif s["type"] == "interactive":
            out.append(s["interactive"]["body"]["text"])
        else:
            out.append(f"<{s['type']}>")
    return out


def test_the_monitoring_line_opens_a_critical_incident_and_asks_the_details(meta, monitoreo, graph):
    meta.text("No funciona la firma digital")
    run()
    case = Case.objects.get()
    assert (case.type, case.priority) == ("incident", "critical")
    texts = said(graph)
    assert "CS0000001" in texts[0]  # the acknowledgement note, delivered
    assert texts[-1] == "Para atenderle mejor: ¿de qué organización nos escribe?"
    for answer in ("ACME", "Firma digital", "Desde las 9 ningún usuario puede firmar"):
        meta.text(answer)
        run()
    assert said(graph)[-3:-1] == [
        "¿Qué servicio está afectado?",
        "Describa qué está pasando (desde cuándo, a quiénes afecta, mensajes de error).",
    ]
    done = graph.sends()[-1]
    assert done["type"] == "interactive" and "CS0000001" in done["interactive"]["body"]["text"]
    assert done["interactive"]["action"]["buttons"][0]["reply"]["id"] == "escalar:CS0000001"
    assert Case.objects.count() == 1 and case.notes.filter(direction="inbound").count() == 4


def test_a_known_organization_is_not_asked_for(meta, monitoreo, graph, acme):
    customers.create_contact(name="Ana", organization=acme, phones=["+573001234567"])
    meta.text("Caído")
    run()
    assert said(graph)[-1] == "¿Qué servicio está afectado?"


def test_the_corporate_line_offers_the_menu_to_a_new_conversation(meta, corporativo, graph):
    meta.text("Buenos días", line="corporativo")
    run()
    [menu] = graph.sends()
    assert menu["type"] == "interactive" and menu["interactive"]["type"] == "list"
    rows = menu["interactive"]["action"]["sections"][0]["rows"]
    assert [r["id"] for r in rows] == [
        "menu:solicitud",
        "menu:incidente",
        "menu:estado",
        "menu:agente",
    ]
    assert all(len(r["title"]) <= 24 for r in rows)
    assert not Case.objects.exists()


def test_a_new_request_keeps_the_first_message_as_the_case(meta, corporativo, graph):
    first = meta.text("Necesito un certificado adicional", line="corporativo")
    meta.text("", line="corporativo", reply_id="menu:solicitud")
    run()
    case = Case.objects.get()
    assert (case.type, case.subject) == ("request", "Necesito un certificado adicional")
    assert case.notes.get(direction="inbound").external_id == first
    assert "CS0000001" in said(graph)[-1]
    meta.text("Es para la sede de Medellín", line="corporativo")  # now talks on the open case
    run()
    assert case.notes.filter(direction="inbound").count() == 2 and Case.objects.count() == 1


def test_choosing_first_then_describing(meta, corporativo, graph):
    meta.text("menú", line="corporativo")
    meta.text("", line="corporativo", reply_id="menu:incidente")
    run()
    assert said(graph)[-1].startswith("Describa el incidente")
    meta.text("El sistema de facturación está caído", line="corporativo")
    run()
    assert Case.objects.get().type == "incident"


def test_a_request_out_of_hours_gets_when_and_the_24x7_channels(
    meta, corporativo, monitoreo, portal, graph, _frozen
):
    portal.hours = [
        {"when": {"type": "incident"}, "schedule": "24x7"},
        {"schedule": "horario-habil"},
    ]
    portal.save()
    _frozen.set(SUNDAY)
    meta.text("Necesito cambiar mi contraseña", line="corporativo")
    meta.text("", line="corporativo", reply_id="menu:solicitud")
    run()
    ack, pointer = said(graph)[-2:]
    assert "fuera de su horario" in ack and "lunes 9 de marzo a las 7:00 a. m." in ack
    assert "WhatsApp Centro de Monitoreo" in pointer and "Portal de autogestión" in pointer
    assert "WhatsApp Corporativo" not in pointer


def test_talk_to_an_agent_opens_a_case_for_the_agents(meta, corporativo, graph):
    meta.text("", line="corporativo", reply_id="menu:agente")
    run()
    case = Case.objects.get()
    assert (
        case.notes.get(direction="inbound").body_text
        == "El cliente pidió hablar con un agente de servicio."
    )
    assert said(graph)[-1].startswith("Un agente de servicio le responderá")


@pytest.fixture
def acme_case(corporativo, acme, agent):
    ana = customers.create_contact(name="Ana", organization=acme, phones=["+573001234567"])
    colleague = customers.create_contact(
        name="Beto", organization=acme, emails=["beto@acme.com.co"]
    )
    case = cases.open_case(
        actor=agent,
        channel=corporativo,
        subject="Renovación de certificado",
        requester=colleague,
        organization=acme,
    )
    cases.add_note(
        case=case, actor=agent, body_text="Estamos generando el certificado.", visibility="public"
    )
    return ana, case


def test_status_of_a_case_of_my_organization(meta, acme_case, graph):
    meta.text("", line="corporativo", reply_id="menu:estado")
    meta.text("Es el cs0000001 por favor", line="corporativo")
    run()
    status = graph.sends()[-1]
    body = status["interactive"]["body"]["text"]
    assert "CS0000001" in body and "Abierto" in body and "Estamos generando el certificado." in body
    assert status["interactive"]["action"]["buttons"][0]["reply"]["id"] == "escalar:CS0000001"


def test_another_organizations_case_gets_the_same_answer_as_a_missing_one(
    meta, acme_case, globex, graph, agent, corporativo
):
    other = cases.open_case(
        actor=agent, channel=corporativo, subject="Secreto", organization=globex
    )
    answers = []
    for number in (other.number, "CS0009999"):
        meta.text("", line="corporativo", reply_id="menu:estado")
        meta.text(number, line="corporativo")
        run()
        answers.append(said(graph)[-1].replace(number, "N"))
    assert answers[0] == answers[1] and "No encontramos" in answers[0]
    assert "Secreto" not in json.dumps(graph.sends())


@pytest.fixture
def ladder(db):
    from atiende.escalations.models import EscalationLevel

    for n in (1, 2, 3, 4):
        EscalationLevel.objects.create(number=n, name=f"Nivel {n}", title=f"Nivel {n}")


def test_the_escalation_button_answers_the_refusal_reason(meta, acme_case, ladder, graph):
    _, case = acme_case
    meta.text("", line="corporativo", reply_id=f"escalar:{case.number}")
    run()
    assert said(graph)[-1].startswith(
        f"No es posible escalar el caso {case.number}: El nivel 1 aún está"
    )


def test_the_escalation_button_requests_escalation_when_the_rules_allow(
    meta, acme_case, ladder, graph, agent
):
    from atiende.escalations.models import EscalationRequest

    _, case = acme_case
    cases.change_status(case=case, actor=agent, status="resolved")
    cases.change_status(
        case=case, actor=None, status="open", reason="el cliente rechazó la solución"
    )
    meta.text("", line="corporativo", reply_id=f"escalar:{case.number}")
    run()
    row = EscalationRequest.objects.get(case=case)
    assert (row.via, row.to_level, row.requested_by_contact.name) == (
        "whatsapp",
        2,
        "Ana",
    )
    assert not any(t.startswith("No es posible") for t in said(graph))


def test_the_escalation_button_for_a_foreign_case_is_not_found(
    meta, acme_case, globex, agent, corporativo, graph
):
    other = cases.open_case(
        actor=agent, channel=corporativo, subject="Secreto", organization=globex
    )
    meta.text("", line="corporativo", reply_id=f"escalar:{other.number}")
    run()
    assert "No encontramos" in said(graph)[-1]


def test_texts_are_editable_per_channel(meta, corporativo, graph):
    corporativo.settings |= {"text_ask_number": "Indique el número del caso."}
    corporativo.save()
    meta.text("", line="corporativo", reply_id="menu:estado")
    run()
    assert said(graph)[-1] == "Indique el número del caso."


def test_a_redelivered_menu_choice_is_answered_once(meta, corporativo, graph):
    meta.text("", line="corporativo", reply_id="menu:estado", message_id="wamid.CHOICE")
    meta.text("", line="corporativo", reply_id="menu:estado", message_id="wamid.CHOICE")
    run()
    assert said(graph).count("Escriba el número de su caso (por ejemplo CS0000123).") == 1


def test_a_message_reads_its_conversation_once_locked_and_probes_no_note(
    meta, monitoreo, graph, acme
):
    """The inbox job's statements on the hot path (issue 17): the conversation is found and
    locked by one SELECT; the note is not looked for first (the message's id was just
    recorded new in `ProcessedMessage`; the unique (channel, external id) still decides)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    customers.create_contact(name="Ana", organization=acme, phones=["+573001234567"])
    meta.text("Caído")
    run()
    meta.text("Desde las 9")
    with CaptureQueriesContext(connection) as queries:
        run(1)
    sql = [q["sql"] for q in queries.captured_queries]
    found = [s for s in sql if s.startswith("SELECT") and "channels_whatsapp_conversation" in s]
    assert len(found) == 1
    assert found[0].endswith("FOR UPDATE") == connection.features.has_select_for_update
    assert not any(s.startswith("SELECT") and 'FROM "cases_note"' in s for s in sql)
    case = Case.objects.get()
    assert case.notes.filter(direction="inbound").count() == 2


def test_a_message_a_service_refuses_does_not_hold_back_the_rest_of_its_notification(
    meta, monitoreo, graph
):
    """The webhook job runs first without a savepoint per message (worker `batch=True`);
    the refusal it catches makes it run again with them, where only that message is undone."""
    from atiende.cases.models import Note
    from atiende.channels.whatsapp import simulate
    from atiende.channels.whatsapp.models import ProcessedMessage
    from atiende.channels.whatsapp.tests.conftest import MONITOREO_ID
    from atiende.worker.models import Job

    meta.text("No funciona la firma digital")  # Ana's incident, opened
    run()
    ana = Case.objects.get()
    # From now on the line opens no incident: a newcomer's message is refused by open_case.
    monitoreo.settings = {**monitoreo.settings, "flow": "monitoring"}
    monitoreo.attends = [{"type": "request", "priority": "low"}]
    monitoreo.save()
    at = int(clock.now().timestamp())
    body = simulate.envelope(
        phone_number_id=MONITOREO_ID,
        display_phone_number="573184872656",
        contacts=[
            {"wa_id": w, "profile": {"name": n}}
            for w, n in (("573009990000", "Bruno"), ("573001234567", "Ana Gómez"))
        ],
        messages=[
            simulate.message(
                wa_id="573009990000", text="Hola", message_id="wamid.BRUNO", timestamp=at
            ),
            simulate.message(
                wa_id="573001234567", text="Sigue caída", message_id="wamid.ANA2", timestamp=at + 1
            ),
        ],
    )
    assert meta.post(body).status_code == 200
    run()
    assert list(
        Note.objects.filter(external_id="wamid.ANA2").values_list("case_id", flat=True)
    ) == [ana.pk]
    assert not Note.objects.filter(external_id="wamid.BRUNO").exists()
    assert Case.objects.count() == 1
    # Bruno's message left no trace that would make a redelivery a no-op.
    assert not ProcessedMessage.objects.filter(message_id="wamid.BRUNO").exists()
    assert ProcessedMessage.objects.filter(message_id="wamid.ANA2").count() == 1
    assert not Job.objects.filter(kind="whatsapp.webhook").exclude(status="done").exists()
    assert graph.reads()[-1:] == ["wamid.ANA2"]
