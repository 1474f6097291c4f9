import contextlib
import datetime as dt
import threading

import pytest
from django.db import connection

from atiende.core import clock
from atiende.core.tests.threads import at_once, raised
from atiende.worker import queue, registry
from atiende.worker.errors import DeliveryError
from atiende.worker.models import Job, JobStatus, PeriodicTask

T0 = dt.datetime(2026, 5, 4, 12, 0, tzinfo=dt.UTC)
calls: list[dict] = []


@registry.handler("test.record")
def _record(payload):
    calls.append(payload)


@registry.handler("test.write")
def _write(payload):
    from atiende.configuration.models import Setting

    Setting.objects.create(key=f"written-by-job-{payload['_job_id']}-{len(calls)}", value=1)
    calls.append(payload)


@registry.handler("test.temporary")
def _temporary(payload):
    raise DeliveryError("servidor ocupado", permanent=False)


@registry.handler("test.permanent")
def _permanent(payload):
    raise DeliveryError("número inválido", permanent=True)


@pytest.fixture(autouse=True)
def _reset():
    calls.clear()


@pytest.mark.django_db
def test_a_queued_job_runs_once_and_is_marked_done():
    with clock.frozen(T0):
        job = queue.enqueue("test.record", {"x": 1})
        assert queue.run_pending() == 1
        assert queue.run_pending() == 0
    job.refresh_from_db()
    assert job.status == JobStatus.DONE and job.attempts == 1
    assert [c["x"] for c in calls] == [1]


@pytest.mark.django_db
def test_a_job_is_not_claimed_before_its_time():
    with clock.frozen(T0) as c:
        queue.enqueue("test.record", run_at=T0 + dt.timedelta(minutes=5))
        assert queue.claim() == []
        c.advance(minutes=5)
        assert len(queue.claim()) == 1


@pytest.mark.django_db
def test_temporary_failures_retry_with_growing_backoff_then_give_up():
    with clock.frozen(T0) as c:
        job = queue.enqueue("test.temporary", max_attempts=3)
        queue.run_pending()
        job.refresh_from_db()
        assert job.status == JobStatus.PENDING and job.attempts == 1
        assert job.run_at == T0 + dt.timedelta(seconds=5)
        assert "ocupado" in job.last_error
        c.advance(seconds=5)
        queue.run_pending()
        job.refresh_from_db()
        assert job.run_at == c.at + dt.timedelta(seconds=10)
        c.advance(seconds=10)
        queue.run_pending()
        job.refresh_from_db()
        assert job.status == JobStatus.FAILED and job.attempts == 3


@pytest.mark.django_db
def test_permanent_failures_are_not_retried_and_stay_visible():
    with clock.frozen(T0):
        job = queue.enqueue("test.permanent")
        queue.run_pending()
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED and job.attempts == 1
    assert "número inválido" in job.last_error


@pytest.mark.django_db
def test_a_killed_workers_job_is_taken_up_after_its_lease_expires():
    with clock.frozen(T0) as c:
        job = queue.enqueue("test.record", {"x": 7})
        [claimed] = queue.claim(owner="dead-worker", lease_seconds=60)
        assert claimed.pk == job.pk
        assert queue.claim(owner="live-worker") == []  # still leased
        c.advance(seconds=61)
        [again] = queue.claim(owner="live-worker")
        assert queue.run_job(again) == JobStatus.DONE
    assert [c_["x"] for c_ in calls] == [7]


@pytest.mark.django_db
def test_a_claim_takes_the_earliest_due_of_pending_jobs_and_expired_leases_together():
    with clock.frozen(T0) as c:
        early = [queue.enqueue("test.record", {"x": i}) for i in range(3)]
        abandoned = queue.claim(3, owner="dead-worker", lease_seconds=60)
        assert [j.pk for j in abandoned] == [j.pk for j in early]
        c.advance(seconds=30)
        late = [queue.enqueue("test.record", {"x": 10 + i}) for i in range(4)]
        c.advance(seconds=31)  # the dead worker's lease is over
        first = queue.claim(5, owner="live-worker")
        # due first: the three abandoned ones (due at T0), then the pending ones in order
        assert [j.pk for j in first] == [*(j.pk for j in early), late[0].pk, late[1].pk]
        assert [j.pk for j in queue.claim(5, owner="live-worker")] == [late[2].pk, late[3].pk]


