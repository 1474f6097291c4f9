"""Sign-in throttling: the throttle itself, and every way in going through it."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth import authenticate
from django.test import RequestFactory

from atiende.accounts.models import SignInAttempt, SignInOutcome
from atiende.accounts.signin import throttle
from atiende.core import clock
from atiende.core.models import AuditEntry

T0 = dt.datetime(2026, 3, 3, 15, 0, tzinfo=dt.UTC)
PASSWORD = "clave-segura-1"  # the personas' password (atiende/conftest.py)


@pytest.fixture
def frozen():
    with clock.frozen(T0) as c:
        yield c


def sign_in(email: str, password: str, address: str = "203.0.113.7"):
    request = RequestFactory().post("/accounts/login/", REMOTE_ADDR=address)
    return authenticate(request, username=email, password=password)


def fail(email: str, times: int, address: str = "203.0.113.7") -> None:
    for _ in range(times):
        assert sign_in(email, "no-es-la-clave", address) is None


def test_five_failures_lock_the_account_even_with_the_right_password(agent, frozen):
    fail(agent.email, 4)
    assert sign_in(agent.email, PASSWORD) == agent  # four failures: still let in
    fail(agent.email, 5)
    assert sign_in(agent.email, PASSWORD) is None
    last = SignInAttempt.objects.order_by("-id").first()
    assert last.outcome == SignInOutcome.REFUSED  # refused without looking at the password


def test_the_lock_holds_from_another_address(agent, frozen):
    fail(agent.email, 5, address="203.0.113.7")
    assert sign_in(agent.email, PASSWORD, address="198.51.100.20") is None


def test_the_lock_ends_when_the_failures_leave_the_window(agent, frozen, settings):
    fail(agent.email, 5)
    frozen.advance(seconds=settings.ATIENDE_SIGNIN_WINDOW_SECONDS - 1)
    assert sign_in(agent.email, PASSWORD) is None
    frozen.advance(seconds=2)
    assert sign_in(agent.email, PASSWORD) == agent


def test_refused_tries_do_not_extend_the_lock(agent, frozen, settings):
    fail(agent.email, 5)
    for _ in range(10):
        frozen.advance(seconds=60)
        assert sign_in(agent.email, PASSWORD) is None
    frozen.advance(seconds=settings.ATIENDE_SIGNIN_WINDOW_SECONDS - 600 + 1)
    assert sign_in(agent.email, PASSWORD) == agent


def test_a_successful_sign_in_clears_the_accounts_count(agent, frozen):
    fail(agent.email, 4)
    assert sign_in(agent.email, PASSWORD) == agent
    fail(agent.email, 4)
    assert sign_in(agent.email, PASSWORD) == agent


def test_an_unknown_account_is_locked_the_same_way(db, frozen):
    fail("nadie@acme.com.co", 5)
    attempts = SignInAttempt.objects.filter(email="nadie@acme.com.co")
    assert [a.outcome for a in attempts] == [SignInOutcome.FAILED] * 5
    assert throttle.account_failures("nadie@acme.com.co") == 5
    assert sign_in("nadie@acme.com.co", "otra") is None
    assert attempts.order_by("-id").first().outcome == SignInOutcome.REFUSED


def test_the_typed_address_is_normalised(agent, frozen):
    fail(agent.email.upper(), 3)
    fail(f"  {agent.email} ", 2)
    assert sign_in(agent.email, PASSWORD) is None


def test_failures_from_one_address_lock_every_account_tried_from_it(
    agent, customer, frozen, settings
):
    settings.ATIENDE_SIGNIN_MAX_FAILURES_PER_ADDRESS = 6
    for i in range(6):
        fail(f"persona{i}@acme.com.co", 1, address="192.0.2.50")
    assert sign_in(agent.email, PASSWORD, address="192.0.2.50") is None
    assert sign_in(customer.email, PASSWORD, address="192.0.2.50") is None
    assert sign_in(agent.email, PASSWORD, address="192.0.2.51") == agent


def test_tries_in_progress_count_so_a_parallel_burst_cannot_pass_the_limit(agent, frozen):
    # Five tries whose passwords are still being checked (rows written, not finished).
    for _ in range(5):
        throttle.begin(email=agent.email, address="203.0.113.7")
    assert sign_in(agent.email, PASSWORD) is None


def test_the_lock_out_is_audited_once(agent, frozen):
    fail(agent.email, 8)
    entries = AuditEntry.objects.filter(action="signin.locked")
    assert entries.count() == 1
    (entry,) = entries
    assert entry.changes["reason"] == "account"
    assert entry.changes["email"] == agent.email
    assert entry.changes["address"] == "203.0.113.7"
    assert entry.changes["failures"] == 5
    assert entry.at == T0 and entry.actor is None


def test_an_address_lock_out_is_audited(db, frozen, settings):
    settings.ATIENDE_SIGNIN_MAX_FAILURES_PER_ADDRESS = 3
    for i in range(3):
        fail(f"p{i}@acme.com.co", 1, address="192.0.2.9")
    (entry,) = AuditEntry.objects.filter(action="signin.locked")
    assert entry.changes["reason"] == "address" and entry.changes["address"] == "192.0.2.9"


def test_the_admin_login_is_throttled_by_the_same_lock(admin_user, client, frozen):
    for _ in range(5):
        response = client.post(
            "/admin/login/", {"username": admin_user.email, "password": "mala-clave-99"}
        )
        assert response.status_code == 200
    response = client.post("/admin/login/", {"username": admin_user.email, "password": PASSWORD})
    assert response.status_code == 200  # the form again, not a redirect into the admin
    assert "_auth_user_id" not in client.session
    assert SignInAttempt.objects.filter(outcome=SignInOutcome.REFUSED).count() == 1


def test_the_sign_in_page_and_the_admin_share_one_count(admin_user, client, frozen):
    for _ in range(3):
        client.post("/admin/login/", {"username": admin_user.email, "password": "mala-clave-99"})
    for _ in range(2):
        client.post("/accounts/login/", {"username": admin_user.email, "password": "mala"})
    response = client.post("/admin/login/", {"username": admin_user.email, "password": PASSWORD})
    assert "_auth_user_id" not in client.session, response


def test_old_tries_are_purged_by_the_worker(agent, frozen):
    from atiende.worker import registry

    fail(agent.email, 5)
    frozen.advance(days=29)
    fail("otra@acme.com.co", 1)
    registry.load()
    frozen.advance(days=2)
    registry.PERIODIC["signin_attempts.purge"].func()
    assert list(SignInAttempt.objects.values_list("email", flat=True)) == ["otra@acme.com.co"]
    assert AuditEntry.objects.filter(action="signin.locked").count() == 1  # the trail stays


@pytest.mark.django_db(transaction=True)
def test_a_burst_of_parallel_guesses_checks_at_most_the_limit(frozen):
    from atiende.accounts import services as accounts
    from atiende.core.tests.threads import at_once, raised

    user = accounts.create_user(
        email="ana.agente@mesa.test", name="Ana", role="agent", password=PASSWORD
    )
    outcomes = at_once([lambda: sign_in(user.email, "adivinanza") for _ in range(12)])
    assert not raised(outcomes) and outcomes == [None] * 12
    checked = SignInAttempt.objects.filter(outcome=SignInOutcome.FAILED).count()
    refused = SignInAttempt.objects.filter(outcome=SignInOutcome.REFUSED).count()
    # Tries in flight count each other, so however they interleave no more than the limit
    # reach the password check (they may even refuse each other before five failed).
    assert checked <= 5 and checked + refused == 12
