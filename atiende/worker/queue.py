"""The transactional queue: enqueue inside the caller's transaction, claim under a lease.

Claiming uses `SELECT ... FOR UPDATE SKIP LOCKED` on PostgreSQL, so any number of workers on
any number of machines take disjoint rows. On SQLite the claim runs in an IMMEDIATE
transaction (see settings), which holds the database write lock, so it is atomic too.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
import os
import socket
import traceback
from typing import Any

from django.db import connections, router, transaction
from django.db.models import F, Q

from atiende.core import (
    clock,
    deferred,
    foreground,
    mechanisms,
    once,
    requestid,
    rows,
    transactions,
)
from atiende.worker import registry
from atiende.worker.errors import DeliveryError
from atiende.worker.models import Job, JobStatus, PeriodicTask

log = logging.getLogger(__name__)

LEASE_SECONDS = 120
BACKOFF_BASE_SECONDS = 5
BACKOFF_MAX_SECONDS = 3600
# How long a message to a person is retried through an outage of its peer (SMTP, the
# Graph API) before it is given up and shown as failed.
DELIVERY_RETRY = dt.timedelta(hours=24)


def worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def enqueue(
    kind: str,
    payload: dict[str, Any] | None = None,
    *,
    run_at: dt.datetime | None = None,
    dedupe_key: str | None = None,
    max_attempts: int = 8,
    ordering_key: str | None = None,
    retry_for: dt.timedelta | None = None,
) -> Job | None:
    """Add a job in the current transaction. With `dedupe_key`, a second enqueue is a no-op.

    Jobs sharing an `ordering_key` (e.g. the messages of one case) run in the order they
    were enqueued: none is claimed while an earlier one is pending or running, even if the
    earlier one waits for a retry. With `retry_for`, temporary failures keep being retried
    (backoff up to an hour) for at least that long, whatever `max_attempts` says."""
    fields = _job_fields(
        kind,
        payload or {},
        run_at=run_at,
        dedupe_key=dedupe_key,
        max_attempts=max_attempts,
        ordering_key=ordering_key,
        retry_for=retry_for,
    )
    if dedupe_key is None:
        job = Job(**fields)
        deferred.insert(job)  # written with the transaction's other jobs (core/deferred.py)
        return job
    pk = _insert_once(fields)
    return None if pk is None else Job(pk=pk, **fields)


def enqueue_once(
    kind: str, payload: dict[str, Any], *, dedupe_key: str, max_attempts: int = 8
) -> bool:
    """`enqueue` with a `dedupe_key`, as a yes/no: True when the job was added, False when
    a job with the key exists. One statement (see `enqueue`); no `Job` is built."""
    fields = _job_fields(kind, payload, dedupe_key=dedupe_key, max_attempts=max_attempts)
    return _insert_once(fields) is not None


def _job_fields(
    kind: str,
    payload: dict[str, Any],
    *,
    run_at: dt.datetime | None = None,
    dedupe_key: str | None = None,
    max_attempts: int = 8,
    ordering_key: str | None = None,
    retry_for: dt.timedelta | None = None,
) -> dict[str, Any]:
    now = clock.now()
    if rid := requestid.get():  # the logs of the job carry the request's id (core/requestid)
        payload = {**payload, "_request_id": rid}
    return dict(
        kind=kind,
        payload=payload,
        run_at=run_at or now,
        created_at=now,
        dedupe_key=dedupe_key,
        max_attempts=max_attempts,
        ordering_key=ordering_key,
        retry_until=now + retry_for if retry_for else None,
    )


def _insert_once(fields: dict[str, Any]) -> int | None:
    """One statement, no savepoint: a key already taken is a no-op (core/once.py). Outside a
    transaction it needs no BEGIN and COMMIT of its own, and on SQLite it holds the write
    turn only while the statement runs (the CTI webhook answers while the PBX waits). The
    columns `fields` leaves out get their defaults, as `Job(**fields)` would give them."""
    values = {name: field.get_default() for name, field in _defaulted() if name not in fields}
    return once.insert_once(Job, values | fields, key=["dedupe_key"])


@functools.cache
def _defaulted() -> list[tuple[str, Any]]:
    return [(f.attname, f) for f in Job._meta.concrete_fields if not f.primary_key]


def backoff(attempts: int) -> dt.timedelta:
    return dt.timedelta(
        seconds=min(BACKOFF_MAX_SECONDS, BACKOFF_BASE_SECONDS * 2 ** max(0, attempts - 1))
    )


# The claim and the end of a job run for every job: statements written out once instead of
# built by the ORM each time (a third of a CTI event's job was the queue's own query
# building, bench/bench_phone_cpu.py). The same conditions as Job's partial indexes.
_IN_ORDER = """
    AND ("ordering_key" IS NULL OR NOT EXISTS (
        SELECT 1 FROM "worker_job" AS earlier
        WHERE earlier."id" < "worker_job"."id" AND earlier."ordering_key" = "worker_job"."ordering_key"
          AND earlier."status" IN ('pending', 'running')))
