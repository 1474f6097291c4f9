"""A fixed number of SQL statements per portal page, whatever the number of rows."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from atiende.accounts import invitations
from atiende.cases import services as cases

pytestmark = pytest.mark.django_db

# The most a page may take (sessions, user, configuration snapshot, the page's reads).
MAX_LIST = 12
MAX_CASE = 30


def _count(client: Client, url: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries)


def test_my_cases_takes_the_same_queries_for_one_case_or_a_full_page(customer, portal, incident):
    client = Client()
    client.force_login(customer)
    invitations.set_manager(user=customer, manager=True, actor=None)
    few = _count(client, "/portal/")
    few_org = _count(client, "/portal/?ver=organization&q=firmar")
    for i in range(30):
        cases.open_case(actor=customer, channel=portal, subject=f"Caso {i} firmar")
    assert _count(client, "/portal/") == few
    assert _count(client, "/portal/?ver=organization&q=firmar") == few_org
    assert few <= MAX_LIST


def test_the_case_page_takes_the_same_queries_for_few_or_many_notes(
    customer, agent, colleague, incident
):
    from atiende.cases import customer as case_customer

    client = Client()
    client.force_login(customer)
    url = f"/portal/cases/{incident.number}"
    cases.add_note(case=incident, body_text="primera", actor=agent)
    few = _count(client, url)
    for i in range(15):
        note = cases.add_note(case=incident, body_text=f"respuesta {i}", actor=agent)
        cases.add_attachment(
            case=incident, filename=f"f{i}.txt", chunks=[b"x"], actor=agent, note=note
        )
        cases.add_note(case=incident, body_text=f"interna {i}", actor=agent, visibility="internal")
    case_customer.follow_case(case=incident, contact=colleague.contact, actor=customer)
    assert _count(client, url) == few
    assert few <= MAX_CASE


def test_the_new_case_page_takes_a_fixed_number_of_queries(customer, reference):
    client = Client()
    client.force_login(customer)
    assert _count(client, "/portal/cases/new") <= MAX_LIST
