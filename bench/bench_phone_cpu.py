"""What one CTI event costs in CPU, in process: the webhook (through the WSGI application, as
the server calls it, without the HTTP server)
and the worker's `phone.event` job. Load-independent enough to compare two commits on a
shared machine, which the wall-clock figures of bench_phone.py are not.

    .venv/bin/python bench/bench_phone_cpu.py --db sqlite
    PYTHONPATH=$other_worktree .venv/bin/python $other_worktree/bench/bench_phone_cpu.py
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench import common
from bench.bench_phone import LINE, TOKEN, events


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("-n", type=int, default=1000, help="timed webhook posts")
    args = parser.parse_args()
    env = common.prepare_environment(args.db)
    os.environ["ATIENDE_CTI_LINEA_BOGOTA_TOKEN"] = TOKEN
    try:
        common.setup_django()
        from django.db import connection

        from atiende.worker import queue

        warm = 200
        posted = events(warm + args.n, 200)
        auth = {"CONTENT_TYPE": "application/json", "HTTP_AUTHORIZATION": f"Bearer {TOKEN}"}

        def post(event: dict) -> None:
            status, content = common.wsgi_post(
                f"/webhooks/cti/{LINE}", json.dumps(event).encode(), auth
            )
            assert status == 200, content

        for event in posted[:warm]:
            post(event)
        cpu = time.process_time()
        for event in posted[warm:]:
            post(event)
        webhook = (time.process_time() - cpu) * 1000 / args.n
        statements = 0

        def count(execute, sql, params, many, context):
            nonlocal statements
            statements += 1
            return execute(sql, params, many, context)

        # Counted by an execute wrapper: CaptureQueriesContext keeps only the last 9,000
        # queries, which made every run before session 8 print 9000 / 1200 = 7.5.
        # (savepoints pass through it; BEGIN and COMMIT do not.)
        cpu = time.process_time()
        jobs = 0
        with connection.execute_wrapper(count):
            while done := queue.run_pending(500):
                jobs += done
        job = (time.process_time() - cpu) * 1000 / jobs
        print(f"[{args.db}] webhook: {webhook:.2f} ms CPU per post ({args.n} posts)")
        print(
            f"[{args.db}] worker: {job:.2f} ms CPU per job, "
            f"{statements / jobs:.1f} SQL statements per job ({jobs} jobs)"
        )
    finally:
        common.drop_environment(env)


if __name__ == "__main__":
    main()
