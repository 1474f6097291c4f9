"""The SLA sweep with 1,000,000 cases of which 100,000 are open.

    .venv/bin/python bench/bench_sweep.py --db sqlite
    .venv/bin/python bench/bench_sweep.py --db postgres

Measures the query that finds the timers that fell due since the last sweep (target: under
50 ms) at random instants, prints its query plan, and times whole `sla.services.sweep()`
passes on the same data. Closed cases keep their timers (met, `next_check_at` null), so the
table holds 2,000,000 timers of which 200,000 are live.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench import common

NOW = dt.datetime(2026, 6, 1, 12, 0, tzinfo=dt.UTC)
SWEEP_EVERY = dt.timedelta(seconds=30)


def load(total: int, open_: int) -> None:
    from django.db import connection, transaction

    from atiende.cases.models import Case, CaseCounter
    from atiende.customers.models import Organization
    from atiende.directory.models import Channel
    from atiende.sla.models import SlaTimer

    rng = random.Random(11)
    channel = Channel.objects.get(slug="correo")
    orgs = list(Organization.objects.values_list("id", flat=True))
    open_ids = set(rng.sample(range(total), open_))
    first = NOW - dt.timedelta(days=730)
    case_table, timer_table = Case._meta.db_table, SlaTimer._meta.db_table
    case_cols = (
        "number",
        "type",
        "priority",
        "status",
        "level",
        "channel_id",
        "organization_id",
        "classification",
        "subject",
        "description",
        "created_at",
        "updated_at",
    )
    timer_cols = (
        "case_id",
        "kind",
        "schedule",
        "level",
        "target_seconds",
        "started_at",
        "due_at",
        "at_risk_at",
        "pauses",
        "paused_seconds",
        "met_at",
        "next_check_at",
    )
    q_cases = f"INSERT INTO {case_table} ({', '.join(case_cols)}) VALUES ({', '.join(['%s'] * len(case_cols))})"
    q_timers = f"INSERT INTO {timer_table} ({', '.join(timer_cols)}) VALUES ({', '.join(['%s'] * len(timer_cols))})"
    batch = 20_000
    for lo in range(0, total, batch):
        rows_c, meta = [], []
        for i in range(lo, min(total, lo + batch)):
            is_open = i in open_ids
            if is_open:  # open cases are recent; their next deadlines lie ahead (up to 30 days)
                created = NOW - dt.timedelta(seconds=rng.randrange(30 * 86400))
            else:
                created = first + dt.timedelta(seconds=i * (730 * 86400 // total))
            rows_c.append(
                (
                    f"CS{i + 1:07d}",
                    "request",
                    "moderate",
                    "open" if is_open else "closed",
                    1,
                    channel.pk,
                    rng.choice(orgs),
                    "internal",
                    f"caso {i}",
                    "",
                    created,
                    created,
                )
            )
            meta.append((is_open, created))
        with transaction.atomic(), connection.cursor() as cur:
            cur.executemany(q_cases, rows_c)
            cur.execute(
                f"SELECT id FROM {case_table} WHERE number >= %s AND number <= %s ORDER BY number",
                [rows_c[0][0], rows_c[-1][0]],
            )
            ids = [r[0] for r in cur.fetchall()]
            rows_t = []
            for cid, (is_open, created) in zip(ids, meta, strict=True):
                for kind, target in (("first_response", 4 * 3600), ("resolution", 24 * 3600)):
                    due = created + dt.timedelta(seconds=target * 3)
                    if is_open:
                        nxt = NOW - SWEEP_EVERY + dt.timedelta(seconds=rng.randrange(30 * 86400))
                        rows_t.append(
                            (
                                cid,
                                kind,
                                "horario-habil",
                                1,
                                target,
                                created,
                                nxt,
                                nxt,
                                "[]",
                                0,
                                None,
                                nxt,
                            )
                        )
                    else:
                        rows_t.append(
                            (
                                cid,
                                kind,
                                "horario-habil",
                                1,
                                target,
                                created,
                                due,
                                due,
                                "[]",
                                0,
                                due,
                                None,
                            )
                        )
            cur.executemany(q_timers, rows_t)
    CaseCounter.objects.filter(name="case").update(value=total)
    common.sync_case_sequence(total)
    with connection.cursor() as cur:
        cur.execute("ANALYZE")


def due_query(now: dt.datetime, limit: int = 500):
    from atiende.sla.models import SlaTimer

    return (
        SlaTimer.objects.filter(next_check_at__lte=now)
        .order_by("next_check_at")
        .values_list("id", flat=True)[:limit]
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--open", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=200)
    args = parser.parse_args()

    env = common.prepare_environment(args.db)
    try:
        common.setup_django()
        from django.db import connection

        from atiende.sla import services as sla
        from atiende.sla.models import SlaTimer

        common.seed_organizations(20)
        t = time.perf_counter()
        load(args.cases, args.open)
        print(
            f"[{args.db}] loaded {args.cases} cases ({args.open} open), "
            f"{SlaTimer.objects.count()} timers in {time.perf_counter() - t:.0f} s"
        )

        rng = random.Random(5)
        samples, found = [], []
        for _ in range(args.rounds):
            at = NOW + dt.timedelta(seconds=rng.randrange(86400))
            q = due_query(at)
            t = time.perf_counter()
            rows = list(q)
            samples.append(time.perf_counter() - t)
            found.append(len(rows))
        print(
            f"[{args.db}] due-timer query (LIMIT 500, {args.rounds} random instants, "
            f"{min(found)}–{max(found)} rows each): {common.summary_ms(samples)}"
        )

        # A steady state: each sweep finds what fell due in the last 30 s.
        steady = []
        at = NOW
        for _ in range(50):
            at += SWEEP_EVERY
            t = time.perf_counter()
            sla.sweep(now=at)
            steady.append(time.perf_counter() - t)
        print(
            f"[{args.db}] sweep() every 30 s of simulated time, 50 passes: {common.summary_ms(steady)}"
        )

        sql, params = due_query(NOW).query.sql_with_params()
        with connection.cursor() as cur:
            if connection.vendor == "postgresql":
                cur.execute("EXPLAIN " + sql, params)
            else:
                cur.execute("EXPLAIN QUERY PLAN " + sql, params)
            plan = [" ".join(str(c) for c in row) for row in cur.fetchall()]
        print(f"[{args.db}] plan:")
        for line in plan:
            print("    " + line)
    finally:
        from django.db import connections

        connections.close_all()
        common.drop_environment(env)


if __name__ == "__main__":
    main()