@pytest.mark.django_db
def test_a_claim_reads_only_the_first_due_jobs_of_a_long_backlog():
    """The claim reads the due jobs in index order and stops at its limit, on SQLite too:
    counted with SQLite's own step counter (the virtual machine's row visits), a claim of
    10 from a backlog of 2,000 visits far fewer rows than the backlog holds."""
    if connection.vendor != "sqlite":
        pytest.skip("SQLite's statement counters")
    with clock.frozen(T0):
        Job.objects.bulk_create(
            Job(kind="test.record", payload={}, run_at=T0 - dt.timedelta(seconds=i), created_at=T0)
            for i in range(2000)
        )
        raw = connection.connection
        steps = 0

        def count() -> int:
            nonlocal steps
            steps += 1
            return 0

        raw.set_progress_handler(count, 100)  # called every 100 virtual machine steps
        try:
            claimed = queue.claim(10)
        finally:
            raw.set_progress_handler(None, 100)
    assert [j.run_at for j in claimed] == sorted(j.run_at for j in claimed)
    assert claimed[0].run_at == T0 - dt.timedelta(seconds=1999)
    # 1,400 steps; the claim before session 20 (every due job read, then sorted): 31,200
    assert steps * 100 < 5_000


@pytest.mark.django_db
def test_a_worker_that_lost_its_lease_does_not_finish_the_job():
    from atiende.configuration.models import Setting

    with clock.frozen(T0) as c:
        queue.enqueue("test.write")
        [stale] = queue.claim(owner="slow", lease_seconds=10)
        c.advance(seconds=11)
        [fresh] = queue.claim(owner="fast")
        assert queue.run_job(fresh) == JobStatus.DONE
        # not ours any more: what its handler wrote is rolled back with the transaction
        assert queue.run_job(stale) == JobStatus.RUNNING
    assert Setting.objects.filter(key__startswith="written-by-job-").count() == 1


@pytest.mark.django_db
def test_the_handlers_writes_roll_back_when_the_lease_was_lost_mid_run():
    from atiende.configuration.models import Setting

    with clock.frozen(T0):
        job = queue.enqueue("test.write")
        [mine] = queue.claim(owner="slow", lease_seconds=10)

        @registry.handler("test.write")
        def _stolen(payload):  # another worker takes the job while this one runs
            Setting.objects.create(key="written-by-job-stolen", value=1)
            Job.objects.filter(pk=job.pk).update(locked_by="other")

        try:
            assert queue.run_job(mine) == JobStatus.RUNNING
        finally:
            registry.HANDLERS["test.write"] = _write
    assert not Setting.objects.filter(key="written-by-job-stolen").exists()


@pytest.mark.django_db
def test_dedupe_key_makes_a_second_enqueue_a_no_op():
    assert queue.enqueue("test.record", dedupe_key="k1") is not None
    assert queue.enqueue("test.record", dedupe_key="k1") is None
    assert Job.objects.count() == 1


@pytest.mark.django_db
def test_enqueue_once_adds_a_job_once_in_one_statement():
    from django.test.utils import CaptureQueriesContext

    with clock.frozen(T0), CaptureQueriesContext(connection) as statements:
        assert queue.enqueue_once("test.record", {"x": 1}, dedupe_key="k1") is True
        assert queue.enqueue_once("test.record", {"x": 2}, dedupe_key="k1") is False
    assert len(statements.captured_queries) == 2  # no savepoints, no BEGIN/COMMIT
    job = Job.objects.get()
    assert (job.kind, job.payload, job.status, job.run_at) == (
        "test.record",
        {"x": 1},
        JobStatus.PENDING,
        T0,
    )
    assert job.attempts == 0 and job.max_attempts == 8 and job.dedupe_key == "k1"
    assert queue.enqueue("test.record", dedupe_key="k1") is None  # the same key as enqueue's
    assert queue.run_pending() == 1 and [c["x"] for c in calls] == [1]


@pytest.mark.django_db
def test_enqueue_once_keeps_the_order_of_jobs_deferred_before_it():
    from django.db import transaction

    with transaction.atomic():
        first = queue.enqueue("test.record", {"x": 1})  # deferred until the commit
        queue.enqueue_once("test.record", {"x": 2}, dedupe_key="k2")
    assert first is not None
    assert [j.payload["x"] for j in Job.objects.order_by("id")] == [1, 2]


