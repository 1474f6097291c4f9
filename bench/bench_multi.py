"""Many machines on one PostgreSQL: two `atiende serve` (each its own data directory, as on
two machines, each with its in-process worker) and N `atiende worker` processes drain a
queue of probe jobs; every job must run exactly once.

    .venv/bin/python bench/bench_multi.py                      # 4 workers x 10,000 jobs
    .venv/bin/python bench/bench_multi.py --workers 2 --jobs 500

The jobs are `ops.probe` (atiende/ops/jobs.py): each run writes one `ProbeRun` row in the
job's own transaction, so a job run twice leaves two rows and a lost job none. The jobs are
enqueued in batches while the consumers already run (as requests would), both web servers
answer `/readyz` throughout, and the run fails unless: no job is pending, running or failed;
every job has exactly one run; both servers were ready. Reports the throughput (jobs/s from
the first enqueue to the last run) and each consumer's share.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench import common


def start_server(data_dir: str) -> tuple[subprocess.Popen, str]:
    port = common.free_port()
    env = os.environ | {"ATIENDE_DATA_DIR": data_dir}
    proc = subprocess.Popen(
        [
            str(common.BIN / "atiende"),
            "serve",
            "--bind",
            f"127.0.0.1:{port}",
            "--web-workers",
            "1",
            "--threads",
            "2",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.time() + 90
    while time.time() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.5):
            return proc, f"http://127.0.0.1:{port}"
        if proc.poll() is not None:
            raise SystemExit(proc.stderr.read().decode())
        time.sleep(0.2)
    raise SystemExit("atiende serve did not start")


def ready(base: str) -> tuple[int, dict]:
    try:
        with urllib.request.urlopen(base + "/readyz", timeout=5) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def run(workers: int, jobs: int, batch: int) -> dict:
    from django.db.models import Count

    from atiende.core import clock
    from atiende.ops.models import ProbeRun
    from atiende.worker.models import Job, JobStatus

    servers = []
    procs: list[subprocess.Popen] = []
    try:
        for _ in range(2):  # one after the other: the first creates the admin
            proc, base = start_server(tempfile.mkdtemp(prefix="atiende-multi-web-"))
            servers.append((proc, base))
        procs = common.start_workers(workers)
        time.sleep(1.0)
        start = time.perf_counter()
        enqueued = 0
        not_ready = 0
        while enqueued < jobs:
            n = min(batch, jobs - enqueued)
            now = clock.now()
            Job.objects.bulk_create(
                [Job(kind="ops.probe", payload={}, run_at=now, created_at=now) for _ in range(n)]
            )
            enqueued += n
            for _, base in servers:
                status, body = ready(base)
                if status != 200 and not body["checks"]["database"]["ok"]:
                    not_ready += 1
        deadline = time.time() + 900
        while ProbeRun.objects.count() < jobs:
            if time.time() > deadline:
                raise SystemExit("timed out waiting for the probe jobs")
            time.sleep(0.05)
        elapsed = time.perf_counter() - start
        time.sleep(1.0)  # a job run twice would show up by now
        finals = [ready(base) for _, base in servers]
    finally:
        common.stop_workers(procs)
        for proc, _ in servers:
            proc.terminate()
        for proc, _ in servers:
            proc.wait(15)

    runs = ProbeRun.objects.count()
    twice = ProbeRun.objects.values("job_id").annotate(n=Count("id")).filter(n__gt=1).count()
    ran = set(ProbeRun.objects.values_list("job_id", flat=True))
    probe_jobs = list(Job.objects.filter(kind="ops.probe").values_list("id", "status"))
    lost = [pk for pk, _ in probe_jobs if pk not in ran]
    unfinished = [pk for pk, st in probe_jobs if st != JobStatus.DONE]
    shares = {
        row["worker"].rsplit(":", 1)[-1]: row["n"]
        for row in ProbeRun.objects.values("worker").annotate(n=Count("id")).order_by("-n")
    }
    return {
        "jobs": jobs,
        "runs": runs,
        "run_twice": twice,
        "lost": len(lost),
        "not_done": len(unfinished),
        "seconds": round(elapsed, 2),
        "jobs_per_second": round(jobs / elapsed, 1),
        "consumers": len(shares),
        "share_by_pid": shares,
        "servers_ready_at_end": [status for status, _ in finals],
        "database_unready_during_run": not_ready,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workers", type=int, default=4, help="atiende worker processes")
    parser.add_argument("--jobs", type=int, default=10_000)
    parser.add_argument("--batch", type=int, default=500, help="jobs enqueued per batch")
    args = parser.parse_args()
    env = common.prepare_environment("postgres")  # several machines: PostgreSQL only
    try:
        common.setup_django()
        result = run(args.workers, args.jobs, args.batch)
    finally:
        common.drop_environment(env)
    print(json.dumps(result, indent=1))
    ok = (
        result["runs"] == args.jobs
        and result["run_twice"] == 0
        and result["lost"] == 0
        and result["not_done"] == 0
    )
    print(
        f"multi-machine: {args.jobs} jobs, 2 serve + {args.workers} workers: "
        f"{result['jobs_per_second']} jobs/s, run twice {result['run_twice']}, "
        f"lost {result['lost']} -> {'OK' if ok else 'FAILED'}"
    )
    raise SystemExit(0 if ok else 1)


if __name__ == "__main__":
    main()
