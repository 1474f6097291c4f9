"""The plans of the console's queue statements on a bench database kept by
`bench_console.py --keep NAME`: EXPLAIN (ANALYZE, BUFFERS) on PostgreSQL, EXPLAIN QUERY
PLAN on SQLite, for each queue's first page and count as the console runs them.

    .venv/bin/python bench/explain_console.py --db postgres --reuse s7qp_bench_1m
    .venv/bin/python bench/explain_console.py --db sqlite --reuse s7qp_bench_1m

Migrations are applied first (as `bench_console.py --reuse` does).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench import bench_console, common


def plans() -> None:
    from django.db import connection

    from atiende.accounts.models import User
    from atiende.cases.models import Case
    from atiende.console import selectors
    from atiende.core import clock

    pg = connection.vendor == "postgresql"
    who = selectors.Who.of(User.objects.order_by("id").first())
    now = clock.now()
    statements = []
    for slug in ("at-risk", "breached"):
        for i, arm in enumerate(selectors._arms(slug, now)):
            page = arm.order_by("due_at", "case_id").values_list("due_at", "case_id")[:52]
            statements.append((f"{slug}: first page, index read {i + 1} of 2", page))
            statements.append(
                (f"{slug}: count, part {i + 1} of 2", arm.order_by().values("case_id"))
            )
    for slug in ("mine", "unassigned", "critical", "awaiting", "all"):
        qs = selectors.queue_cases(who, slug, now=now)
        ids = qs.order_by(*selectors.SORTS["-updated"]).values_list("pk", flat=True)[:26]
        statements.append((f"{slug}: first page (ids)", ids))
        if slug != "all":
            statements.append((f"{slug}: count", qs.order_by().values("pk")))
    statements.append(("all: count (≈, the highest id)", Case.objects.order_by("-id")[:1]))
    for label, qs in statements:
        print(f"\n### {label}\n", flush=True)
        slug = label.split(":")[0]
        if pg:
            print(qs.explain(analyze=True, buffers=True))
        elif slug in selectors.QUEUE_INDEX:  # as the console runs it on SQLite
            sql, params = selectors._with_index(qs, selectors.QUEUE_INDEX[slug])
            with connection.cursor() as cursor:
                cursor.execute(f"EXPLAIN QUERY PLAN {sql}", params)
                print("\n".join(" ".join(map(str, row)) for row in cursor.fetchall()))
        else:
            print(qs.explain())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--reuse", metavar="NAME", required=True)
    args = parser.parse_args()
    bench_console.keep_environment(args.db, args.reuse, fresh=False)
    common.setup_django()
    plans()


if __name__ == "__main__":
    main()
