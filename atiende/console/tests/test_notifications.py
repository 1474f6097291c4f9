"""Agents' notifications: what rings the bell, the page, read marks, email by preference."""

import pytest

from atiende.accounts import services as accounts
from atiende.cases import services as cases
from atiende.channels.messages import InboundMessage
from atiende.channels.services import receive_message
from atiende.notifications import selectors
from atiende.notifications import services as notifications
from atiende.notifications.mentions import mentioned_users
from atiende.notifications.models import Kind, Notification
from atiende.worker.models import Job

pytestmark = pytest.mark.django_db


@pytest.fixture
def luis(db):
    return accounts.create_user(
        email="luis.perez@mesa.test", name="Luis Pérez", role="agent", password="clave-segura-1"
    )


@pytest.fixture
def case(portal, acme, customer, sla_targets):
    return cases.open_case(actor=customer, channel=portal, subject="No puedo firmar")


def kinds(user):
    return [n.kind for n in Notification.objects.filter(user=user)]


def test_assigning_a_case_rings_the_assignees_bell(case, agent, luis):
    cases.update_case(case=case, actor=agent, assignee=luis)
    assert kinds(luis) == [Kind.ASSIGNED]
    row = Notification.objects.get(user=luis)
    assert case.number in row.text and "Ana Agente" in row.text
    assert row.link == f"/console/cases/{case.number}"
    assert selectors.unread_count(luis) == 1


def test_taking_a_case_myself_rings_nothing(case, agent):
    cases.update_case(case=case, actor=agent, assignee=agent)
    assert kinds(agent) == []


def test_a_customer_answer_rings_the_assignee(case, agent, luis, customer):
    cases.update_case(case=case, actor=agent, assignee=luis)
    cases.add_note(case=case, actor=customer, body_text="¿Alguna novedad?")
    assert kinds(luis) == [Kind.CUSTOMER_ANSWERED, Kind.ASSIGNED]


def test_a_channel_message_rings_the_assignee(email_channel, acme, agent, luis, sla_targets):
    first = receive_message(
        InboundMessage(
            channel="correo",
            external_id="<m1@acme.com.co>",
            body_text="Hola",
            subject="Ayuda",
            sender_email="pedro@acme.com.co",
        )
    )
    cases.update_case(case=first.case, actor=agent, assignee=luis)
    receive_message(
        InboundMessage(
            channel="correo",
            external_id="<m2@acme.com.co>",
            body_text="Más datos",
            subject=f"Re: [{first.case.number}] Ayuda",
            sender_email="pedro@acme.com.co",
        )
    )
    assert Kind.CUSTOMER_ANSWERED in kinds(luis)


def test_a_mention_in_an_internal_note_rings_the_named_agent(case, agent, luis, customer):
    cases.add_note(
        case=case, actor=agent, visibility="internal", body_text="@luis.perez ¿lo revisas?"
    )
    assert kinds(luis) == [Kind.MENTIONED]
    assert kinds(agent) == []


def test_mentions_resolve_local_part_or_name_and_only_staff(agent, luis, customer):
    assert {u.email for u in mentioned_users("hola @LUIS.PEREZ y @AnaAgente")} == {
        "luis.perez@mesa.test",
        "ana.agente@mesa.test",
    }
    assert mentioned_users("escriba a luis.perez@mesa.test") == []  # an address, not a mention
    assert mentioned_users("@carla") == []  # a customer is never mentioned


def test_a_public_comment_with_an_at_mentions_nobody(case, agent, luis):
    cases.add_note(case=case, actor=agent, body_text="Gracias @luis.perez")
    assert kinds(luis) == []


def test_sla_at_risk_and_breach_ring_the_assignee(case, agent, luis):
    from atiende.sla import services as sla
    from atiende.sla.models import SlaTimer

    cases.update_case(case=case, actor=agent, assignee=luis)
    timer = SlaTimer.objects.filter(case=case).order_by("due_at").first()
    sla.sweep(now=timer.at_risk_at)
    assert Kind.AT_RISK in kinds(luis)
    sla.sweep(now=timer.due_at)
    assert Kind.BREACHED in kinds(luis)


