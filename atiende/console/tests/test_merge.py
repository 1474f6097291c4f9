"""Merging a duplicate case into the case that survives."""

import pytest

from atiende.cases import merging
from atiende.cases import services as cases
from atiende.cases.models import Case, Note
from atiende.channels.messages import InboundMessage
from atiende.channels.services import receive_message
from atiende.core.errors import InvalidInput, PermissionDenied
from atiende.core.models import AuditEntry

pytestmark = pytest.mark.django_db


@pytest.fixture
def pair(email_channel, acme, sla_targets):
    first = receive_message(
        InboundMessage(
            channel="correo",
            external_id="<a1@acme.com.co>",
            body_text="No puedo firmar",
            subject="Firma",
            sender_email="pedro@acme.com.co",
        )
    ).case
    dup = receive_message(
        InboundMessage(
            channel="correo",
            external_id="<b1@acme.com.co>",
            body_text="Sigo sin poder firmar",
            subject="Firma otra vez",
            sender_email="pedro@acme.com.co",
        )
    ).case
    return first, dup


def test_notes_move_and_the_duplicate_closes_pointing_to_the_survivor(pair, agent):
    survivor, dup = pair
    cases.add_note(case=dup, actor=agent, visibility="internal", body_text="Es el mismo")
    moved = set(Note.objects.filter(case=dup).values_list("pk", flat=True))
    assert merging.merge_case(case=dup, into=survivor, actor=agent) == survivor
    dup.refresh_from_db()
    assert dup.status == "closed" and dup.merged_into == survivor and dup.closed_at
    assert set(Note.objects.filter(case=survivor).values_list("pk", flat=True)) >= moved
    assert not Note.objects.filter(case=dup).exists()
    actions = set(AuditEntry.objects.values_list("action", flat=True))
    assert {"case.merged", "case.merged_here"} <= actions


def test_a_merged_case_refuses_staff_answers_pointing_to_the_survivor(pair, agent):
    survivor, dup = pair
    merging.merge_case(case=dup, into=survivor, actor=agent)
    with pytest.raises(merging.CaseMerged) as refused:
        cases.add_note(case=dup, actor=agent, body_text="Hola")
    assert refused.value.status == 409
    assert survivor.number in refused.value.message
    assert refused.value.extra["survivor"] == survivor.number


def test_the_api_answers_409_with_the_survivor(client, pair, agent):
    from atiende.accounts import services as acc

    survivor, dup = pair
    merging.merge_case(case=dup, into=survivor, actor=agent)
    token = acc.issue_token(user=agent)
    response = client.post(
        f"/api/v1/cases/{dup.number}/notes",
        {"body": "Hola"},
        content_type="application/json",
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "merged" and body["survivor"] == survivor.number
    assert survivor.number in body["detail"]


def test_an_email_reply_to_the_duplicate_lands_on_the_survivor(pair, agent):
    survivor, dup = pair
    merging.merge_case(case=dup, into=survivor, actor=agent)
    got = receive_message(
        InboundMessage(
            channel="correo",
            external_id="<b2@acme.com.co>",
            body_text="¿Novedades?",
            subject=f"Re: [{dup.number}] Firma otra vez",
            sender_email="pedro@acme.com.co",
        )
    )
    assert got.case.pk == survivor.pk and not got.new_case


def test_a_customer_answer_on_the_duplicate_lands_on_the_survivor(portal, acme, customer, agent):
    a = cases.open_case(actor=customer, channel=portal, subject="Uno")
    b = cases.open_case(actor=customer, channel=portal, subject="Dos")
    merging.merge_case(case=b, into=a, actor=agent)
    note = cases.add_note(case=b, actor=customer, body_text="Sigo esperando")
    assert note.case_id == a.pk


def test_merge_refusals(pair, agent, portal, globex, customer, other_customer):
    survivor, dup = pair
    with pytest.raises(InvalidInput):
        merging.merge_case(case=dup, into=dup, actor=agent)
    other = cases.open_case(actor=other_customer, channel=portal, subject="Globex")
    with pytest.raises(InvalidInput) as refused:
        merging.merge_case(case=dup, into=other, actor=agent)
    assert "misma organización" in refused.value.errors["into"]
    with pytest.raises(PermissionDenied):
        merging.merge_case(case=dup, into=survivor, actor=customer)
    merging.merge_case(case=dup, into=survivor, actor=agent)
    with pytest.raises(InvalidInput):
        merging.merge_case(case=dup, into=survivor, actor=agent)


def test_merge_through_the_console(client, pair, agent):
    survivor, dup = pair
    client.force_login(agent)
    response = client.post(f"/console/cases/{dup.number}/merge", {"into": survivor.number.lower()})
    assert response["Location"] == f"/console/cases/{survivor.number}"
    assert Case.objects.get(pk=dup.pk).merged_into_id == survivor.pk


def test_merge_into_an_unknown_case_says_so(client, pair, agent):
    _survivor, dup = pair
    client.force_login(agent)
    response = client.post(
        f"/console/cases/{dup.number}/merge",
        {"into": "CS9999999", "next": f"/console/incidents/{dup.number}"},
        follow=True,
    )
    assert "No existe el caso CS9999999" in response.content.decode()
    assert Case.objects.get(pk=dup.pk).merged_into_id is None


def test_the_side_actions_point_a_merged_case_to_the_survivor(client, pair, agent):
    survivor, dup = pair
    merging.merge_case(case=dup, into=survivor, actor=agent)
    client.force_login(agent)
    page = client.get(f"/console/incidents/{dup.number}").content.decode()
    assert f"se fusionó en el caso {survivor.number}" in page
    assert f'href="/console/cases/{survivor.number}"' in page
    assert "Fusionar" not in page


def test_a_customer_cannot_merge(client, pair, customer):
    survivor, dup = pair
    client.force_login(customer)
    assert (
        client.post(f"/console/cases/{dup.number}/merge", {"into": survivor.number}).status_code
        == 404
    )
    assert Case.objects.get(pk=dup.pk).merged_into_id is None


def test_a_whatsapp_message_after_a_merge_lands_on_the_survivor(
    make_channel, acme, agent, sla_targets
):
    make_channel("wa", "whatsapp", name="WhatsApp")

    def message(n):
        return InboundMessage(
            channel="wa",
            external_id=f"wamid.{n}",
            body_text=f"mensaje {n}",
            sender_whatsapp="573184872656",
            sender_name="Pedro",
            join_open_case=True,
        )

    dup = receive_message(message(1)).case
    survivor = cases.open_case(actor=agent, channel=dup.channel, subject="El caso bueno")
    merging.merge_case(case=dup, into=survivor, actor=agent)
    got = receive_message(message(2))
    assert got.case.pk == survivor.pk and not got.new_case
