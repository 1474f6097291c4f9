"""What a `/metrics` scrape costs on a large database: the first scrape of a process (it
counts the messages below the mark once) and the next ones, in process, with each SQL
statement's time. Uses a database kept by bench_console.py (1,000,000 cases).

    .venv/bin/python bench/bench_console.py --db sqlite --keep NAME --build-only   # once
    .venv/bin/python bench/bench_metrics.py --db sqlite --reuse NAME
    .venv/bin/python bench/bench_metrics.py --db postgres --reuse NAME
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench import common
from bench.bench_console import keep_environment


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--reuse", metavar="NAME", required=True)
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    keep_environment(args.db, args.reuse, fresh=False)
    common.setup_django()
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from atiende.cases.models import Case, Note
    from atiende.ops import metrics

    print(f"[{args.db}] {Case.objects.count()} cases, {Note.objects.count()} notes")
    started = time.perf_counter()
    metrics.render()
    print(
        f"[{args.db}] first scrape of the process: {(time.perf_counter() - started) * 1000:.0f} ms"
    )
    samples = []
    for _ in range(args.rounds):
        started = time.perf_counter()
        metrics.render()
        samples.append(time.perf_counter() - started)
    print(f"[{args.db}] next scrapes: {common.summary_ms(samples)}")
    with CaptureQueriesContext(connection) as statements:
        metrics.render()
    for q in sorted(statements.captured_queries, key=lambda q: -float(q["time"]))[:5]:
        print(f"[{args.db}]   {float(q['time']) * 1000:6.1f} ms  {q['sql'][:110]}")


if __name__ == "__main__":
    main()