@pytest.mark.django_db
def test_enqueue_once_inside_a_rolled_back_transaction_adds_nothing():
    from django.db import transaction

    with pytest.raises(RuntimeError), transaction.atomic():
        assert queue.enqueue_once("test.record", {}, dedupe_key="k3") is True
        raise RuntimeError
    assert not Job.objects.exists()
    assert queue.enqueue_once("test.record", {}, dedupe_key="k3") is True


@pytest.mark.django_db(transaction=True)
def test_enqueue_once_at_once_on_many_threads_adds_one_job():
    outcomes = at_once(
        [lambda: queue.enqueue_once("test.record", {}, dedupe_key="same") for _ in range(8)]
    )
    assert raised(outcomes) == []
    assert sorted(outcomes) == [False] * 7 + [True]
    assert Job.objects.filter(dedupe_key="same").count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_service_handler_joins_the_jobs_transaction_without_a_savepoint():
    from django.test.utils import CaptureQueriesContext

    from atiende.configuration.models import Setting
    from atiende.core.transactions import service

    @service
    def write(key: str, fail: bool) -> None:
        Setting.objects.create(key=key, value=1)
        if fail:
            raise RuntimeError("después de escribir")

    @registry.handler("test.service", service=True)
    def _handler(payload):
        write(payload["key"], payload["fail"])

    try:
        queue.enqueue("test.service", {"key": "ok", "fail": False})
        with CaptureQueriesContext(connection) as statements:
            assert queue.run_pending() == 1
        assert not [q for q in statements.captured_queries if "SAVEPOINT" in q["sql"]]
        assert Setting.objects.filter(key="ok").exists()
        job = queue.enqueue("test.service", {"key": "roto", "fail": True})
        assert queue.run_pending() == 1
        job.refresh_from_db()
        # the handler's write rolled back with the job's transaction; the job waits to retry
        assert (job.status, job.attempts) == (JobStatus.PENDING, 1)
        assert not Setting.objects.filter(key="roto").exists()
    finally:
        registry.HANDLERS.pop("test.service", None)
        registry.SERVICE_SCOPE.discard("test.service")


@pytest.mark.django_db(transaction=True)
def test_a_batched_handler_runs_without_savepoints_and_again_with_them_when_it_caught_an_error():
    from django.test.utils import CaptureQueriesContext

    from atiende.configuration.models import Setting
    from atiende.core.errors import DomainError
    from atiende.core.transactions import service_scope

    def store(key: str) -> None:
        with service_scope():  # each item in its own scope, as flows.handle
            Setting.objects.create(key=key, value=1)
            if key.startswith("refused"):
                raise DomainError("rechazado")

    runs: list[list[str]] = []

    @registry.handler("test.batched", batch=True)
    def _handler(payload):
        runs.append(payload["keys"])
        for key in payload["keys"]:
            with contextlib.suppress(DomainError):  # one refused item must not hold back the rest
                store(key)

    try:
        queue.enqueue("test.batched", {"keys": ["a", "b"]})
        with CaptureQueriesContext(connection) as statements:
            assert queue.run_pending() == 1
        assert not [q for q in statements.captured_queries if "SAVEPOINT" in q["sql"]]
        assert len(runs) == 1

        job = queue.enqueue("test.batched", {"keys": ["c", "refused-d", "e"]})
        with CaptureQueriesContext(connection) as statements:
            assert queue.run_pending() == 1
        # The first run caught an error inside: rolled back, then run with a savepoint per
        # item, where the refused one alone is undone.
        assert len(runs) == 3
        assert [q for q in statements.captured_queries if "SAVEPOINT" in q["sql"]]
        job.refresh_from_db()
        assert job.status == JobStatus.DONE
        assert sorted(Setting.objects.values_list("key", flat=True)) == ["a", "b", "c", "e"]
    finally:
        registry.HANDLERS.pop("test.batched", None)
        registry.BATCHED.discard("test.batched")


@pytest.mark.django_db(transaction=True)
def test_a_batched_handler_that_lets_an_error_through_fails_as_any_job():
    from atiende.configuration.models import Setting
    from atiende.core.transactions import service_scope

    runs = []

    @registry.handler("test.batched-failing", batch=True)
    def _handler(payload):
        runs.append(1)
        with service_scope():
            Setting.objects.create(key="half", value=1)
            raise DeliveryError("el otro lado no responde")

    try:
        job = queue.enqueue("test.batched-failing", {})
        assert queue.run_pending() == 1
        job.refresh_from_db()
        assert (job.status, job.attempts, len(runs)) == (JobStatus.PENDING, 1, 1)
        assert "no responde" in job.last_error
        assert not Setting.objects.filter(key="half").exists()
    finally:
        registry.HANDLERS.pop("test.batched-failing", None)
        registry.BATCHED.discard("test.batched-failing")


