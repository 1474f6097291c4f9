"""The ops app's background work: the workers' heartbeat, and a probe job for benches."""

from __future__ import annotations

from atiende.ops import health
from atiende.worker import registry


@registry.periodic(health.HEARTBEAT_TASK, every=health.HEARTBEAT_EVERY_SECONDS)
def heartbeat() -> None:
    """Nothing to do: that some worker finished it (PeriodicTask.last_finished_at) is the
    heartbeat `/readyz` reads."""


@registry.handler("ops.probe")
def probe(payload: dict) -> None:
    """Record that this job ran, and where (bench/bench_multi.py counts the rows: a job run
    twice would leave two)."""
    from atiende.ops.models import ProbeRun
    from atiende.worker.queue import worker_id

    ProbeRun.objects.create(job_id=payload["_job_id"], worker=worker_id())
