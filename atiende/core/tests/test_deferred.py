"""Deferred rows: written together later in their transaction, yet never missed by a read,
and gone with a savepoint that rolls back."""

import pytest
from django.db import connection, transaction

from atiende.core import audit, clock, deferred
from atiende.core.models import AuditEntry
from atiende.core.tests.queries import statements
from atiende.core.transactions import service_scope
from atiende.worker.models import Job

pytestmark = pytest.mark.django_db


def _job(kind: str) -> Job:
    now = clock.now()
    return Job(kind=kind, payload={}, run_at=now, created_at=now)


def _in_table(kind: str) -> int:
    """Rows in the table itself, read with SQL (no manager, so nothing is flushed; the
    tests' guard against such reads is lifted for this one)."""
    wrappers = connection.execute_wrappers
    connection.execute_wrappers = [w for w in wrappers if w is not deferred.guard]
    try:
        with connection.cursor() as cur:
            cur.execute("SELECT COUNT(*) FROM worker_job WHERE kind = %s", [kind])
            return cur.fetchone()[0]
    finally:
        connection.execute_wrappers = wrappers


@pytest.mark.django_db(transaction=True)
def test_outside_a_transaction_a_row_is_written_at_once():
    job = _job("now")
    deferred.insert(job)
    assert job.pk is not None and _in_table("now") == 1


def test_rows_wait_until_the_service_scope_ends_and_go_in_one_insert():
    jobs = [_job("later") for _ in range(5)]
    with statements('INSERT INTO "worker_job"') as inserts:
        with service_scope():
            deferred.insert(*jobs)
            assert _in_table("later") == 0
        assert _in_table("later") == 5
    assert len(inserts) == 1
    assert all(j.pk is not None for j in jobs)


def test_a_query_through_the_model_sees_the_pending_rows():
    with service_scope():
        deferred.insert(_job("seen"))
        assert Job.objects.filter(kind="seen").count() == 1


def test_a_savepoint_that_rolls_back_drops_the_rows_handed_over_inside_it():
    with service_scope():
        deferred.insert(_job("outer"))
        try:
            with transaction.atomic():
                deferred.insert(_job("inner"))
                raise ValueError
        except ValueError:
            pass
        deferred.insert(_job("after"))
    kinds = sorted(Job.objects.values_list("kind", flat=True))
    assert kinds == ["after", "outer"]


def test_rows_written_by_a_read_inside_a_savepoint_go_with_its_rollback():
    with service_scope():
        try:
            with transaction.atomic():
                deferred.insert(_job("inner"))
                assert Job.objects.filter(kind="inner").exists()  # written here
                raise ValueError
        except ValueError:
            pass
    assert not Job.objects.filter(kind="inner").exists()


def test_a_rollback_drops_pending_rows():
    with pytest.raises(ValueError), service_scope():
        deferred.insert(_job("never"))
        raise ValueError
    assert _in_table("never") == 0
    assert deferred.pending(connection) == []


def test_an_audit_entry_names_a_deferred_row_by_its_id():
    with service_scope():
        job = _job("audited")
        deferred.insert(job)
        audit.record(actor=None, action="job.queued", obj=job)
    entry = AuditEntry.objects.get(action="job.queued")
    assert entry.object_id == str(job.pk) != "None"


@pytest.mark.django_db(transaction=True)
def test_a_commit_writes_what_is_still_pending():
    with transaction.atomic():  # a plain transaction, no service scope
        deferred.insert(_job("committed"), _job("committed"))
        assert _in_table("committed") == 0
    assert _in_table("committed") == 2


def test_saving_a_pending_row_updates_it_instead_of_inserting_it_twice():
    with service_scope():
        job = _job("saved")
        deferred.insert(job)
        job.last_error = "cambiado"
        job.save()
    assert list(Job.objects.filter(kind="saved").values_list("last_error", flat=True)) == [
        "cambiado"
    ]


def test_a_query_that_would_miss_pending_rows_is_refused_in_tests():
    with service_scope():
        deferred.insert(_job("joined"))
        with pytest.raises(AssertionError, match="worker_job"), connection.cursor() as cur:
            cur.execute("SELECT COUNT(*) FROM worker_job WHERE kind = %s", ["joined"])
        assert Job.objects.filter(kind="joined").count() == 1  # through the manager: fine
        with connection.cursor() as cur:  # nothing pending any more
            cur.execute("SELECT COUNT(*) FROM worker_job WHERE kind = %s", ["joined"])


def test_with_the_mechanism_off_a_row_is_written_at_once(monkeypatch):
    monkeypatch.setattr(deferred.mechanisms, "DEFERRED_ROWS", False)
    with service_scope():
        job = _job("off")
        deferred.insert(job)
        assert job.pk is not None and _in_table("off") == 1
