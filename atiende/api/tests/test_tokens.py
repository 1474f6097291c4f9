"""API tokens: stored as digests, shown once, listed and revoked by their owner, and their
last use recorded at most once a minute."""

from __future__ import annotations

import datetime as dt

import pytest

from atiende.accounts import services as accounts
from atiende.accounts.models import ApiToken
from atiende.core import clock
from atiende.core.tests.queries import statements

pytestmark = pytest.mark.django_db
T0 = dt.datetime(2026, 12, 1, 15, 0, tzinfo=dt.UTC)


def test_staff_list_their_own_tokens_without_the_secret(api, agent, supervisor):
    second = accounts.issue_token(user=agent, name="integración")
    body = api.get("/tokens", as_="agent").json()
    assert body["count"] == 2
    assert {item["name"] for item in body["items"]} == {"", "integración"}
    assert second[:12] in {item["prefix"] for item in body["items"]}
    assert all(second not in str(item) for item in body["items"])
    assert all(item["revoked_at"] is None for item in body["items"])


def test_a_staff_user_revokes_their_own_token_and_it_stops_working(api, agent):
    spare = accounts.issue_token(user=agent, name="script")
    row = ApiToken.objects.get(user=agent, name="script")
    r = api.post(f"/tokens/{row.pk}/revoke", as_="agent")
    assert r.status_code == 200, r.json()
    assert r.json()["revoked_at"] is not None
    assert api.get("/cases", token=spare).status_code == 401
    assert api.get("/cases", as_="agent").status_code == 200  # the other token still works
    again = api.post(f"/tokens/{row.pk}/revoke", as_="agent")
    assert again.status_code == 200 and again.json()["revoked_at"] == r.json()["revoked_at"]


def test_someone_elses_token_is_not_found(api, agent, supervisor):
    theirs = ApiToken.objects.get(user=supervisor)
    r = api.post(f"/tokens/{theirs.pk}/revoke", as_="agent")
    assert r.status_code == 404
    assert ApiToken.objects.get(pk=theirs.pk).revoked_at is None
    assert api.post(f"/tokens/{theirs.pk}/revoke", as_="admin").status_code == 404


def test_customers_list_and_revoke_their_own_tokens_and_no_one_elses(api, customer, agent):
    listed = api.get("/tokens", as_="customer").json()
    mine = ApiToken.objects.get(user=customer)
    assert [t["id"] for t in listed["items"]] == [mine.pk]
    agents = ApiToken.objects.get(user=agent)
    assert api.post(f"/tokens/{agents.pk}/revoke", as_="customer").status_code == 404
    assert api.post(f"/tokens/{mine.pk}/revoke", as_="customer").status_code == 200
    assert api.get("/tokens", as_="customer").status_code == 401  # that was the one in use


def test_a_revoked_token_can_revoke_nothing(api, agent):
    row = ApiToken.objects.get(user=agent)
    accounts.revoke_token(token=row, actor=agent)
    assert api.post(f"/tokens/{row.pk}/revoke", as_="agent").status_code == 401


def test_last_use_is_recorded_at_most_once_a_minute(api, agent):
    row = ApiToken.objects.get(user=agent)
    assert row.last_used_at is None
    with clock.frozen(T0) as frozen:
        with statements("UPDATE") as first:
            assert api.get("/organizations", as_="agent").status_code == 200
        assert len([s for s in first if "accounts_apitoken" in s]) == 1
        assert ApiToken.objects.get(pk=row.pk).last_used_at == T0
        frozen.advance(seconds=30)
        with statements("UPDATE") as second:
            for _ in range(5):
                assert api.get("/organizations", as_="agent").status_code == 200
        assert not [s for s in second if "accounts_apitoken" in s]
        assert ApiToken.objects.get(pk=row.pk).last_used_at == T0
        frozen.advance(seconds=31)
        api.get("/organizations", as_="agent")
        assert ApiToken.objects.get(pk=row.pk).last_used_at == T0 + dt.timedelta(seconds=61)


def test_a_new_token_is_shown_once_and_stored_as_a_digest(agent):
    token = accounts.issue_token(user=agent, name="x")
    row = ApiToken.objects.get(user=agent, name="x")
    assert token.startswith(row.prefix) and len(token) > 40
    assert row.digest != token and token not in row.digest
