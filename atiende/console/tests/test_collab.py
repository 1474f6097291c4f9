"""Two agents on one case: presence, the stale-page guard; and a case for a contact."""

import datetime as dt

import pytest

from atiende.accounts import services as accounts
from atiende.cases import services as cases
from atiende.cases import versions
from atiende.cases.models import Case, Note
from atiende.core import clock
from atiende.customers.models import Contact
from atiende.notifications import selectors as presence
from atiende.notifications import services as presence_services

pytestmark = pytest.mark.django_db

T0 = dt.datetime(2026, 3, 2, 15, 0, tzinfo=dt.UTC)


@pytest.fixture
def luis(db):
    return accounts.create_user(
        email="luis.perez@mesa.test", name="Luis Pérez", role="agent", password="clave-segura-1"
    )


@pytest.fixture
def case(portal, acme, customer, sla_targets):
    return cases.open_case(actor=customer, channel=portal, subject="No puedo firmar")


# -- presence ----------------------------------------------------------------------------------


def test_each_agent_sees_the_other_viewing_then_writing(client, case, agent, luis):
    client.force_login(agent)
    assert "está" not in client.post(f"/console/cases/{case.number}/presence").content.decode()
    other = client.__class__()
    other.force_login(luis)
    seen = other.post(f"/console/cases/{case.number}/presence").content.decode()
    assert "Ana Agente está viendo" in seen
    client.post(f"/console/cases/{case.number}/presence", {"state": "writing"})
    assert (
        "Ana Agente está escribiendo"
        in other.get(f"/console/cases/{case.number}/presence").content.decode()
    )
    assert (
        "Luis Pérez está viendo"
        in client.get(f"/console/cases/{case.number}/presence").content.decode()
    )


def test_an_agent_who_left_is_no_longer_shown(case, agent, luis):
    with clock.frozen(T0) as frozen:
        presence_services.heartbeat(case=case, user=agent)
        assert [p["name"] for p in presence.present_on(case.pk, exclude=luis)] == ["Ana Agente"]
        frozen.advance(seconds=30)
        assert presence.present_on(case.pk, exclude=luis) == []


def test_viewers_of_lists_many_cases_in_one_query(
    case, agent, luis, portal, customer, django_assert_num_queries
):
    other = cases.open_case(actor=customer, channel=portal, subject="Otro")
    presence_services.heartbeat(case=case, user=agent, state="writing")
    presence_services.heartbeat(case=case, user=luis)
    presence_services.heartbeat(case=other, user=luis)
    with django_assert_num_queries(1):
        found = presence.viewers_of([case.pk, other.pk, 999999])
    assert found == {
        case.pk: [
            {"user_id": agent.pk, "name": "Ana Agente", "state": "writing"},
            {"user_id": luis.pk, "name": "Luis Pérez", "state": "viewing"},
        ],
        other.pk: [{"user_id": luis.pk, "name": "Luis Pérez", "state": "viewing"}],
    }
    assert presence.viewers_of([case.pk], exclude=agent)[case.pk][0]["name"] == "Luis Pérez"


def test_presence_of_another_organizations_case_is_404_for_a_customer(client, case, other_customer):
    client.force_login(other_customer)
    assert client.post(f"/console/cases/{case.number}/presence").status_code == 404
    assert client.get("/console/cases/CS9999999/presence").status_code == 404


def test_presence_of_an_unknown_case_is_404(client, agent):
    client.force_login(agent)
    assert client.post("/console/cases/CS9999999/presence").status_code == 404


# -- the stale-page guard ------------------------------------------------------------------------


def test_a_change_on_a_stale_page_is_refused_at_the_service(case, agent, luis):
    with clock.frozen(T0) as frozen:
        seen = versions.version_of(Case.objects.get(pk=case.pk))
        frozen.advance(seconds=5)
        cases.update_case(case=case, actor=luis, expected_version=seen, priority="high")
        frozen.advance(seconds=5)
        with pytest.raises(versions.StaleChange) as refused:
            cases.update_case(case=case, actor=agent, expected_version=seen, priority="low")
        assert "cambió desde que abrió esta página" in refused.value.message
        assert refused.value.status == 409
        with pytest.raises(versions.StaleChange):
            cases.change_status(case=case, actor=agent, status="cancelled", expected_version=seen)
        with pytest.raises(versions.StaleChange):
            cases.add_note(case=case, actor=agent, body_text="hola", expected_version=seen)
    case.refresh_from_db()
    assert case.priority == "high" and case.status != "cancelled"
    assert not Note.objects.filter(case=case, body_text="hola").exists()
    fresh = versions.version_of(case)
    cases.update_case(case=case, actor=agent, expected_version=fresh, priority="low")


