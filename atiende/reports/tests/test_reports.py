"""Each report against the figures of the test week (week.py), worked out by hand."""

from __future__ import annotations

import pytest

from atiende.cases import services as cases
from atiende.core import clock
from atiende.core.errors import InvalidInput
from atiende.reports import filters, selectors, services
from atiende.reports.export import neutralise, to_csv
from atiende.reports.models import CaseFigures
from atiende.reports.tests.week import END, WEEK, at

pytestmark = pytest.mark.django_db


def _f(**extra):
    return filters.parse({**WEEK, **extra})


def _rows(report, table, key="channel"):
    return {r[key]: r for r in report["tables"][table]["rows"]}


@pytest.fixture
def refreshed(week, frozen_end):
    services.refresh()
    return week


def test_sla_compliance_and_business_times_per_channel(refreshed):
    rows = _rows(selectors.sla_report(_f()), "by_channel")
    correo, portal = rows["correo"], rows["portal"]
    assert (correo["cases"], correo["fr_met"], correo["fr_breached"], correo["fr_pct"]) == (
        3,
        2,
        1,
        66.7,
    )
    assert (correo["res_met"], correo["res_breached"], correo["res_pending"]) == (1, 1, 1)
    assert correo["res_pct"] == 50.0
    # First responses in business seconds: D 600, A 1800, B 7200 (its clock started Tue 07:00).
    assert (correo["fr_median"], correo["fr_p90"]) == (1800, 7200)
    assert (correo["res_median"], correo["res_p90"]) == (7200, 7200)
    assert (portal["cases"], portal["fr_breached"], portal["res_breached"]) == (1, 1, 1)
    assert (portal["fr_pct"], portal["res_pct"], portal["fr_median"]) == (0.0, 0.0, None)


def test_sla_detail_by_channel_type_priority_level_and_week(refreshed):
    detail = selectors.sla_report(_f())["tables"]["detail"]["rows"]
    keyed = {(r["period"], r["channel"], r["type"], r["priority"], r["level"]): r for r in detail}
    assert set(keyed) == {
        ("2026-11-23", "correo", "request", "high", 1),
        ("2026-11-23", "correo", "incident", "critical", 1),
        ("2026-11-23", "portal", "request", "high", 1),
    }
    request = keyed[("2026-11-23", "correo", "request", "high", 1)]
    assert (request["cases"], request["fr_pct"], request["res_pct"]) == (2, 50.0, 50.0)
    month = selectors.sla_report(_f(period="month"))["tables"]["detail"]["rows"]
    assert {r["period"] for r in month} == {"2026-11-01"}


def test_filters_by_organization_type_and_channel(refreshed):
    globex = _rows(selectors.sla_report(_f(organization="globex")), "by_channel")
    assert list(globex) == ["correo"] and globex["correo"]["cases"] == 1
    incidents = _rows(selectors.sla_report(_f(type="incident")), "by_channel")
    assert incidents["correo"]["fr_met"] == 1 and "portal" not in incidents
    only_portal = selectors.contacts_report(_f(channel="portal"))
    assert list(_rows(only_portal, "by_channel")) == ["portal"]
    nothing = selectors.sla_report(_f(**{"from": "2026-11-30", "to": "2026-12-06"}))
    assert nothing["tables"]["by_channel"]["rows"] == []


def test_contacts_per_hour_against_attention_hours(refreshed):
    report = selectors.contacts_report(_f())
    rows = _rows(report, "by_channel")
    assert (rows["correo"]["contacts"], rows["correo"]["out_of_hours"]) == (3, 2)
    assert (rows["linea"]["contacts"], rows["linea"]["out_of_hours"]) == (3, 1)
    assert (rows["portal"]["contacts"], rows["portal"]["out_of_hours"]) == (1, 0)
    cells = {
        (r["channel"], r["weekday"], r["hour"]): (r["contacts"], r["out_of_hours"], r["open"])
        for r in report["tables"]["heatmap"]["rows"]
    }
    assert cells[("correo", 1, 9)] == (1, 0, True)
    assert cells[("correo", 1, 21)] == (1, 1, False)
    assert cells[("correo", 6, 14)] == (1, 1, False)  # Saturday after 13:00
    assert cells[("linea", 2, 20)] == (1, 1, False)
    grid = next(g for g in report["grids"] if g["channel"] == "correo")["grid"]
    assert grid[5][12]["open"] and not grid[5][13]["open"] and not grid[6][10]["open"]


def test_missed_call_recovery_per_line(refreshed):
    line = _rows(selectors.missed_calls_report(_f()), "by_line")["linea"]
    # Tue 20:00 → Wed 08:00 is one business hour (Wed 07:00-08:00).
    assert (line["missed"], line["called_back"], line["called_back_pct"]) == (2, 1, 50.0)
    assert (line["callback_median"], line["callback_p90"]) == (3600, 3600)


def test_escalation_funnel_per_level(refreshed):
    report = selectors.escalations_report(_f())
    funnel = _rows(report, "funnel", key="to_level")
    two, three = funnel[2], funnel[3]
    assert (two["requested"], two["accepted"], two["rejected"], two["automatic"]) == (2, 1, 1, 1)
    assert two["decision_median"] == 3600 and two["time_at_previous_median"] == 7200
    assert (three["requested"], three["pending"], three["decision_median"]) == (1, 1, None)
    assert report["tables"]["rejections"]["rows"][0] | {"cases_url": ""} == {
        "to_level": 2,
        "reason": "Sin fundamento",
        "count": 1,
        "cases_url": "",
    }


