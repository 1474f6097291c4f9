import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from atiende.cases import services as cases
from atiende.core import clock

BOG = ZoneInfo("America/Bogota")


@pytest.mark.parametrize(
    ("start", "seconds", "due"),
    [
        (
            "2026-03-06T18:30:00-05:00",
            3600,
            "2026-03-07T08:30:00-05:00",
        ),  # Friday evening -> Saturday
        ("2026-03-06T18:00:00-05:00", 3600, "2026-03-06T19:00:00-05:00"),  # ends at closing
        (
            "2026-01-10T12:45:00-05:00",
            3600,
            "2026-01-13T07:45:00-05:00",
        ),  # Monday 12 Jan is a holiday
        ("2026-03-06T23:30:00Z", 0, "2026-03-06T18:30:00-05:00"),  # zero: the start itself
    ],
)
def test_due_adds_business_seconds_on_a_schedule(api, schedules, start, seconds, due):
    response = api.get("/schedules/horario-habil/due", params={"start": start, "seconds": seconds})
    assert response.status_code == 200, response.content
    assert response.json() == {"due": due}


def test_elapsed_counts_business_seconds(api, schedules):
    response = api.get(
        "/schedules/horario-habil/elapsed",
        params={"start": "2026-03-06T18:00:00-05:00", "end": "2026-03-09T08:00:00-05:00"},
    )
    assert response.json() == {"seconds": 3600 + 5 * 3600 + 3600}


def test_open_says_whether_a_schedule_is_open_and_when_it_opens(api, schedules):
    body = api.get(
        "/schedules/horario-habil/open", params={"at": "2026-12-25T10:00:00-05:00"}
    ).json()
    assert body == {
        "open": False,
        "next_opening": "2026-12-26T08:00:00-05:00",
        "next_closing": "2026-12-26T13:00:00-05:00",
    }
    assert api.get("/schedules/24x7/open").json()["open"] is True


def test_schedules_are_listed_with_their_hours_in_spanish(api, schedules):
    body = api.get("/schedules").json()
    habil = next(s for s in body["items"] if s["id"] == "horario-habil")
    assert habil["hours_es"] == [
        "Lunes a Viernes de 7:00 am a 7:00 pm",
        "Sábado de 8:00 am a 1:00 pm",
    ]


@pytest.mark.parametrize(
    "params",
    [
        {"start": "2026-03-06T18:30:00", "seconds": 60},  # no timezone
        {"start": "mañana", "seconds": 60},
        {"start": "2026-03-06T18:30:00Z", "seconds": -1},
        {"start": "2026-03-06T18:30:00Z", "seconds": 10**12},
        {"start": "2026-03-06T18:30:00Z"},
    ],
)
def test_bad_parameters_are_a_422_with_a_clear_message(api, schedules, params):
    response = api.get("/schedules/horario-habil/due", params=params)
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "invalid" and body["errors"]


def test_an_unknown_schedule_is_a_404(api, schedules):
    assert (
        api.get(
            "/schedules/nocturno/due", params={"start": "2026-03-06T18:30:00Z", "seconds": 1}
        ).status_code
        == 404
    )


def test_a_cases_sla_shows_both_clocks(api, tokens, sla_targets, email_channel, customer):
    with clock.frozen(dt.datetime(2026, 3, 6, 18, 30, tzinfo=BOG)):
        case = cases.open_case(
            actor=customer, channel=email_channel, subject="x", type="request", priority="high"
        )
    body = api.get(f"/cases/{case.number}/sla", token=tokens["customer"]).json()
    assert body["schedule"] == "horario-habil"
    first = body["first_response"]
    assert first["target_seconds"] == 3600 and first["paused_seconds"] == 0
    assert dt.datetime.fromisoformat(first["due"]) == dt.datetime(2026, 3, 7, 8, 30, tzinfo=BOG)
    assert first["met_at"] is None and first["breached_at"] is None
    assert body["resolution"]["target_seconds"] == 8 * 3600


def test_another_organizations_case_sla_is_a_404(api, tokens, sla_targets, email_channel, customer):
    case = cases.open_case(actor=customer, channel=email_channel, subject="x")
    assert api.get(f"/cases/{case.number}/sla", token=tokens["other_customer"]).status_code == 404


# --- Hostile spans and dates: bounded work, a 422 in Spanish, never a 500 -----------------


def test_a_ten_thousand_year_span_is_a_422_in_spanish(api, schedules):
    response = api.get(
        "/schedules/horario-habil/elapsed",
        params={"start": "0002-01-01T00:00:00Z", "end": "9998-12-01T00:00:00Z"},
    )
    assert response.status_code == 422, response.content
    assert response.json()["code"] == "invalid" and "años" in str(response.json()["errors"])
    response = api.get(
        "/schedules/horario-habil/elapsed",
        params={"start": "2000-01-01T00:00:00Z", "end": "2030-12-01T00:00:00Z"},
    )
    assert response.status_code == 422, response.content
    body = response.json()
    assert body["code"] == "invalid" and "10 años" in body["detail"] and "end" in body["errors"]


def test_a_span_of_just_under_ten_years_is_answered(api, schedules):
    response = api.get(
        "/schedules/horario-habil/elapsed",
        params={"start": "2026-01-01T00:00:00-05:00", "end": "2035-12-31T00:00:00-05:00"},
    )
    assert response.status_code == 200 and response.json()["seconds"] > 0


def test_a_due_date_more_than_ten_years_away_is_a_422(api, schedules):
    # Ten years of business seconds on business hours fall decades later.
    response = api.get(
        "/schedules/horario-habil/due",
        params={"start": "2026-01-01T00:00:00Z", "seconds": 10 * 365 * 86400},
    )
    assert response.status_code == 422, response.content
    assert "10 años" in response.json()["detail"]


def test_far_apart_queries_keep_a_bounded_number_of_years_in_memory(api, schedules):
    from atiende.sla.schedules import calendar

    cal = calendar("horario-habil")
    for year in range(2030, 2990, 12):
        response = api.get(
            "/schedules/horario-habil/elapsed",
            params={"start": f"{year}-01-01T00:00:00Z", "end": f"{year + 9}-06-01T00:00:00Z"},
        )
        assert response.status_code == 200, response.content
    assert cal.cached_years() <= cal.MAX_CACHED_YEARS