def test_a_stale_form_is_refused_with_the_message_on_the_page(client, case, agent, luis, acme):
    parent = cases.open_case(
        actor=agent, channel=case.channel, subject="Caída general", organization=acme
    )
    page_version = versions.version_of(Case.objects.get(pk=case.pk))
    with clock.frozen(clock.now() + dt.timedelta(seconds=1)):
        cases.update_case(case=case, actor=luis, priority="high")
    client.force_login(agent)
    response = client.post(
        f"/console/cases/{case.number}/incident",
        {
            "parent": parent.number,
            "version": page_version,
            "next": f"/console/incidents/{case.number}",  # a page that includes _side_more
        },
        follow=True,
    )
    assert "cambió desde que abrió esta página" in response.content.decode()
    case.refresh_from_db()
    assert case.parent_incident_id is None


# -- a case for a contact --------------------------------------------------------------------------


def test_lookup_by_phone_written_any_way(client, agent, acme, portal):
    from atiende.customers import services as customers

    customers.create_contact(name="Pedro Páramo", organization=acme, phones=["3184872656"])
    client.force_login(agent)
    page = client.get("/console/cases/new", {"q": "+57 318 487 2656"}).content.decode()
    assert "Pedro Páramo" in page
    assert "Pedro Páramo" in client.get("/console/cases/new", {"q": "páramo"}).content.decode()
    assert "No se encontró" in client.get("/console/cases/new", {"q": "zzz"}).content.decode()


def test_a_case_for_an_existing_contact(client, agent, acme, portal, sla_targets):
    from atiende.customers import services as customers

    pedro = customers.create_contact(name="Pedro", organization=acme, emails=["p@acme.com.co"])
    client.force_login(agent)
    response = client.post(
        "/console/cases/new",
        {"contact": pedro.pk, "subject": "Llamó por su firma", "channel": "portal"},
    )
    case = Case.objects.get(subject="Llamó por su firma")
    assert response["Location"] == f"/console/cases/{case.number}"
    assert case.requester == pedro and case.organization == acme


def test_a_case_for_a_new_contact_creates_the_contact(client, agent, acme, portal, sla_targets):
    client.force_login(agent)
    client.post(
        "/console/cases/new",
        {
            "name": "María Nueva",
            "phone": "318 487 2656",
            "organization": "acme",
            "subject": "Primera llamada",
            "channel": "portal",
        },
    )
    contact = Contact.objects.get(name="María Nueva")
    assert contact.organization == acme
    assert [p.number for p in contact.phones.all()] == ["+573184872656"]
    assert Case.objects.get(subject="Primera llamada").requester == contact


def test_a_refused_case_leaves_no_new_contact(client, agent, acme, portal, sla_targets):
    client.force_login(agent)
    response = client.post(
        "/console/cases/new",
        {"name": "Nadie", "email": "nadie@acme.com.co", "subject": "", "channel": "portal"},
    )
    assert response.status_code == 200
    assert "No se pudo crear el caso" in response.content.decode()
    assert not Contact.objects.filter(name="Nadie").exists()


def test_a_new_contact_needs_a_name_and_an_address(client, agent, portal, sla_targets):
    client.force_login(agent)
    response = client.post("/console/cases/new", {"subject": "x", "channel": "portal"})
    assert "Elija un contacto encontrado" in response.content.decode()
    assert not Case.objects.exists()


def test_the_new_case_page_is_in_the_nav_and_not_for_customers(client, agent, customer):
    client.force_login(agent)
    assert 'href="/console/cases/new"' in client.get("/console/").content.decode()
    client.force_login(customer)
    assert client.get("/console/cases/new").status_code == 404
