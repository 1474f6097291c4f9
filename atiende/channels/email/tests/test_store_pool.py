"""Pool workers that parse and store (`parallel.stores`, decision 0015): what they store is
what the poller's writers store — every message once, every new sender once — each chunk
leaves the folder only after every one of its groups committed, a group that fails leaves
its chunk on the server, and a worker that dies loses and doubles nothing. PostgreSQL's
passes store this way; these tests ask for it on both databases."""

from __future__ import annotations

import os
import signal

import pytest
from django.db import DatabaseError, connection

from atiende.cases.models import Case, Note
from atiende.channels.email import imap, intake, parallel
from atiende.channels.email.models import ReceivedEmail
from atiende.channels.email.tests.test_imap import numbered
from atiende.channels.email.tests.test_writers import assert_each_once, clashing_mails

pytestmark = [
    pytest.mark.usefixtures("frozen", "sla_targets"),
    pytest.mark.django_db(transaction=True),
]


@pytest.fixture
def storing(monkeypatch, tmp_path):
    """Passes of 1+ messages store in forked pool workers; each call of `ingest_many`
    leaves a line `pid` in a file (the workers are other processes)."""
    monkeypatch.setattr(parallel, "START_METHOD", "fork")
    monkeypatch.setattr(parallel, "STORE", True)
    monkeypatch.setattr(parallel, "MIN_MESSAGES", 1)
    monkeypatch.setattr(parallel.os, "sched_getaffinity", lambda pid: {0, 1})
    calls = tmp_path / "calls"
    real = intake.ingest_many

    def watched(*args, **kwargs):
        with open(calls, "a") as out:
            out.write(f"{os.getpid()}\n")
        return real(*args, **kwargs)

    monkeypatch.setattr(intake, "ingest_many", watched)
    return lambda: [int(line) for line in calls.read_text().split()] if calls.exists() else []


def test_a_long_pass_on_postgresql_stores_in_its_pool_and_not_inside_a_transaction(
    monkeypatch,
):
    monkeypatch.setattr(parallel, "START_METHOD", "fork")
    monkeypatch.setattr(parallel.os, "sched_getaffinity", lambda pid: {0, 1})
    long = parallel.MIN_MESSAGES
    assert parallel.stores(long) == (connection.vendor == "postgresql")
    assert not parallel.stores(long - 1)
    monkeypatch.setattr(parallel, "START_METHOD", "forkserver")  # a process with threads
    assert not parallel.stores(long)
    monkeypatch.setattr(parallel, "START_METHOD", "fork")
    monkeypatch.setattr(parallel.mechanisms, "EMAIL_STORE_POOL", False)
    assert not parallel.stores(long)
    monkeypatch.setattr(parallel.mechanisms, "EMAIL_STORE_POOL", True)
    monkeypatch.setattr(parallel.os, "sched_getaffinity", lambda pid: {0})
    assert not parallel.stores(long) and parallel.workers(storing=True) == 0
    monkeypatch.setattr(parallel.os, "sched_getaffinity", lambda pid: {0, 1})
    assert parallel.workers(storing=True) == 2 and parallel.workers() == 1
    monkeypatch.setattr(type(connection), "in_atomic_block", True, raising=False)
    assert not parallel.stores(long)


def test_workers_that_store_store_each_message_and_each_new_sender_once(
    storing, dovecot, correo, acme
):
    dovecot.deliver(clashing_mails())
    result = imap.poll_once(correo)
    stored_by = storing()
    assert len(stored_by) == 6 and os.getpid() not in stored_by  # 6 groups, all in workers
    assert len(set(stored_by)) == 2
    assert_each_once(result, correo, dovecot)


def test_a_group_that_fails_in_a_worker_leaves_its_chunk_on_the_server(
    storing, dovecot, correo, acme, monkeypatch, tmp_path
):
    real = intake.ingest_many
    failed = tmp_path / "failed"

    def fails_once(channel, group, **kwargs):
        if not failed.exists() and any(b"<lote-60@" in raw for raw, _ in group):
            failed.write_text(str(os.getpid()))
            raise DatabaseError("the server went away")
        return real(channel, group, **kwargs)

    monkeypatch.setattr(intake, "ingest_many", fails_once)
    dovecot.deliver([numbered(i) for i in range(150)])
    with pytest.raises(DatabaseError, match="went away"):
        imap.poll_once(correo)
    assert int(failed.read_text()) != os.getpid()  # it failed in a worker
    assert 0 < dovecot.count("Procesados") <= 50  # the chunks before the failed one only
    again = imap.poll_once(correo)
    assert again.stored + again.duplicate == again.fetched
    inbound = Note.objects.filter(direction="inbound", channel=correo)
    assert inbound.count() == 150 == len(set(inbound.values_list("external_id", flat=True)))
    assert dovecot.count("INBOX") == 0 and dovecot.count("Procesados") == 150


def test_a_worker_that_dies_after_its_commit_loses_and_doubles_nothing(
    storing, dovecot, correo, acme, monkeypatch, tmp_path, caplog
):
    real = intake.ingest_many
    died = tmp_path / "died"

    def commits_then_dies(channel, group, **kwargs):
        outcomes = real(channel, group, **kwargs)
        if os.getpid() != poller and not died.exists():
            died.write_text(str(os.getpid()))
            os.kill(os.getpid(), signal.SIGKILL)  # its group committed, the answer lost
        return outcomes

    poller = os.getpid()
    monkeypatch.setattr(intake, "ingest_many", commits_then_dies)
    dovecot.deliver([numbered(i) for i in range(160)])
    result = imap.poll_once(correo)
    assert died.exists() and "parse worker died" in caplog.text
    assert result.fetched == 160 and result.quarantined == 0
    assert result.stored + result.duplicate == 160 and result.duplicate >= 25
    inbound = Note.objects.filter(direction="inbound", channel=correo)
    assert inbound.count() == 160 == len(set(inbound.values_list("external_id", flat=True)))
    assert Case.objects.count() == 160 and ReceivedEmail.objects.count() == 160
    assert dovecot.count("INBOX") == 0


def test_the_poller_keeps_its_own_connection_out_of_the_workers(storing, dovecot, correo, acme):
    """The poller's connection is closed before the workers are forked (they would share
    its socket), and a new one is opened after for the folder's state."""
    from atiende.channels.email.models import MailboxState

    dovecot.deliver([numbered(i) for i in range(60)])
    MailboxState.objects.filter(channel=correo).exists()
    before = connection.connection
    assert before is not None
    result = imap.poll_once(correo)
    assert (result.fetched, result.stored) == (60, 60)
    assert connection.connection is not before
    assert MailboxState.objects.get(channel=correo).last_uid > 0  # written after the pool