@pytest.fixture
def grouped():
    """Kinds `test.g` (batch=True) and `test.single`: each call records the job's name,
    the calls made so far when its transaction committed, and writes a row."""
    from django.db import transaction

    from atiende.configuration.models import Setting

    seen: list[str] = []
    committed: dict[str, int] = {}

    def run(payload):
        name = payload["name"]
        seen.append(name)
        Setting.objects.create(key=f"{name}-{len(seen)}", value=1)
        transaction.on_commit(lambda: committed.setdefault(name, len(seen)))
        if payload.get("fail"):
            raise DeliveryError("falla")

    registry.handler("test.g", batch=True)(run)
    registry.handler("test.single")(run)
    try:
        yield seen, committed
    finally:
        for kind in ("test.g", "test.single"):
            registry.HANDLERS.pop(kind, None)
            registry.BATCHED.discard(kind)


@pytest.mark.django_db(transaction=True)
def test_batched_jobs_claimed_together_commit_together_in_claim_order(grouped):
    seen, committed = grouped
    for name in ("a", "b", "c"):
        queue.enqueue("test.g", {"name": name})
    queue.enqueue("test.single", {"name": "s"})
    queue.enqueue("test.g", {"name": "d"})
    assert queue.run_pending() == 5
    assert seen == ["a", "b", "c", "s", "d"]
    # a, b and c committed after the third call; the single job and d alone
    assert committed == {"a": 3, "b": 3, "c": 3, "s": 4, "d": 5}
    assert set(Job.objects.values_list("status", flat=True)) == {JobStatus.DONE}


@pytest.mark.django_db(transaction=True)
def test_a_job_failing_in_a_group_undoes_the_group_which_runs_again_one_by_one(grouped):
    from atiende.configuration.models import Setting

    seen, committed = grouped
    for name in ("a", "b", "c"):
        queue.enqueue("test.g", {"name": name, "fail": name == "b"})
    assert queue.run_pending() == 3
    assert seen == ["a", "b", "a", "b", "c"]  # the group stopped at b; then each alone
    assert committed == {"a": 3, "c": 5}
    assert sorted(Setting.objects.values_list("key", flat=True)) == ["a-3", "c-5"]
    statuses = dict(Job.objects.values_list("payload__name", "status"))
    assert statuses == {"a": JobStatus.DONE, "b": JobStatus.PENDING, "c": JobStatus.DONE}


@pytest.mark.django_db(transaction=True)
def test_while_requests_are_served_here_jobs_run_one_to_a_transaction(grouped):
    from atiende.core import foreground

    _seen, committed = grouped
    for name in ("a", "b"):
        queue.enqueue("test.g", {"name": name})
    foreground._flag.enter()  # a request in flight in this process
    try:
        assert queue.run_pending(yield_between_jobs=True) == 2
    finally:
        foreground._flag.leave()
    assert committed == {"a": 1, "b": 2}


@pytest.mark.django_db(transaction=True)
def test_the_switch_runs_every_job_alone(grouped, monkeypatch):
    from atiende.core import mechanisms

    _seen, committed = grouped
    monkeypatch.setattr(mechanisms, "GROUPED_JOBS", False)
    for name in ("a", "b"):
        queue.enqueue("test.g", {"name": name})
    assert queue.run_pending() == 2
    assert committed == {"a": 1, "b": 2}


def test_a_handler_outside_a_transaction_cannot_be_batched():
    with pytest.raises(ValueError, match="atomic"):
        registry.handler("test.never", atomic=False, batch=True)


@pytest.mark.django_db(transaction=True)
def test_concurrent_workers_claim_disjoint_jobs():
    for i in range(200):
        queue.enqueue("test.record", {"i": i})

    def work(slot: int) -> list[int]:
        seen = []
        while batch := queue.claim(5, owner=f"w{slot}"):
            seen.extend(j.payload["i"] for j in batch)
        return seen

    seen = at_once([lambda s=s: work(s) for s in range(4)])
    assert raised(seen) == []
    claimed = [i for s in seen for i in s]
    assert sorted(claimed) == list(range(200))