"""


@functools.cache
def _claimable(lock: str) -> str:
    """The ids of the first `limit` jobs to claim, earliest due first: the due pending jobs
    and the running jobs whose lease expired, each read in the order of its own partial
    index (`job_due`, `job_lease`) and cut at `limit` before the two are merged. One
    condition with an OR of the two (as before session 20) cannot be read in index order:
    both databases collected every due job, then sorted them all for the first ten — with
    a backlog of 2,000 jobs (a burst of webhooks, their read receipts), 1.1 ms of SQLite's
    time and as much of PostgreSQL's per claim (docs/benchmarks.md, session 20). `lock`
    (PostgreSQL): each part locks the rows it keeps, skipping those another worker holds;
    a row kept by a part and cut by the merge stays locked only until the claim commits."""
    part = (
        'SELECT "id", "run_at" FROM (SELECT "id", "run_at" FROM "worker_job" '
        "WHERE {where} " + _IN_ORDER + ' ORDER BY "run_at", "id" LIMIT %s' + lock + ") AS {name}"
    )
    due = part.format(where='"status" = \'pending\' AND "run_at" <= %s', name="due")
    expired = part.format(where='"status" = \'running\' AND "lease_until" < %s', name="expired")
    return (
        f'SELECT "id" FROM ({due} UNION ALL {expired}) AS claimable '
        'ORDER BY "run_at", "id" LIMIT %s'
    )


def _connection() -> Any:
    return connections[router.db_for_write(Job)]


def _when(conn: Any, value: dt.datetime | None) -> Any:
    return None if value is None else conn.ops.adapt_datetimefield_value(value)


def claim(
    limit: int = 10, *, owner: str | None = None, lease_seconds: int = LEASE_SECONDS
) -> list[Job]:
    """Take up to `limit` due jobs (and jobs whose lease expired) for this worker: the
    earliest due first; an earlier job of the same conversation (`ordering_key`) still to
    finish holds the later ones back. Rows another worker is claiming are skipped
    (`FOR UPDATE SKIP LOCKED` on PostgreSQL; SQLite has one writer at a time)."""
    owner = owner or worker_id()
    now = clock.now()
    conn = _connection()
    lock = " FOR UPDATE SKIP LOCKED" if conn.features.has_select_for_update_skip_locked else ""
    with transaction.atomic(using=conn.alias):
        deferred.flush(conn)
        with conn.cursor() as cur:
            at = _when(conn, now)
            cur.execute(_claimable(lock), [at, limit, at, limit, limit])
            ids = [row[0] for row in cur.fetchall()]
            if not ids:
                return []
            these = f'"id" IN ({", ".join(["%s"] * len(ids))})'
            returning = conn.features.can_return_rows_from_bulk_insert  # SQLite ≥ 3.35
            cur.execute(
                'UPDATE "worker_job" SET "status" = \'running\', "lease_until" = %s, '
                f'"locked_by" = %s WHERE {these}'
                + (f" RETURNING {rows.columns(Job, using=conn.alias)}" if returning else ""),
                [_when(conn, now + dt.timedelta(seconds=lease_seconds)), owner, *ids],
            )
            if not returning:
                cur.execute(
                    f'SELECT {rows.columns(Job, using=conn.alias)} FROM "worker_job" WHERE {these}',
                    ids,
                )
            claimed = list(cur.fetchall())
    jobs = rows.built(Job, claimed, using=conn.alias)
    return sorted(jobs, key=lambda job: (job.run_at, job.pk))


def run_job(job: Job, *, owner: str | None = None) -> str:
    """Run one claimed job and record the outcome. Returns the new status."""
    token = requestid.current.set(job.payload.get("_request_id") or f"job-{job.pk}")
    try:
        return _run_job(job, owner=owner)
    finally:
        requestid.current.reset(token)


def _run_job(job: Job, *, owner: str | None = None) -> str:
    registry.load()
    owner = owner or job.locked_by
    func = registry.HANDLERS.get(job.kind)
    attempts = job.attempts + 1
    error: str | None = None
    permanent = False
    try:
        if func is None:
            raise DeliveryError(f"no handler for job kind {job.kind!r}", permanent=True)
        if job.kind in registry.OUTSIDE_TRANSACTION:
            # Its effects (a send) cannot be rolled back: not if another worker took the job
            # over after our lease ended. A job in a transaction needs no such check: its
            # "done" is written in that transaction, which is rolled back if the job is no
            # longer ours (`_LeaseLost`).
            if not _still_ours(job, owner):
                return JobStatus.RUNNING
            func(job.payload | {"_job_id": job.pk, "_attempt": attempts})
            if not _finish(job, owner, attempts):
                log.warning("job %s finished after its lease ended", job.pk)
            return JobStatus.DONE
        if job.kind in registry.BATCHED:
            try:
                with transactions.batch():
                    _handle_and_finish(job, owner)
                return JobStatus.DONE
            except transactions.Spoiled:
                pass  # an error was caught inside: run again with savepoints (below)
        scope = (
            transactions.service_scope()
            if job.kind in registry.SERVICE_SCOPE
            else transaction.atomic()
        )
        with scope:
            _handle_and_finish(job, owner)
        return JobStatus.DONE
    except _LeaseLost:
        log.warning("job %s lost its lease to another worker; its work was rolled back", job.pk)
        return JobStatus.RUNNING
    except DeliveryError as exc:
        error, permanent = str(exc), exc.permanent
    except Exception:  # a handler bug must not stop the worker; it is retried, then parked
        error = traceback.format_exc(limit=5)
        log.exception("job %s (%s) failed", job.pk, job.kind)
    now = clock.now()
    give_up = permanent or (
        attempts >= job.max_attempts and (job.retry_until is None or now >= job.retry_until)
    )
    Job.objects.filter(pk=job.pk, locked_by=owner).update(
        status=JobStatus.FAILED if give_up else JobStatus.PENDING,
        attempts=attempts,
        run_at=now if give_up else now + backoff(attempts),
        lease_until=None,
        last_error=(error or "")[:4000],
        finished_at=now if give_up else None,
    )
    if give_up:
        _on_failure(job, error or "")
    return JobStatus.FAILED if give_up else JobStatus.PENDING


class _LeaseLost(Exception):
    pass


def _handle_and_finish(job: Job, owner: str) -> None:
    """The handler, then "done", in the caller's transaction: the handler's writes and
    "done" land together, so a crash between them cannot run the job's effects twice."""
    attempts = job.attempts + 1
    registry.HANDLERS[job.kind](job.payload | {"_job_id": job.pk, "_attempt": attempts})
    if not _finish(job, owner, attempts):
        raise _LeaseLost()


