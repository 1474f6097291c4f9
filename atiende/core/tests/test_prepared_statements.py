"""Prepared statements on PostgreSQL for the processes that ask for them (decision 0014)."""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, connections
from django.db.backends.postgresql.base import ServerBindingCursor

from atiende.core import mechanisms
from atiende.core.postgresql import prepared
from atiende.core.tests.prepared import prepared_count

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _postgresql_and_no_request(monkeypatch):
    if connection.vendor != "postgresql":
        pytest.skip("prepared statements are PostgreSQL's")
    monkeypatch.setattr(prepared, "_wanted", False)


def _fresh(**options):
    """A new connection to the test database, opened as a process now would open one."""
    wrapper = connections.create_connection("default")
    wrapper.settings_dict = {
        **wrapper.settings_dict,
        "NAME": connection.settings_dict["NAME"],
        "OPTIONS": {**wrapper.settings_dict["OPTIONS"], **options},
    }
    wrapper.ensure_connection()
    return wrapper


def _run_six_times_and_count(wrapper) -> int:
    with wrapper.cursor() as cur:
        for i in range(6):  # psycopg prepares a statement on its sixth run
            cur.execute("SELECT %s::int + 1", [i])
            assert cur.fetchone() == (i + 1,)
    return prepared_count(wrapper)


def test_a_process_that_asks_prepares_the_statements_it_repeats():
    prepared.prepare_statements()
    wrapper = _fresh()
    try:
        assert isinstance(wrapper.connection.cursor(), ServerBindingCursor)
        assert _run_six_times_and_count(wrapper) == 1
    finally:
        wrapper.close()


def test_a_process_that_does_not_ask_prepares_nothing():
    wrapper = _fresh()
    try:
        assert not isinstance(wrapper.connection.cursor(), ServerBindingCursor)
        assert _run_six_times_and_count(wrapper) == 0
    finally:
        wrapper.close()


def test_the_switch_turns_them_off(monkeypatch):
    monkeypatch.setattr(mechanisms, "PREPARED_STATEMENTS", False)
    prepared.prepare_statements()
    wrapper = _fresh()
    try:
        assert _run_six_times_and_count(wrapper) == 0
    finally:
        wrapper.close()


def test_settings_that_say_how_to_prepare_are_left_as_they_are():
    """A deployment behind a pooler that cannot keep prepared statements says so in its
    settings (`prepare_threshold: None`): a worker does not override it."""
    prepared.prepare_statements()
    wrapper = _fresh(prepare_threshold=None)
    try:
        assert _run_six_times_and_count(wrapper) == 0
    finally:
        wrapper.close()


def test_the_worker_and_the_email_poller_ask_for_them():
    call_command("worker", once=True)
    assert prepared.preparing()
    prepared._wanted = False
    with pytest.raises(CommandError):  # no mailbox has an IMAP address in this test
        call_command("poll_email", once=True)
    assert prepared.preparing()
