"""The directory answers "is it open now, and when does it next open" on the reference
configuration (horario-habil: Mon-Fri 07:00-19:00, Sat 08:00-13:00, Colombian holidays)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from atiende.directory import hours, selectors

BOG = ZoneInfo("America/Bogota")
TUESDAY_MORNING = dt.datetime(2026, 12, 1, 10, 0, tzinfo=BOG)
FRIDAY_NIGHT = dt.datetime(2026, 12, 4, 19, 30, tzinfo=BOG)
SATURDAY_AFTERNOON = dt.datetime(2026, 12, 5, 14, 0, tzinfo=BOG)
# 8 December (Inmaculada Concepción) is a holiday: Monday the 7th is open, the 8th is not.
HOLIDAY_EVE_NIGHT = dt.datetime(2026, 12, 7, 20, 0, tzinfo=BOG)

pytestmark = pytest.mark.django_db


@pytest.fixture
def channel(reference):
    return selectors.channel


def test_the_bogota_line_is_open_on_a_tuesday_morning(channel):
    line = channel("linea-bogota")
    assert hours.open_now(line, TUESDAY_MORNING)
    assert hours.next_opening(line, TUESDAY_MORNING) == TUESDAY_MORNING


@pytest.mark.parametrize(
    ("now", "opens"),
    [
        (FRIDAY_NIGHT, dt.datetime(2026, 12, 5, 8, 0, tzinfo=BOG)),
        (SATURDAY_AFTERNOON, dt.datetime(2026, 12, 7, 7, 0, tzinfo=BOG)),
        (HOLIDAY_EVE_NIGHT, dt.datetime(2026, 12, 9, 7, 0, tzinfo=BOG)),
    ],
)
def test_the_bogota_line_out_of_hours_says_when_it_opens(channel, now, opens):
    line = channel("linea-bogota")
    assert not hours.open_now(line, now)
    assert hours.next_opening(line, now) == opens


def test_the_corporate_whatsapp_attends_incidents_at_night_and_requests_on_monday(channel):
    states = hours.rule_states(channel("whatsapp-corporativo"), SATURDAY_AFTERNOON)
    assert [(s.label, s.open_now) for s in states] == [
        ("Incidentes", True),
        ("Solicitudes", False),
    ]
    assert states[1].next_opening == dt.datetime(2026, 12, 7, 7, 0, tzinfo=BOG)
    # Open for some kind of request: the channel as a whole is open.
    assert hours.open_now(channel("whatsapp-corporativo"), SATURDAY_AFTERNOON)


def test_a_single_rule_channel_has_no_label(channel):
    assert [s.label for s in hours.rule_states(channel("correo"), TUESDAY_MORNING)] == [""]


def test_the_hours_that_apply_follow_the_kind_of_request(channel):
    portal = channel("portal")
    assert hours.calendar_for(portal, "incident", "low").always_open
    assert not hours.calendar_for(portal, "request", "critical").always_open


def test_the_corporate_whatsapp_attends_an_incident_but_not_a_request_on_saturday_afternoon(
    channel,
):
    corporate = channel("whatsapp-corporativo")
    assert hours.open_for(corporate, "incident", "low", SATURDAY_AFTERNOON)
    assert not hours.open_for(corporate, "request", "low", SATURDAY_AFTERNOON)


def test_the_24x7_incident_channels_are_monitoring_corporate_whatsapp_and_the_portal(channel):
    assert [c.slug for c in hours.channels_24x7_for_incidents()] == [
        "whatsapp-monitoreo",
        "whatsapp-corporativo",
        "portal",
    ]


def test_an_inactive_or_private_channel_is_not_offered_for_incidents(channel):
    from atiende.directory.models import Channel

    Channel.objects.filter(slug="portal").update(active=False)
    Channel.objects.filter(slug="whatsapp-monitoreo").update(public=False)
    selectors._snapshot.invalidate()
    assert [c.slug for c in hours.channels_24x7_for_incidents()] == ["whatsapp-corporativo"]


def test_a_channel_is_described_by_name_and_shown_address(channel):
    described = hours.describe_channel(channel("whatsapp-monitoreo"))
    assert described == "WhatsApp Centro de Monitoreo (+57 318 487 2656)"
