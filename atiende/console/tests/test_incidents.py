"""Major incidents: link cases to a parent and answer all of them at once."""

import pytest

from atiende.cases import incidents
from atiende.cases import services as cases
from atiende.cases.models import Note
from atiende.channels.messages import InboundMessage
from atiende.channels.services import receive_message
from atiende.core.errors import InvalidInput
from atiende.worker.models import Job

pytestmark = pytest.mark.django_db


@pytest.fixture
def outage(email_channel, portal, acme, customer, agent, sla_targets):
    parent = cases.open_case(
        actor=agent, channel=portal, subject="Caída de la firma digital", organization=acme
    )
    by_mail = receive_message(
        InboundMessage(
            channel="correo",
            external_id="<x1@acme.com.co>",
            body_text="No funciona",
            subject="Caída",
            sender_email="pedro@acme.com.co",
            sender_name="Pedro Páramo",
        )
    ).case
    by_portal = cases.open_case(actor=customer, channel=portal, subject="No firma")
    for child in (by_mail, by_portal):
        incidents.link_to_incident(case=child, parent=parent, actor=agent)
    return parent, by_mail, by_portal


def test_children_are_listed_on_the_parent(client, outage, agent):
    parent, by_mail, by_portal = outage
    assert list(incidents.incident_cases(parent)) == [by_mail, by_portal]
    client.force_login(agent)
    page = client.get(f"/console/incidents/{parent.number}").content.decode()
    assert by_mail.number in page and by_portal.number in page and "Responder a todos" in page


def test_reply_to_all_answers_each_on_its_channel_with_its_placeholders(outage, agent):
    parent, by_mail, by_portal = outage
    result = incidents.reply_to_incident(
        parent=parent, body="Hola {contacto}: su caso {caso} está en revisión.", actor=agent
    )
    assert sorted(result.answered) == sorted([by_mail.number, by_portal.number])
    mail = Note.objects.get(case=by_mail, author_user=agent)
    assert mail.body_text == f"Hola Pedro Páramo: su caso {by_mail.number} está en revisión."
    assert mail.channel.slug == "correo" and mail.delivery_status == "pending"
    assert Job.objects.filter(kind="deliver_note", payload__note_id=mail.pk).exists()
    portal_note = Note.objects.get(case=by_portal, author_user=agent)
    assert (
        portal_note.body_text == f"Hola Carla Cliente: su caso {by_portal.number} está en revisión."
    )


def test_a_finished_child_is_skipped_not_fatal(outage, agent):
    parent, by_mail, by_portal = outage
    cases.change_status(case=by_portal, actor=agent, status="cancelled")
    result = incidents.reply_to_incident(parent=parent, body="Seguimos", actor=agent)
    assert result.answered == [by_mail.number]
    assert by_portal.number in result.skipped


def test_reply_to_all_through_the_page(client, outage, agent):
    parent, by_mail, _by_portal = outage
    client.force_login(agent)
    page = client.post(
        f"/console/incidents/{parent.number}", {"body": "Resuelto en {caso}"}
    ).content.decode()
    assert "Se respondieron 2 casos" in page
    assert Note.objects.filter(body_text=f"Resuelto en {by_mail.number}").exists()


def test_link_refusals(outage, agent):
    parent, by_mail, _by_portal = outage
    with pytest.raises(InvalidInput):
        incidents.link_to_incident(case=parent, parent=by_mail, actor=agent)  # parent has children
    with pytest.raises(InvalidInput):
        incidents.link_to_incident(case=parent, parent=parent, actor=agent)
    incidents.unlink_from_incident(case=by_mail, actor=agent)
    by_mail.refresh_from_db()
    assert by_mail.parent_incident_id is None


def test_link_and_unlink_through_the_side_actions(client, outage, agent, portal, customer):
    parent, _by_mail, _by_portal = outage
    other = cases.open_case(actor=customer, channel=portal, subject="Tampoco")
    client.force_login(agent)
    client.post(f"/console/cases/{other.number}/incident", {"parent": parent.number})
    other.refresh_from_db()
    assert other.parent_incident_id == parent.pk
    client.post(f"/console/cases/{other.number}/incident/unlink")
    other.refresh_from_db()
    assert other.parent_incident_id is None


def test_a_customer_gets_404_on_the_incident_page(client, outage, customer):
    parent, *_ = outage
    client.force_login(customer)
    assert client.get(f"/console/incidents/{parent.number}").status_code == 404
