"""`rows.insert` writes what `bulk_create` writes, without the ORM's INSERT compiler."""

import datetime as dt
from decimal import Decimal

import pytest

from atiende.accounts.models import User
from atiende.core import clock, rows
from atiende.core.models import AuditEntry
from atiende.worker.models import Job, JobStatus, PeriodicTask

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


def test_related_rows_are_checked_as_the_orm_checks_them():
    """`insert` checks only a model's relations; what it does matches `bulk_create`."""
    ours, orms = _entries("mine", None)[0], _entries("orm", None)[0]
    for entry in (ours, orms):
        entry.actor = User(email=f"{entry.action}@example.test", name="Never")
    with pytest.raises(ValueError) as mine:
        rows.insert([ours])
    with pytest.raises(ValueError) as orm:
        AuditEntry.objects.bulk_create([orms])
    assert str(mine.value) == str(orm.value)
    # a cached object whose id changed since it was assigned is dropped from the cache
    one, other = (User.objects.create(email=f"u{i}@example.test", name="U") for i in range(2))
    first = one.pk
    entry = _entries("moved", None)[0]
    entry.actor = one
    one.pk = other.pk
    rows.insert([entry])
    assert AuditEntry.objects.get(pk=entry.pk).actor_id == first
    assert entry.actor is not one and entry.actor.pk == first  # read again


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


def _fields(obj) -> dict:
    return {f.attname: getattr(obj, f.attname) for f in type(obj)._meta.concrete_fields}


def test_one_and_select_read_rows_as_the_orm_reads_them():
    actor = User.objects.create(email="reads@example.test", name="Reads")
    rows.insert(_entries("read", actor))
    rows.insert(_jobs("read", 5))
    for orm in [
        *AuditEntry.objects.filter(action="read"),
        *Job.objects.filter(kind__startswith="read-"),
    ]:
        ours = rows.one(type(orm), id=orm.pk)
        assert type(ours) is type(orm) and not ours._state.adding
        assert _fields(ours) == _fields(orm)
    entry = AuditEntry.objects.filter(action="read").order_by("id")[1]
    assert _fields(rows.one(AuditEntry, action="read", object_id=entry.object_id)) == _fields(entry)
    assert rows.one(AuditEntry, action="read", object_id="no such") is None
    picked = rows.select(Job, "WHERE kind LIKE %s ORDER BY id DESC", ["read-%"])
    assert [_fields(j) for j in picked] == [
        _fields(j) for j in Job.objects.filter(kind__startswith="read-").order_by("-id")
    ]


def test_one_can_lock_the_row_it_reads():
    from django.db import connection, transaction
    from django.test.utils import CaptureQueriesContext

    job = _jobs("lock", 1)[0]
    rows.add(job)
    with transaction.atomic(), CaptureQueriesContext(connection) as queries:
        assert rows.one(Job, lock=True, id=job.pk).kind == "lock-0"
        assert rows.one(Job, id=job.pk).kind == "lock-0"
    locked, plain = (q["sql"] for q in queries.captured_queries)
    # FOR UPDATE where the database has it (PostgreSQL); SQLite has one writer at a time
    assert locked.endswith("FOR UPDATE") == connection.features.has_select_for_update
    assert "FOR UPDATE" not in plain


def _tasks(tag: str) -> list[PeriodicTask]:
    return [
        PeriodicTask(name=f"{tag}-{i}", interval_seconds=60, next_run_at=NOW, runs=i)
        for i in range(2)
    ]


def test_update_writes_what_save_writes():
    ours, orm = _tasks("upd")
    PeriodicTask.objects.bulk_create([ours, orm])
    for task in (ours, orm):
        task.interval_seconds = 3600
        task.next_run_at = NOW + dt.timedelta(hours=1, microseconds=7)
        task.lease_until = None
        task.last_error = "falló: ñandú"
        task.runs = 2**40
    rows.update(ours)
    orm.save()
    got = [_fields(PeriodicTask.objects.get(pk=t.pk)) for t in (ours, orm)]
    assert {**got[0], "name": ""} == {**got[1], "name": ""}
    assert got[0]["last_error"] == "falló: ñandú" and got[0]["runs"] == 2**40


def test_update_of_named_fields_leaves_the_others_and_a_missing_row_is_an_error():
    task = _tasks("some")[0]
    rows.add(task)
    task.last_error, task.locked_by = "written", "not written"
    rows.update(task, ["last_error"])
    stored = PeriodicTask.objects.get(pk=task.pk)
    assert (stored.last_error, stored.locked_by) == ("written", "")
    PeriodicTask.objects.filter(pk=task.pk).delete()
    with pytest.raises(PeriodicTask.DoesNotExist):
        rows.update(task)


