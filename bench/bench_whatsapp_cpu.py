"""What one WhatsApp message costs in CPU, in process: the webhook (through the WSGI
application, as the server calls it, without the HTTP server) and the worker's jobs behind it (the inbox job that stores the note, and the
sends it causes: read receipts, acknowledgements, pages), each kind on its own line with
its SQL statements. Load-independent enough to compare two commits on a shared machine,
which the wall-clock figures of bench_whatsapp.py are not. The Graph API peer is the local
one of the tests (bench_whatsapp.py uses it too).

    .venv/bin/python bench/bench_whatsapp_cpu.py --db sqlite [--profile worker.prof]
"""

from __future__ import annotations

import argparse
import cProfile
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench import common
from bench.bench_whatsapp import signed_bodies, start_graph_peer


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("-n", type=int, default=1000, help="timed webhook posts")
    parser.add_argument("--contacts", type=int, default=50)
    parser.add_argument("--profile", help="write a cProfile of the worker's part here")
    args = parser.parse_args()
    env = common.prepare_environment(args.db)
    peer = start_graph_peer()
    try:
        common.setup_django()
        from django.db import connection

        from atiende.worker import queue
        from atiende.worker.models import Job

        def post(raw: bytes, signature: str) -> None:
            status, content = common.wsgi_post(
                "/webhooks/whatsapp",
                raw,
                {"CONTENT_TYPE": "application/json", "HTTP_X_HUB_SIGNATURE_256": signature},
            )
            assert status == 200, content

        def drain() -> None:
            while queue.run_pending(500):
                pass

        warm = signed_bodies(200, args.contacts, "WARMUP")
        for raw, signature in warm:
            post(raw, signature)
        drain()
        bodies = signed_bodies(args.n, args.contacts)
        cpu = time.process_time()
        for raw, signature in bodies:
            post(raw, signature)
        webhook = (time.process_time() - cpu) * 1000 / args.n
        print(f"[{args.db}] webhook: {webhook:.2f} ms CPU per post ({args.n} posts)")

        # The worker, one kind of job at a time in the order the loop meets them.
        profiler = cProfile.Profile() if args.profile else None
        per_kind: Counter[str] = Counter()
        cpu_kind: Counter[str] = Counter()
        sql_kind: Counter[str] = Counter()
        total_cpu = claim_cpu = 0.0
        while True:
            cpu = time.process_time()
            claimed = queue.claim(limit=10)  # as the worker's loop does (queue.run_pending)
            claim_cpu += time.process_time() - cpu
            if not claimed:
                break
            for job in claimed:
                statements = 0

                def count(execute, sql, params, many, context):
                    # Counted here, not with CaptureQueriesContext: Django's query log keeps
                    # only the last 9,000 statements, after which a capture sees none.
                    nonlocal statements
                    statements += 1
                    return execute(sql, params, many, context)

                with connection.execute_wrapper(count):
                    cpu = time.process_time()
                    if profiler:
                        profiler.enable()
                    queue.run_job(job)
                    if profiler:
                        profiler.disable()
                    spent = time.process_time() - cpu
                total_cpu += spent
                per_kind[job.kind] += 1
                cpu_kind[job.kind] += spent
                sql_kind[job.kind] += statements
        for kind, count in per_kind.most_common():
            print(
                f"[{args.db}] {kind}: {count} jobs, {cpu_kind[kind] * 1000 / count:.2f} ms CPU "
                f"and {sql_kind[kind] / count:.1f} SQL statements per job (claim not counted)"
            )
        jobs = sum(per_kind.values())
        print(
            f"[{args.db}] claiming: {claim_cpu * 1000 / max(1, jobs):.2f} ms CPU per job (ten at a time)"
        )
        print(
            f"[{args.db}] worker: {(total_cpu + claim_cpu) * 1000 / args.n:.2f} ms CPU per message "
            f"(every job it caused, claims included); "
            f"{Job.objects.filter(status='failed').count()} failed jobs"
        )
        for failed in Job.objects.filter(status="failed").values("kind", "last_error")[:3]:
            print(f"[{args.db}] failed: {failed}")
        if profiler:
            profiler.dump_stats(args.profile)
    finally:
        peer.stop()
        common.drop_environment(env)


if __name__ == "__main__":
    main()
