"""/console/informes: supervisors and admins read the reports; agents are told no, customers 404."""

from __future__ import annotations

import re

import pytest

from atiende.reports import services
from atiende.reports.tests import week as the_week
from atiende.reports.tests.week import WEEK

week, frozen_end = the_week.week, the_week.frozen_end  # the test week's fixtures
pytestmark = pytest.mark.django_db


@pytest.fixture
def refreshed(week, frozen_end):
    services.refresh()
    return week


def test_supervisor_reads_sla_per_channel_and_the_heatmap(client, supervisor, refreshed):
    client.force_login(supervisor)
    response = client.get("/console/informes", WEEK)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Cumplimiento de ANS por canal" in html
    assert "66.7 %" in html  # correo, first response
    assert html.count("<svg") >= 5  # SLA, 3 heatmaps, missed calls, escalations, backlog…
    assert "Contactos por hora de la semana: Correo" in html
    assert 'style="' not in html and "<script>" not in html  # CSP: no inline style or script
    assert "/api/v1/reports/sla?" in html and "format=csv" in html
    assert 'href="/console/informes"' in html  # the nav link


def test_admin_reads_them_too_and_the_nav_shows_the_link(client, admin_user, refreshed):
    client.force_login(admin_user)
    assert client.get("/console/informes", WEEK).status_code == 200
    assert "Informes" in client.get("/console/").content.decode()


def test_agent_gets_a_clear_refusal_and_no_nav_link(client, agent, refreshed):
    client.force_login(agent)
    response = client.get("/console/informes")
    assert response.status_code == 403
    assert "son para supervisores y administradores" in response.content.decode()
    assert client.get("/console/informes/casos").status_code == 403
    assert 'href="/console/informes"' not in client.get("/console/").content.decode()


def test_customer_gets_not_found_and_anonymous_goes_to_sign_in(client, customer, refreshed):
    assert client.get("/console/informes")["Location"].startswith("/accounts/login/")
    client.force_login(customer)
    assert client.get("/console/informes").status_code == 404
    assert client.get("/console/informes/casos").status_code == 404


def test_every_drill_link_on_the_page_lists_its_cases(client, supervisor, refreshed):
    client.force_login(supervisor)
    html = client.get("/console/informes", WEEK).content.decode()
    links = set(re.findall(r'href="(/console/informes/casos\?[^"]+)"', html))
    assert len(links) > 10
    for link in links:
        response = client.get(link.replace("&amp;", "&"))
        assert response.status_code == 200, link
    breached = client.get("/console/informes/casos", {**WEEK, "sla": "fr_breached"})
    text = breached.content.decode()
    assert refreshed.b.number in text and refreshed.c.number in text
    assert refreshed.a.number not in text


def test_bad_filters_are_shown_not_a_500(client, supervisor, refreshed):
    client.force_login(supervisor)
    response = client.get("/console/informes", {"from": "ayer"})
    assert response.status_code == 422
    assert "Revise los filtros" in response.content.decode()
    assert client.get("/console/informes/casos", {"sla": "x"}).status_code == 422


def test_the_page_takes_a_fixed_number_of_queries(
    client, supervisor, refreshed, django_assert_max_num_queries
):
    client.force_login(supervisor)
    with django_assert_max_num_queries(60):
        client.get("/console/informes", WEEK)


def test_the_page_reads_in_english(client, supervisor, refreshed):
    client.force_login(supervisor)
    client.cookies["django_language"] = "en"
    html = client.get("/console/informes", WEEK, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "SLA compliance per channel" in html
    assert "Customers who write or call while the channel is closed" in html
    assert "% answered" in html and "%%" not in html
