"""`rows.insert` writes what `bulk_create` writes, without the ORM's INSERT compiler."""

import datetime as dt
from decimal import Decimal

import pytest

from atiende.accounts.models import User
from atiende.core import clock, rows
from atiende.core.models import AuditEntry
from atiende.worker.models import Job, JobStatus

pytestmark = pytest.mark.django_db


NOW = clock.now()


def _jobs(tag: str, n: int) -> list[Job]:
    now = NOW
    out = []
    for i in range(n):
        out.append(
            Job(
                kind=f"{tag}-{i}",
                payload={"i": i, "texto": "señal ñ", "nested": [1, None, {"a": True}]},
                status=JobStatus.PENDING if i % 2 else "done",
                run_at=now + dt.timedelta(seconds=i, microseconds=i),
                attempts=i % 3,
                lease_until=None if i % 3 else now,
                locked_by="" if i % 2 else "w1",
                dedupe_key=None,
                ordering_key=f"o{i}" if i % 4 else None,
                created_at=now,
            )
        )
    return out


def _entries(tag: str, actor: User | None) -> list[AuditEntry]:
    at = NOW
    changes = [
        {},
        {"status": ["open", "closed"], "importe": str(Decimal("1.50"))},
        {"lista": [1, 2, 3], "nulo": None, "texto": "ÁÉÍÓÚ"},
    ]
    return [
        AuditEntry(
            at=at,
            actor=actor if i % 2 else None,
            actor_label=f"{tag} {i}",
            action=tag,
            object_type="x.y",
            object_id=str(i),
            changes=changes[i % 3],
        )
        for i in range(6)
    ]


def _read(model, **filters) -> list[dict]:
    return [
        {k: v for k, v in row.items() if k != "id"}
        for row in model.objects.filter(**filters).order_by("id").values()
    ]


def test_the_rows_read_back_as_bulk_create_writes_them():
    actor = User.objects.create(email="rows@example.test", name="Rows")
    AuditEntry.objects.bulk_create(_entries("orm", actor))
    rows.insert(_entries("rows", actor))
    orm = _read(AuditEntry, action="orm")
    ours = _read(AuditEntry, action="rows")
    for row in orm + ours:
        row.pop("action")
        row["actor_label"] = row["actor_label"].split()[1]
    assert ours == orm and len(ours) == 6

    Job.objects.bulk_create(_jobs("orm", 7))
    rows.insert(_jobs("rows", 7))
    orm = _read(Job, kind__startswith="orm-")
    ours = _read(Job, kind__startswith="rows-")
    for row in orm + ours:
        row["kind"] = row["kind"].split("-")[1]
    assert ours == orm and len(ours) == 7


def test_every_row_gets_its_own_id_even_over_several_statements():
    jobs = _jobs("many", 250)  # SQLite takes 999 parameters a statement: several statements
    rows.insert(jobs)
    assert len({j.pk for j in jobs}) == 250
    for job in jobs:
        assert not job._state.adding
        assert Job.objects.get(pk=job.pk).kind == job.kind


def test_a_related_row_saved_after_it_was_assigned_is_named_by_its_id():
    actor = User(email="later@example.test", name="Later")
    entry = _entries("later", None)[0]
    entry.actor = actor
    actor.save()
    rows.insert([entry])
    assert AuditEntry.objects.get(pk=entry.pk).actor_id == actor.pk


def test_a_related_row_never_saved_is_refused_as_the_orm_refuses_it():
    entry = _entries("unsaved", None)[0]
    entry.actor = User(email="never@example.test", name="Never")
    with pytest.raises(ValueError):
        rows.insert([entry])
    assert not AuditEntry.objects.filter(action="unsaved").exists()


def test_rows_that_have_their_ids_are_written_with_them():
    job = _jobs("own", 1)[0]
    job.pk = 987654
    rows.insert([job])
    assert Job.objects.get(pk=987654).kind == "own-0"


def test_add_writes_one_row_and_leaves_it_to_save_when_a_receiver_listens():
    from django.db.models.signals import post_save

    job = _jobs("one", 1)[0]
    rows.add(job)
    assert Job.objects.get(pk=job.pk).kind == "one-0"

    heard = []

    def receiver(sender, instance, created, **kwargs):
        heard.append((instance.kind, created))

    post_save.connect(receiver, sender=Job)
    try:
        job = _jobs("heard", 1)[0]
        rows.add(job)
    finally:
        post_save.disconnect(receiver, sender=Job)
    assert heard == [("heard-0", True)]
    assert Job.objects.get(pk=job.pk).kind == "heard-0"