def test_backlog_ageing_and_volume_per_organization(refreshed):
    report = selectors.backlog_report(_f())
    ageing = {(r["channel"], r["priority"]): r for r in report["tables"]["ageing"]["rows"]}
    assert ageing[("correo", "critical")]["d0_1"] == 1
    assert ageing[("correo", "high")]["d3_7"] == 1  # B, opened Monday night
    assert ageing[("portal", "high")]["d3_7"] == 1
    orgs = _rows(report, "organizations", key="organization")
    assert (orgs["acme"]["cases"], orgs["acme"]["open"]) == (3, 2)
    assert (orgs["globex"]["cases"], orgs["globex"]["open"]) == (1, 1)


def test_satisfaction_is_empty_until_the_portal_asks_for_ratings(refreshed):
    report = selectors.satisfaction_report(_f())
    assert report["available"] is False
    assert report["tables"]["by_channel"]["rows"] == [] == report["tables"]["by_agent"]["rows"]


@pytest.mark.parametrize(
    "scope",
    [{}, {"organization": "acme"}, {"channel": "correo", "type": "request"}],
    ids=["daily sums", "per-case figures", "daily sums filtered"],
)
def test_the_roll_up_agrees_with_a_direct_count(refreshed, scope):
    f = _f(**scope)
    rolled = {
        r["channel"]: {k: r[k] for k in ("cases", *selectors.SLA_FIELDS)}
        for r in selectors.sla_report(f)["tables"]["by_channel"]["rows"]
    }
    assert rolled == selectors.direct_sla_counts(f)


def test_the_refresh_picks_up_what_changed_since_the_last_one(refreshed, frozen_end):
    frozen_end.set(at(28, 15, 30))
    cases.change_status(case=refreshed.d, actor=None, status="resolved")
    services.refresh()
    f = _f()
    correo = _rows(selectors.sla_report(f), "by_channel")["correo"]
    assert (correo["res_met"], correo["res_pending"]) == (2, 0)
    assert selectors.direct_sla_counts(f)["correo"]["res_met"] == 2
    assert CaseFigures.objects.count() == 4
    # A full rebuild writes the same figures.
    before = set(CaseFigures.objects.values_list("case_id", "fr_state", "res_state", "fr_seconds"))
    services.refresh(full=True)
    after = set(CaseFigures.objects.values_list("case_id", "fr_state", "res_state", "fr_seconds"))
    assert before == after


def test_every_figure_drills_down_to_its_cases(refreshed):
    f = _f()
    numbers = lambda **drill: {c.number for c in selectors.cases_behind(f, drill)}  # noqa: E731
    w = refreshed
    assert numbers(sla="fr_breached") == {w.b.number, w.c.number}
    assert numbers(sla="res_met") == {w.a.number}
    assert numbers(contacts="closed") == {w.b.number, w.d.number, w.c.number}
    assert numbers(contacts="all", weekday="1", hour="9") == {w.a.number}
    assert numbers(missed="all") == {w.c.number}
    assert numbers(escalated_to="2", escalation="rejected") == {w.b.number}
    assert numbers(backlog="d3_7") == {w.b.number, w.c.number}
    assert numbers(organization="none") == set()
    with pytest.raises(InvalidInput):
        selectors.cases_behind(f, {"sla": "bogus"})
    row = _rows(selectors.sla_report(f), "by_channel")["correo"]
    assert row["fr_breached_url"].startswith("/console/informes/casos?")
    assert "sla=fr_breached" in row["fr_breached_url"] and "channel=correo" in row["cases_url"]


def test_bad_filters_are_refused_with_a_message_per_field(db):
    with clock.frozen(END), pytest.raises(InvalidInput) as exc:
        filters.parse({"from": "2026-13-01", "channel": "nope", "type": "x", "period": "day"})
    assert set(exc.value.errors) == {"from", "channel", "type", "period"}
    with pytest.raises(InvalidInput) as exc:
        filters.parse({"from": "2026-11-30", "to": "2026-11-01"})
    assert "from" in exc.value.errors


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        ('=HYPERLINK("x")', '\'=HYPERLINK("x")'),
        ("+57 300", "'+57 300"),
        ("-1+1", "'-1+1"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("Correo", "Correo"),
        (-3, "-3"),
        (66.7, "66.7"),
        (None, ""),
    ],
)
def test_csv_cells_that_a_spreadsheet_would_run_are_neutralised(value, cell):
    assert neutralise(value) == cell


def test_csv_of_a_table_has_labels_and_neutralised_cells():
    report = {
        "tables": {
            "t": {
                "columns": [{"key": "name", "label": "Nombre"}, {"key": "n", "label": "Casos"}],
                "rows": [{"name": "=cmd|' /C calc'!A0", "n": 2}],
            }
        }
    }
    assert to_csv(report, "t") == "Nombre,Casos\r\n'=cmd|' /C calc'!A0,2\r\n"


def test_the_command_rebuilds_the_roll_ups(week, frozen_end):
    from io import StringIO

    from django.core.management import call_command

    out = StringIO()
    call_command("refresh_reports", "--full", stdout=out)
    assert "Cifras de 4 casos" in out.getvalue()
    assert CaseFigures.objects.count() == 4


def test_the_worker_refreshes_the_reports_periodically(week, frozen_end):
    from atiende.worker import registry

    registry.load()
    registry.PERIODIC["reports_refresh"].func()
    assert CaseFigures.objects.count() == 4
