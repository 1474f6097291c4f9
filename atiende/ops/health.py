"""What `/readyz` checks, each answering `(ok, detail)`.

- database: a `SELECT 1` on the default connection.
- migrations: no migration left to apply (checked until it is true once: a process's code
  cannot gain migrations while it runs).
- worker: some worker finished the `ops.heartbeat` periodic task within
  `ATIENDE_READY_WORKER_SECONDS` (120; `0` skips this check, for a web machine whose
  readiness must not depend on the workers).
- queue: the oldest due job has waited less than `ATIENDE_READY_JOB_AGE_SECONDS` (300).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import DatabaseError, connection

from atiende.core import clock

HEARTBEAT_TASK = "ops.heartbeat"
HEARTBEAT_EVERY_SECONDS = 15
_migrated = False


def _database() -> tuple[bool, dict[str, Any]]:
    with connection.cursor() as cur:
        cur.execute("SELECT 1")
        cur.fetchone()
    return True, {"vendor": connection.vendor}


def _migrations() -> tuple[bool, dict[str, Any]]:
    global _migrated
    if not _migrated:
        from django.db.migrations.executor import MigrationExecutor

        executor = MigrationExecutor(connection)
        plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
        if plan:
            return False, {"pending": len(plan)}
        _migrated = True
    return True, {"pending": 0}


def _worker() -> tuple[bool, dict[str, Any]]:
    from atiende.worker.models import PeriodicTask

    limit = settings.ATIENDE_READY_WORKER_SECONDS
    if limit <= 0:
        return True, {"skipped": True}
    seen = (
        PeriodicTask.objects.filter(name=HEARTBEAT_TASK)
        .values_list("last_finished_at", flat=True)
        .first()
    )
    if seen is None:
        return False, {"last_heartbeat": None, "max_age_seconds": limit}
    age = (clock.now() - seen).total_seconds()
    return age <= limit, {
        "last_heartbeat": seen.isoformat(),
        "age_seconds": round(age, 1),
        "max_age_seconds": limit,
    }


def _queue() -> tuple[bool, dict[str, Any]]:
    from atiende.worker.models import Job, JobStatus

    limit = settings.ATIENDE_READY_JOB_AGE_SECONDS
    now = clock.now()
    oldest = (
        Job.objects.filter(status=JobStatus.PENDING, run_at__lte=now)
        .order_by("run_at", "id")
        .values_list("run_at", flat=True)
        .first()
    )
    age = (now - oldest).total_seconds() if oldest else 0.0
    return age <= limit, {"oldest_due_age_seconds": round(age, 1), "max_age_seconds": limit}


CHECKS = {
    "database": _database,
    "migrations": _migrations,
    "worker": _worker,
    "queue": _queue,
}


def readiness() -> tuple[bool, dict[str, dict[str, Any]]]:
    """Run every check; after a failed database check the rest are skipped."""
    results: dict[str, dict[str, Any]] = {}
    database_up = True
    for name, check in CHECKS.items():
        if not database_up:
            results[name] = {"ok": False, "skipped": "database"}
            continue
        try:
            ok, detail = check()
        except DatabaseError as exc:
            ok, detail = False, {"error": type(exc).__name__}
            if name == "database":
                database_up = False
        results[name] = {"ok": ok, **detail}
    return all(r["ok"] for r in results.values()), results