def test_update_keeps_a_models_own_save_and_its_receivers():
    from django.db.models.signals import post_save

    entry = _entries("own", None)[0]
    rows.add(entry)
    entry.object_id = "changed"
    with pytest.raises(RuntimeError, match="append-only"):
        rows.update(entry)  # AuditEntry.save refuses: so does update

    task = _tasks("heard")[0]
    rows.add(task)
    heard = []

    def receiver(sender, instance, created, update_fields, **kwargs):
        heard.append((instance.last_error, created, update_fields))

    post_save.connect(receiver, sender=PeriodicTask)
    try:
        task.last_error = "saved"
        rows.update(task, ["last_error"])
    finally:
        post_save.disconnect(receiver, sender=PeriodicTask)
    assert heard == [("saved", False, frozenset({"last_error"}))]
    assert PeriodicTask.objects.get(pk=task.pk).last_error == "saved"


def test_write_columns_writes_what_queryset_update_writes_and_sends_no_signal():
    from django.db.models.signals import post_save, pre_save

    ours, orm = _tasks("cols")
    PeriodicTask.objects.bulk_create([ours, orm])
    for task in (ours, orm):
        task.next_run_at = NOW + dt.timedelta(hours=2, microseconds=9)
        task.last_error = "otra vez: ñandú"
        task.locked_by = "not written"
    heard = []

    def receiver(sender, instance, **kwargs):
        heard.append(instance.pk)

    pre_save.connect(receiver, sender=PeriodicTask)
    post_save.connect(receiver, sender=PeriodicTask)
    try:
        rows.write_columns(ours, ["next_run_at", "last_error"])
    finally:
        pre_save.disconnect(receiver, sender=PeriodicTask)
        post_save.disconnect(receiver, sender=PeriodicTask)
    PeriodicTask.objects.filter(pk=orm.pk).update(
        next_run_at=orm.next_run_at, last_error=orm.last_error
    )
    got = [
        _fields(PeriodicTask.objects.get(pk=t.pk)) | {"name": "", "runs": 0} for t in (ours, orm)
    ]
    assert got[0] == got[1]
    assert got[0]["last_error"] == "otra vez: ñandú" and got[0]["locked_by"] == ""
    assert heard == []  # as QuerySet.update: no save(), no signals
    PeriodicTask.objects.filter(pk=ours.pk).delete()
    rows.write_columns(ours, ["last_error"])  # a row that is gone: nothing written, no error


def test_select_can_lock_the_rows_it_reads():
    from django.db import connection, transaction
    from django.test.utils import CaptureQueriesContext

    rows.add(_jobs("selock", 1)[0])
    with transaction.atomic(), CaptureQueriesContext(connection) as queries:
        [job] = rows.select(Job, "WHERE kind = %s", ["selock-0"], lock=True)
    assert job.kind == "selock-0"
    [sql] = (q["sql"] for q in queries.captured_queries)
    assert sql.endswith("FOR UPDATE") == connection.features.has_select_for_update


def _note(case, external_id):
    from atiende.cases.models import Note

    return Note(
        case=case,
        visibility="public",
        direction="inbound",
        channel=case.channel,
        body_text=f"mensaje {external_id}",
        external_id=external_id,
        created_at=NOW,
    )


def test_add_once_writes_a_row_once_per_key_in_one_statement(portal):
    """Notes are unique per (channel, external id) where the id is not null (a partial
    constraint): a second row with a taken key is not written, without an error or a
    savepoint, and the transaction goes on; rows without the id are not concerned."""
    from django.db import connection, transaction
    from django.test.utils import CaptureQueriesContext

    from atiende.cases import services
    from atiende.cases.models import Note

    case = services.open_case(actor=None, channel=portal, subject="Clave única", acknowledge=False)
    first, again = _note(case, "wamid.1"), _note(case, "wamid.1")
    with transaction.atomic(), CaptureQueriesContext(connection) as queries:
        assert rows.add_once(first, key=["channel", "external_id"]) is True
        assert rows.add_once(again, key=["channel", "external_id"]) is False
        assert rows.add_once(_note(case, None), key=["channel", "external_id"]) is True
        assert rows.add_once(_note(case, None), key=["channel", "external_id"]) is True
        assert Note.objects.filter(case=case).count() == 4 - 1  # usable after the clash
    assert first.pk is not None and again.pk is None
    written = [q["sql"] for q in queries.captured_queries if q["sql"].startswith("INSERT")]
    assert len(written) == 4 and all("ON CONFLICT" in sql for sql in written)
    assert not any("SAVEPOINT" in q["sql"] for q in queries.captured_queries)
    assert Note.objects.get(external_id="wamid.1").pk == first.pk