def _still_ours(job: Job, owner: str) -> bool:
    conn = _connection()
    with conn.cursor() as cur:
        cur.execute(
            'SELECT 1 FROM "worker_job" WHERE "id" = %s AND "locked_by" = %s '
            "AND \"status\" = 'running'",
            [job.pk, owner],
        )
        return cur.fetchone() is not None


def _finish(job: Job, owner: str, attempts: int) -> bool:
    """Mark the job done, if it is still ours."""
    conn = _connection()
    deferred.flush(conn)  # the jobs the handler queued: written now rather than at the commit
    with conn.cursor() as cur:
        cur.execute(
            'UPDATE "worker_job" SET "status" = \'done\', "attempts" = %s, "finished_at" = %s, '
            '"lease_until" = NULL, "last_error" = \'\' '
            'WHERE "id" = %s AND "locked_by" = %s AND "status" = \'running\'',
            [attempts, _when(conn, clock.now()), job.pk, owner],
        )
        return cur.rowcount == 1


def _on_failure(job: Job, error: str) -> None:
    """Let the job's owner record a permanent failure (e.g. on the outbound note)."""
    func = registry.HANDLERS.get(f"{job.kind}:failed")
    if func is not None:
        try:
            with transaction.atomic():
                func(job.payload | {"_job_id": job.pk, "_error": error})
        except Exception:
            log.exception("failure hook for job %s failed", job.pk)


