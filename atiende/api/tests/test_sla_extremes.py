"""Any date, any span, any offset on the public schedule arithmetic: a 200 or a 422 in the
API's format, never a 500 (hypothesis over the whole datetime range)."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

pytestmark = pytest.mark.django_db

instants = st.datetimes(
    min_value=dt.datetime(1, 1, 1),
    max_value=dt.datetime(9999, 12, 31, 23, 59, 59),
    timezones=st.sampled_from(
        [
            dt.UTC,
            dt.timezone(dt.timedelta(hours=14)),
            dt.timezone(-dt.timedelta(hours=23, minutes=59)),
            dt.timezone(dt.timedelta(hours=-5)),
        ]
    ),
)
# Near the ends of the range, where conversions overflow.
edges = st.sampled_from(
    [
        "0001-01-01T00:00:00+14:00",
        "0001-01-01T00:00:00-23:59",
        "9999-12-31T23:59:59-23:59",
        "9999-12-31T23:59:59+14:00",
        "0002-01-01T00:00:00Z",
        "9998-12-01T00:00:00Z",
    ]
)
texts = st.one_of(instants.map(lambda d: d.isoformat()), edges)
schedule_slugs = st.sampled_from(["horario-habil", "24x7"])
relaxed = settings(
    max_examples=120, deadline=None, suppress_health_check=list(HealthCheck), database=None
)


def _fine(response) -> None:
    assert response.status_code in (200, 422), response.content
    if response.status_code == 422:
        body = response.json()
        assert body["code"] == "invalid" and body["detail"]


@relaxed
@given(slug=schedule_slugs, start=texts, end=texts)
def test_elapsed_never_fails_with_a_500(api, schedules, slug, start, end):
    _fine(api.get(f"/schedules/{slug}/elapsed", params={"start": start, "end": end}))


@relaxed
@given(
    slug=schedule_slugs,
    start=texts,
    seconds=st.one_of(st.integers(0, 10 * 366 * 86400), st.sampled_from([0, 1, 316_224_000])),
)
def test_due_never_fails_with_a_500(api, schedules, slug, start, seconds):
    _fine(api.get(f"/schedules/{slug}/due", params={"start": start, "seconds": seconds}))


@relaxed
@given(slug=schedule_slugs, at=texts)
def test_open_never_fails_with_a_500(api, schedules, slug, at):
    _fine(api.get(f"/schedules/{slug}/open", params={"at": at}))