def test_email_goes_through_the_outbox_only_when_asked(case, agent, luis):
    cases.update_case(case=case, actor=agent, assignee=luis)
    assert not Job.objects.filter(kind="notify", payload__event="agent.assigned").exists()
    notifications.set_preference(user=luis, email_kinds=[Kind.ASSIGNED])
    cases.update_case(case=case, actor=agent, assignee=agent)
    cases.update_case(case=case, actor=agent, assignee=luis)
    job = Job.objects.get(kind="notify", payload__event="agent.assigned")
    assert job.payload["recipients"] == [
        {"kind": "email", "address": "luis.perez@mesa.test", "name": "Luis Pérez"}
    ]


def test_bell_and_page_show_and_mark_read(client, case, agent, luis):
    cases.update_case(case=case, actor=agent, assignee=luis)
    client.force_login(luis)
    bell = client.get("/console/notificaciones/campana").content.decode()
    assert 'data-unread="1"' in bell and "1 sin leer" in bell
    page = client.get("/console/notificaciones").content.decode()
    assert case.number in page and "Marcar como leída" in page
    row = Notification.objects.get(user=luis)
    response = client.post(f"/console/notificaciones/{row.pk}/leida", {"open": "1"})
    assert response["Location"] == f"/console/cases/{case.number}"
    assert selectors.unread_count(luis) == 0
    assert 'data-unread="0"' in client.get("/console/notificaciones/campana").content.decode()


def test_mark_all_read_and_preferences(client, case, agent, luis):
    cases.update_case(case=case, actor=agent, assignee=luis)
    cases.add_note(case=case, actor=agent, visibility="internal", body_text="@luis.perez mira")
    client.force_login(luis)
    client.post("/console/notificaciones/leidas")
    assert selectors.unread_count(luis) == 0
    client.post("/console/notificaciones/preferencias", {"email": ["mentioned", "breached"]})
    assert selectors.email_kinds(luis) == ["mentioned", "breached"]
    response = client.post("/console/notificaciones/preferencias", {"email": ["nada"]})
    assert response.status_code == 302
    assert selectors.email_kinds(luis) == ["mentioned", "breached"]


def test_another_users_notification_is_not_found(client, case, agent, luis):
    cases.update_case(case=case, actor=agent, assignee=luis)
    row = Notification.objects.get(user=luis)
    client.force_login(agent)
    assert client.post(f"/console/notificaciones/{row.pk}/leida").status_code == 404
    assert Notification.objects.get(pk=row.pk).read_at is None


def test_a_customer_gets_404_on_the_notification_pages(client, customer):
    client.force_login(customer)
    for url in ("/console/notificaciones", "/console/notificaciones/campana"):
        assert client.get(url).status_code == 404


def test_the_bell_counts_with_a_fixed_number_of_queries(
    client, case, agent, luis, django_assert_max_num_queries
):
    for _ in range(30):
        notifications.notify(user=luis, kind=Kind.MENTIONED, case=case, text="x")
    client.force_login(luis)
    with django_assert_max_num_queries(6):
        client.get("/console/notificaciones/campana")
    with django_assert_max_num_queries(10):
        client.get("/console/notificaciones")


def test_the_pages_speak_english_when_chosen(client, case, agent, luis):
    from django.urls import reverse

    cases.update_case(case=case, actor=agent, assignee=luis)
    client.force_login(luis)
    client.post(reverse("set_language"), {"language": "en", "next": "/console/"})
    page = client.get("/console/notificaciones").content.decode()
    assert "Mark all as read" in page and "1 unread" in page
    assert "Create a case" in client.get("/console/cases/new").content.decode()


def test_an_escalation_request_rings_the_responsibles_of_the_requested_level(
    case, agent, supervisor
):
    from types import SimpleNamespace

    from atiende.core import events

    # What escalations.services.request_escalation publishes once the request is stored.
    events.publish("escalation.requested", case=case, request=SimpleNamespace(to_level=2))
    assert kinds(supervisor) == [Kind.ESCALATION]
    assert "espera su verificación" in Notification.objects.get(user=supervisor).text
    assert kinds(agent) == []