def retry(job: Job) -> None:
    """Put a failed job back in the queue (admin action)."""
    Job.objects.filter(pk=job.pk, status=JobStatus.FAILED).update(
        status=JobStatus.PENDING, run_at=clock.now(), attempts=0, finished_at=None
    )


def run_pending(
    limit: int = 100, *, owner: str | None = None, yield_between_jobs: bool = False
) -> int:
    """Claim and run due jobs until none are left or `limit` ran. Used by tests and the loop,
    which yields to requests in flight between jobs (see core.foreground)."""
    owner = owner or worker_id()
    done = 0
    while done < limit:
        batch = claim(min(10, limit - done), owner=owner)
        if not batch:
            break
        while batch:
            if yield_between_jobs:
                foreground.yield_to_requests()
            together = _together(batch, yielding=yield_between_jobs)
            if len(together) == 1 or not _run_together(together, owner):
                for job in together:  # alone, or one by one after a group that failed
                    run_job(job, owner=owner)
            done += len(together)
            del batch[: len(together)]
    return done


GROUP_MAX = 10  # jobs in one transaction (a claim's worth)


def _together(batch: list[Job], *, yielding: bool) -> list[Job]:
    """The jobs at the head of `batch` to run in one transaction: the run of `batch=True`
    kinds there (their handlers accept a `transactions.batch()`), or just the first job —
    also while requests are in flight on this machine (when `yielding` to them): a group
    holds SQLite's write turn that much longer."""
    registry.load()
    run = []
    if mechanisms.GROUPED_JOBS:
        for job in batch[:GROUP_MAX]:
            if job.kind not in registry.BATCHED:
                break
            run.append(job)
    if len(run) < 2 or (yielding and foreground.busy()):
        return batch[:1]
    return run


def _run_together(jobs: list[Job], owner: str) -> bool:
    """Run `batch=True` jobs in one transaction, each job's effects and its "done" with
    the others'. True when all were done; on any error (a job failing, an error a handler
    caught, a lease lost) nothing of the group is kept and False is returned, for the
    caller to run them one by one, where each error is handled as usual."""
    try:
        with transactions.batch():
            for job in jobs:
                token = requestid.current.set(job.payload.get("_request_id") or f"job-{job.pk}")
                try:
                    _handle_and_finish(job, owner)
                finally:
                    requestid.current.reset(token)
    except Exception:  # rolled back: one by one now, where it is reported
        return False
    return True


def ensure_periodic() -> None:
    registry.load()
    now = clock.now()
    for task in registry.PERIODIC.values():
        PeriodicTask.objects.get_or_create(
            name=task.name, defaults={"interval_seconds": task.interval_seconds, "next_run_at": now}
        )


def run_periodic(*, owner: str | None = None, lease_seconds: int = 300) -> list[str]:
    """Run every periodic task that is due and not leased by another worker.

    The claim is one conditional UPDATE: whichever worker's update matches the row runs
    the task; the others see zero rows changed. So a task never runs twice at once.
    """
    registry.load()
    owner = owner or worker_id()
    ran = []
    for task in registry.PERIODIC.values():
        now = clock.now()
        claimed = (
            PeriodicTask.objects.filter(name=task.name, next_run_at__lte=now)
            .filter(Q(lease_until__isnull=True) | Q(lease_until__lt=now))
            .update(
                lease_until=now + dt.timedelta(seconds=lease_seconds),
                locked_by=owner,
                last_started_at=now,
            )
        )
        if not claimed:
            continue
        error = ""
        try:
            task.func()
        except Exception:
            error = traceback.format_exc(limit=5)
            log.exception("periodic task %s failed", task.name)
        finished = clock.now()
        PeriodicTask.objects.filter(name=task.name, locked_by=owner).update(
            lease_until=None,
            next_run_at=finished + dt.timedelta(seconds=task.interval_seconds),
            last_finished_at=finished,
            last_error=error[:4000],
            runs=F("runs") + 1,
        )
        ran.append(task.name)
    return ran
