"""The /canales page and the public API read the same "open now": they never disagree."""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

import pytest

from atiende.core import clock

BOG = ZoneInfo("America/Bogota")
MOMENTS = [
    dt.datetime(2026, 12, 1, 10, 0, tzinfo=BOG),  # Tuesday, in hours
    dt.datetime(2026, 12, 4, 19, 30, tzinfo=BOG),  # Friday night
    dt.datetime(2026, 12, 5, 12, 59, tzinfo=BOG),  # Saturday, a minute before closing
    dt.datetime(2026, 12, 8, 9, 0, tzinfo=BOG),  # a holiday morning
]

pytestmark = pytest.mark.django_db


def test_friday_night_shows_closed_lines_and_open_incident_channels(client, reference):
    with clock.frozen(MOMENTS[1]):
        page = _page_states(client.get("/canales").content.decode())
    assert page["linea-bogota"] == [False]
    assert page["whatsapp-corporativo"] == [True, False]


def _page_states(html: str) -> dict[str, list[bool]]:
    """Channel slug -> for each hours rule, whether the page says it is open."""
    out = {}
    for slug, body in re.findall(
        r'<article class="channel" id="canal-([^"]+)">(.*?)</article>', html, re.S
    ):
        status = re.search(r'<ul class="status">(.*?)</ul>', body, re.S).group(1)
        out[slug] = [cls == "open" for cls in re.findall(r'<li class="(open|closed)">', status)]
    return out


@pytest.mark.parametrize("now", MOMENTS, ids=lambda m: m.strftime("%a-%H%M"))
def test_the_page_and_the_api_say_the_same_channels_are_open(client, reference, now):
    with clock.frozen(now):
        page = _page_states(client.get("/canales").content.decode())
        api = client.get("/api/v1/channels").json()["items"]
    assert set(page) == {c["id"] for c in api}
    for channel in api:
        assert page[channel["id"]] == [rule["open_now"] for rule in channel["hours"]]
        assert any(page[channel["id"]]) == channel["open_now"]
