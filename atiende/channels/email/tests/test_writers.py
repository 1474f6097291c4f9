"""Writer threads store a pass's groups (`writing`): two at the same time on PostgreSQL, one
on SQLite while the poller's thread fetches and moves mail; what they store is what the
poller's thread stored: every message once, every sender once, each chunk moved only after
all its groups committed."""

from __future__ import annotations

import threading
import time

import pytest
from django.db import connection

from atiende.cases.models import Case, Note
from atiende.channels.email import imap, intake, parallel, writing
from atiende.channels.email.models import ReceivedEmail
from atiende.channels.email.tests.test_imap import numbered
from atiende.customers.models import ContactEmail


@pytest.fixture(autouse=True)
def _writer_threads(monkeypatch):
    """These passes store on writer threads: not in the pool's workers (decision 0015,
    `tests/test_store_pool.py`), which PostgreSQL's passes use where they can fork."""
    monkeypatch.setattr(parallel, "STORE", False)


def test_results_come_in_order_and_an_error_is_raised_only_after_every_item_finished():
    pool = writing.Writers(2)
    try:
        finished: list[int] = []

        def work(i: int, pause: float) -> int:
            time.sleep(pause)
            finished.append(i)
            if i == 0:
                raise ValueError("first")
            return i * 10

        assert writing.results([pool.submit(lambda i: i * 10, i) for i in (1, 2, 3)]) == [
            10,
            20,
            30,
        ]
        with pytest.raises(ValueError, match="first"):
            writing.results([pool.submit(work, 0, 0.0), pool.submit(work, 1, 0.2)])
        assert sorted(finished) == [0, 1]  # the slow one was waited for
    finally:
        pool.close()
    assert not any(t.name.startswith("email-writer") for t in threading.enumerate())


@pytest.mark.django_db
def test_writers_outside_a_transaction_for_a_long_pass(monkeypatch):
    # A test's database work runs in a transaction: a pass inside one stays in it.
    assert writing.count(10_000) == 0
    monkeypatch.setattr(type(connection), "in_atomic_block", False, raising=False)
    # two on PostgreSQL; one on SQLite (one writer at a time: the poller's thread keeps IMAP)
    assert writing.count(10_000) == (2 if connection.vendor == "postgresql" else 1)
    monkeypatch.setattr(writing.os, "sched_getaffinity", lambda pid: {0})
    assert writing.count(10_000) == 0
    assert writing.count(parallel.MIN_MESSAGES - 1) == 0
    monkeypatch.setattr(writing.mechanisms, "EMAIL_WRITERS", False)
    assert writing.count(10_000) == 0


def writer_threads() -> set[str]:
    """Two on PostgreSQL, one on SQLite (`writing.count`)."""
    return {f"email-writer-{i}" for i in range(2 if connection.vendor == "postgresql" else 1)}


def _with_sender(raw: bytes, i: int, address: str) -> bytes:
    return raw.replace(f"<cliente{i}@acme.com.co>".encode(), f"<{address}>".encode())


def clashing_mails() -> list[bytes]:
    """150 mails where, in each chunk of 50 (two groups of 25, stored at the same time),
    the same mail is in both groups and a first-time sender writes in both."""
    mails = [numbered(i) for i in range(150)]
    for start in range(0, 150, 50):
        mails[start + 30] = mails[start + 3]
        mails[start + 35] = _with_sender(mails[start + 35], start + 35, f"nueva{start}@acme.com.co")
        mails[start + 5] = _with_sender(mails[start + 5], start + 5, f"nueva{start}@acme.com.co")
    return mails


def assert_each_once(result, correo, dovecot) -> None:
    """What a pass of `clashing_mails` must leave: every message and new sender once."""
    assert (result.fetched, result.stored, result.duplicate, result.quarantined) == (150, 147, 3, 0)
    inbound = Note.objects.filter(direction="inbound", channel=correo)
    assert inbound.count() == 147 == len(set(inbound.values_list("external_id", flat=True)))
    assert Case.objects.count() == 147 and ReceivedEmail.objects.count() == 147
    for start in range(0, 150, 50):
        assert ContactEmail.objects.filter(address=f"nueva{start}@acme.com.co").count() == 1
    assert dovecot.count("INBOX") == 0 and dovecot.count("Procesados") == 150


@pytest.mark.usefixtures("frozen", "sla_targets")
@pytest.mark.django_db(transaction=True)
def test_two_writers_store_each_message_and_each_new_sender_once(
    dovecot, correo, acme, monkeypatch
):
    threads: set[str] = set()
    real = intake.ingest_many

    def watched(*args, **kwargs):
        threads.add(threading.current_thread().name)
        return real(*args, **kwargs)

    monkeypatch.setattr(intake, "ingest_many", watched)
    dovecot.deliver(clashing_mails())
    result = imap.poll_once(correo)
    assert {t for t in threads if t.startswith("email-writer")} == writer_threads()
    assert_each_once(result, correo, dovecot)
    assert not any(t.name.startswith("email-writer") for t in threading.enumerate())


@pytest.mark.usefixtures("frozen", "sla_targets")
@pytest.mark.django_db(transaction=True)
def test_a_group_that_fails_leaves_its_chunk_on_the_server_and_the_next_pass_stores_it_once(
    dovecot, correo, acme, monkeypatch
):
    from django.db import DatabaseError

    real = intake.ingest_many
    failed: list[str] = []

    def fails_once(channel, group, **kwargs):
        if not failed and any(b"<lote-60@" in raw for raw, _ in group):
            failed.append(threading.current_thread().name)
            raise DatabaseError("the server went away")
        return real(channel, group, **kwargs)

    monkeypatch.setattr(intake, "ingest_many", fails_once)
    dovecot.deliver([numbered(i) for i in range(150)])
    with pytest.raises(DatabaseError):
        imap.poll_once(correo)
    assert failed and failed[0].startswith("email-writer")
    assert 0 < dovecot.count("Procesados") <= 50  # the chunks before the failed one only
    assert not any(t.name.startswith("email-writer") for t in threading.enumerate())
    again = imap.poll_once(correo)
    assert again.stored + again.duplicate == again.fetched
    inbound = Note.objects.filter(direction="inbound", channel=correo)
    assert inbound.count() == 150 == len(set(inbound.values_list("external_id", flat=True)))
    assert dovecot.count("INBOX") == 0 and dovecot.count("Procesados") == 150
