"""/api/v1/reports/…: who may read them, filters, JSON and CSV."""

from __future__ import annotations

import csv
import io

import pytest

from atiende.reports import services
from atiende.reports.tests.week import WEEK

pytestmark = pytest.mark.django_db

REPORTS = ["sla", "contacts-by-hour", "escalations", "backlog", "satisfaction", "missed-calls"]


@pytest.fixture
def api(client, tokens, week, frozen_end):
    services.refresh()

    def get(path, persona="supervisor", **params):
        return client.get(
            f"/api/v1/reports/{path}",
            {**WEEK, **params},
            HTTP_AUTHORIZATION=f"Bearer {tokens[persona]}",
        )

    return get


@pytest.mark.parametrize("report", REPORTS)
def test_supervisors_and_admins_read_every_report_as_json(api, report):
    for persona in ("supervisor", "admin"):
        response = api(report, persona)
        assert response.status_code == 200, response.content
        body = response.json()
        assert body["report"] == report and body["from"] == WEEK["from"]
        assert body["tables"]


@pytest.mark.parametrize("report", [*REPORTS, "cases"])
def test_agents_are_refused_and_customers_see_nothing(api, report):
    refused = api(report, "agent")
    assert refused.status_code == 403
    assert refused.json()["code"] == "forbidden"
    for persona in ("customer", "other_customer"):
        assert api(report, persona).status_code == 404


def test_anonymous_callers_must_authenticate(client, db):
    assert client.get("/api/v1/reports/sla").status_code == 401


def test_sla_json_has_the_hand_computed_figures_and_drill_links(api):
    rows = {r["channel"]: r for r in api("sla").json()["tables"]["by_channel"]["rows"]}
    assert (rows["correo"]["fr_met"], rows["correo"]["fr_breached"]) == (2, 1)
    assert rows["correo"]["fr_pct"] == 66.7
    assert rows["correo"]["cases_url"].startswith("/console/informes/casos?")


def test_filters_apply_and_bad_ones_are_a_422_in_spanish(api):
    body = api("sla", organization="globex").json()
    assert [r["channel"] for r in body["tables"]["by_channel"]["rows"]] == ["correo"]
    assert body["filters"] == {"organization": "globex"}
    bad = api("sla", channel="no-existe", to="2026-02-30")
    assert bad.status_code == 422
    assert bad.json()["code"] == "invalid"
    assert set(bad.json()["errors"]) == {"channel", "to"}
    assert api("sla", period="year").status_code == 422


def test_csv_download_of_a_table(api):
    response = api("contacts-by-hour", format="csv", table="by_channel")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0][:4] == ["Canal", "Nombre", "Horario de atención", "Contactos"]
    correo = next(r for r in rows if r[0] == "correo")
    assert correo[3:5] == ["3", "2"]
    assert api("sla", format="csv", table="nope").status_code == 422


def test_csv_neutralises_a_formula_in_a_channel_name(api, week):
    week.correo.name = '=HYPERLINK("http://x")'
    week.correo.save()
    text = api("sla", format="csv").content.decode()
    assert "'=HYPERLINK" in text
    assert "\n=HYPERLINK" not in text and ",=HYPERLINK" not in text


def test_the_cases_behind_a_figure(api, week):
    body = api("cases", sla="fr_breached").json()
    assert body["count"] == 2
    assert {c["number"] for c in body["items"]} == {week.b.number, week.c.number}
    assert api("cases", backlog="forever").status_code == 422


@pytest.mark.parametrize(
    "params",
    [
        {"level": "99999999999999999999"},
        {"escalated_to": "99999999999999999999"},
        {"escalated_to": "²"},
        {"contacts": "all", "weekday": "²", "hour": "-1"},
        {"priority": "urgentísima"},
        {"from": "0001-01-01"},
        {"from": "2026-01-01", "to": "2099-01-01"},
        {"organization": "none", "sla": "res_pending"},
    ],
)
def test_odd_drill_parameters_are_a_422_or_an_answer_never_a_500(api, params):
    assert api("cases", **params).status_code in (200, 422)