@pytest.mark.django_db(transaction=True)
def test_a_periodic_task_never_runs_twice_at_once():
    running = threading.Event()
    release = threading.Event()
    runs: list[str] = []

    def slow_sweep():
        runs.append(threading.current_thread().name)
        running.set()
        release.wait(5)

    registry.PERIODIC["test.sweep"] = registry.Periodic("test.sweep", 60, slow_sweep)
    try:
        queue.ensure_periodic()
        first = threading.Thread(
            target=lambda: (queue.run_periodic(owner="a"), connection.close()), name="a"
        )
        first.start()
        assert running.wait(5)
        ran_b = queue.run_periodic(owner="b")  # the task is leased by "a"
        release.set()
        first.join()
        assert "test.sweep" not in ran_b
        assert runs == ["a"]
        task = PeriodicTask.objects.get(name="test.sweep")
        assert task.runs == 1 and task.lease_until is None
        assert queue.run_periodic(owner="b") == []  # not due again for 60 s
    finally:
        del registry.PERIODIC["test.sweep"]


seen_in_transaction: list[bool] = []


@registry.handler("test.outside", atomic=False)
def _outside(payload):
    seen_in_transaction.append(connection.in_atomic_block)


@registry.handler("test.inside")
def _inside(payload):
    seen_in_transaction.append(connection.in_atomic_block)


@pytest.mark.django_db(transaction=True)
def test_a_handler_that_talks_to_another_system_runs_outside_a_transaction():
    seen_in_transaction.clear()
    queue.enqueue("test.outside", {})
    queue.enqueue("test.inside", {})
    assert queue.run_pending() == 2
    assert seen_in_transaction == [False, True]
    assert set(Job.objects.values_list("status", flat=True)) == {JobStatus.DONE}


@pytest.mark.django_db
def test_a_later_job_of_a_conversation_waits_for_an_earlier_one_that_waits_to_retry():
    with clock.frozen(T0) as c:
        first = queue.enqueue("test.temporary", ordering_key="case:1")
        queue.run_pending()  # fails: retried in 5 s
        second = queue.enqueue("test.record", {"n": 2}, ordering_key="case:1")
        other = queue.enqueue("test.record", {"n": 3}, ordering_key="case:2")
        queue.run_pending()
        assert [c["n"] for c in calls] == [3]  # another conversation is not held back
        second.refresh_from_db()
        assert second.status == JobStatus.PENDING
        Job.objects.filter(pk=first.pk).update(kind="test.record", payload={"n": 1})
        c.advance(seconds=5)
        queue.run_pending()
    assert [c["n"] for c in calls] == [3, 1, 2]
    other.refresh_from_db()
    assert other.status == JobStatus.DONE


@pytest.mark.django_db
def test_a_permanently_failed_job_does_not_hold_its_conversation_back():
    with clock.frozen(T0):
        queue.enqueue("test.permanent", ordering_key="case:1")
        queue.enqueue("test.record", {"n": 2}, ordering_key="case:1")
        queue.run_pending()
    assert [c["n"] for c in calls] == [2]


@pytest.mark.django_db
def test_a_job_with_a_retry_window_outlives_its_attempts_until_the_window_ends():
    with clock.frozen(T0) as c:
        job = queue.enqueue("test.temporary", max_attempts=2, retry_for=dt.timedelta(hours=1))
        for _ in range(5):
            queue.run_pending()
            c.advance(minutes=10)
        job.refresh_from_db()
        assert job.status == JobStatus.PENDING and job.attempts == 5
        c.advance(hours=1)
        queue.run_pending()
        job.refresh_from_db()
        assert job.status == JobStatus.FAILED


@pytest.mark.django_db
def test_a_job_outside_a_transaction_does_not_run_once_its_lease_is_lost():
    sent = []

    @registry.handler("test.send", atomic=False)
    def _send(payload):  # e.g. a message to a customer: cannot be taken back
        sent.append(payload["to"])

    with clock.frozen(T0) as c:
        queue.enqueue("test.send", {"to": "ana"})
        [stale] = queue.claim(owner="slow", lease_seconds=10)
        c.advance(seconds=11)
        [fresh] = queue.claim(owner="fast")
        assert queue.run_job(stale) == JobStatus.RUNNING
        assert sent == []
        assert queue.run_job(fresh) == JobStatus.DONE
    assert sent == ["ana"]