def test_add_once_goes_through_save_in_a_savepoint_when_a_receiver_listens(portal):
    from django.db.models.signals import post_save

    from atiende.cases import services
    from atiende.cases.models import Note

    case = services.open_case(actor=None, channel=portal, subject="Con receptor", acknowledge=False)
    heard = []

    def receiver(sender, instance, created, **kwargs):
        heard.append(instance.external_id)

    post_save.connect(receiver, sender=Note)
    try:
        assert rows.add_once(_note(case, "x-1"), key=["channel", "external_id"]) is True
        assert rows.add_once(_note(case, "x-1"), key=["channel", "external_id"]) is False
    finally:
        post_save.disconnect(receiver, sender=Note)
    assert heard == ["x-1"]
    assert Note.objects.filter(external_id="x-1").count() == 1


def test_datetimes_are_stored_as_the_text_the_orm_stores():
    from zoneinfo import ZoneInfo

    from django.db import connection

    moments = [NOW, NOW.replace(microsecond=0), NOW.astimezone(ZoneInfo("America/Bogota"))]
    for i, at in enumerate(moments):
        entry = dict(actor_label="x", object_type="x.y", object_id="1", changes={}, at=at)
        AuditEntry.objects.bulk_create([AuditEntry(action=f"dt-orm-{i}", **entry)])
        rows.insert([AuditEntry(action=f"dt-rows-{i}", **entry)])
    table = AuditEntry._meta.db_table
    text = "CAST(at AS TEXT)" if connection.vendor == "sqlite" else "at::text"
    with connection.cursor() as cur:
        cur.execute(f"SELECT action, {text} FROM {table} WHERE action LIKE %s", ["dt-%"])
        stored = dict(cur.fetchall())
    for i in range(len(moments)):
        assert stored[f"dt-rows-{i}"] == stored[f"dt-orm-{i}"]
    if connection.vendor == "sqlite":
        assert stored["dt-rows-1"] == str(NOW.replace(microsecond=0, tzinfo=None))
    # one statement, the same object again and again, then others: each row its own
    again = [
        AuditEntry(action=f"dt-again-{i}", actor_label="x", object_type="x.y", changes={}, at=at)
        for i, at in enumerate([NOW, NOW, moments[2], moments[2], moments[1], NOW])
    ]
    rows.insert(again)
    with connection.cursor() as cur:
        cur.execute(f"SELECT action, {text} FROM {table} WHERE action LIKE %s", ["dt-again-%"])
        written = dict(cur.fetchall())
    expected = ["dt-orm-0", "dt-orm-0", "dt-orm-2", "dt-orm-2", "dt-orm-1", "dt-orm-0"]
    assert [written[f"dt-again-{i}"] for i in range(6)] == [stored[e] for e in expected]


def test_a_date_the_field_sets_on_insert_is_set_and_a_plain_one_is_kept():
    from atiende.channels.phone.models import BlockedNumber

    before = dt.datetime.now(dt.UTC)
    blocked = BlockedNumber(number="+576017442727")  # created_at: auto_now_add
    rows.insert([blocked])
    assert blocked.created_at is not None and blocked.created_at >= before
    assert BlockedNumber.objects.get(pk=blocked.pk).created_at == blocked.created_at
    entry = _entries("kept", None)[0]  # `at`: a plain date and time, written as given
    rows.insert([entry])
    assert AuditEntry.objects.get(pk=entry.pk).at == NOW
    assert rows._prepares(BlockedNumber._meta.get_field("created_at"))
    assert not rows._prepares(AuditEntry._meta.get_field("at"))


def test_where_parameters_are_bound_on_the_server_the_insert_is_sent_numbered(monkeypatch):
    """No rewriting of `%s` by the driver for `insert`'s long statements (core/postgresql:
    `numbered_cursor`); the rows are the same."""
    from django.db import connection, connections

    from atiende.core.tests.prepared import prepared_here

    with prepared_here():
        import psycopg._queries

        rewritten = []
        original = psycopg._queries._query2pg_nocache
        monkeypatch.setattr(
            psycopg._queries,
            "_query2pg_nocache",
            lambda *args: rewritten.append(1) or original(*args),
        )
        assert connection.numbered_cursor() is not None
        jobs = _jobs("rows", 40)  # 400 parameters
        rows.insert(jobs)
        assert rewritten == []
        assert len({j.pk for j in jobs}) == 40
        with monkeypatch.context() as plain:  # as before: psycopg rewrites it at every run
            plain.setattr(type(connections["default"]), "numbered_cursor", lambda self: None)
            rows.insert(_jobs("plain", 40))
            assert rewritten
    assert connection.numbered_cursor() is None  # the driver binds them itself again
    Job.objects.bulk_create(_jobs("orm", 40))
    orm = _read(Job, kind__startswith="orm-")
    ours = _read(Job, kind__startswith="rows-")
    for row in orm + ours:
        row["kind"] = row["kind"].split("-")[1]
    assert ours == orm
