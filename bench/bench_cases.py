"""Case creation (service and API) and the case list endpoint with 100,000 cases.

    .venv/bin/python bench/bench_cases.py --db sqlite
    .venv/bin/python bench/bench_cases.py --db postgres

Targets (issue 2): >= 200 cases/s through the API; first page of the list p95 < 50 ms with
100,000 cases loaded, also filtered and sorted.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench import common


def bench_service(n: int) -> float:
    from atiende.accounts.models import User
    from atiende.cases import services
    from atiende.customers.models import Organization
    from atiende.directory.models import Channel

    agent = User.objects.get(email="bench-agent@mesa.test")
    channel = Channel.objects.get(slug="correo")
    org = Organization.objects.get(slug="org-0")
    start = time.perf_counter()
    for i in range(n):
        services.open_case(
            actor=agent,
            channel=channel,
            subject=f"Servicio {i}",
            description="bench",
            type="request",
            priority="moderate",
            organization=org,
        )
    return n / (time.perf_counter() - start)


def case_body(i: int) -> str:
    return json.dumps(
        {
            "subject": f"Caso API {i}",
            "description": "bench",
            "type": "incident",
            "priority": "high",
            "organization": "org-1",
            "channel": "api",
        }
    )


def _api_requests(token: str, n: int) -> list[tuple[dict[str, str], bytes]]:
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    return [(headers, case_body(i).encode()) for i in range(n)]


def bench_api_create(base: str, token: str, n: int, concurrency: int) -> tuple[float, list[float]]:
    """POST cases from `concurrency` Python threads (see common.python_post)."""
    latencies, seconds = common.python_post(
        base, "/api/v1/cases", _api_requests(token, n), concurrency=concurrency, expect=201
    )
    return n / seconds, latencies


def bench_api_create_wrk(base: str, token: str, n: int, concurrency: int) -> tuple[float, str]:
    """The same POSTs from wrk (see common.wrk_post)."""
    requests = _api_requests(token, n)
    r = common.wrk_post(base, "/api/v1/cases", requests, concurrency=concurrency, expect=201)
    return n / r["seconds"], (
        f"p50 {r['p50']:.1f} ms, p95 {r['p95']:.1f} ms, max {r['max']:.1f} ms; "
        f"{int(r['requests'])} posts"
    )


def load_cases(total: int) -> None:
    """Bulk-insert cases (with realistic spread of status, type, orgs) up to `total`."""
    from django.db import transaction
    from django.db.models import Max

    from atiende.cases.models import Case, CaseCounter
    from atiende.customers.models import Organization
    from atiende.directory.models import Channel

    rng = random.Random(7)
    have = Case.objects.count()
    channels = list(Channel.objects.all())
    orgs = list(Organization.objects.all())
    statuses = (
        ["new"] * 5
        + ["open"] * 15
        + ["awaiting_info"] * 5
        + ["resolved"] * 15
        + ["closed"] * 55
        + ["cancelled"] * 5
    )
    types = ["request", "incident", "change"]
    prios = ["critical", "high", "moderate", "low"]
    words = [
        "firma",
        "certificado",
        "token",
        "portal",
        "factura",
        "acceso",
        "error",
        "caída",
        "lentitud",
        "correo",
        "clave",
        "renovación",
    ]
    start = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
    # Continue after the highest number in use (PostgreSQL numbers from a sequence, SQLite
    # from the counter row; the highest existing case is right for both).
    last = Case.objects.aggregate(m=Max("number"))["m"]
    counter = int(last[2:]) if last else 0
    batch = []
    for i in range(have, total):
        counter += 1
        created = start + dt.timedelta(seconds=i * 900 + rng.randrange(900))
        batch.append(
            Case(
                number=f"CS{counter:07d}",
                type=rng.choice(types),
                priority=rng.choice(prios),
                status=rng.choice(statuses),
                level=rng.choice([1, 1, 1, 1, 2, 2, 3, 4]),
                channel=rng.choice(channels),
                organization=rng.choice(orgs),
                subject=f"{rng.choice(words)} {rng.choice(words)} {i}",
                description="",
                created_at=created,
                updated_at=created + dt.timedelta(hours=rng.randrange(200)),
            )
        )
        if len(batch) == 5000:
            with transaction.atomic():
                Case.objects.bulk_create(batch)
            batch = []
    with transaction.atomic():
        Case.objects.bulk_create(batch)
        CaseCounter.objects.filter(name="case").update(value=counter)
    common.sync_case_sequence(counter)
    # As after any bulk load (autovacuum would do it a little later): fresh planner statistics.
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute("ANALYZE")


def bench_list(base: str, token: str, rounds: int) -> dict[str, str]:
    import httpx

    queries = {
        "first page (newest first)": "/api/v1/cases?limit=25",
        "filtered: status=open": "/api/v1/cases?limit=25&status=open",
        "filtered: organization + status": "/api/v1/cases?limit=25&organization=org-3&status=closed",
        "filtered: type + priority": "/api/v1/cases?limit=25&type=incident&priority=critical",
        "sorted: -updated_at": "/api/v1/cases?limit=25&sort=-updated_at",
        "filtered + sorted: level=2, updated_at": "/api/v1/cases?limit=25&level=2&sort=updated_at",
        "text search q=factura": "/api/v1/cases?limit=25&q=factura",
        "deep page offset=50000": "/api/v1/cases?limit=25&offset=50000",
    }
    out = {}
    with httpx.Client(
        base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=30
    ) as client:
        for label, url in queries.items():
            for _ in range(5):  # warm up
                client.get(url).raise_for_status()
            samples = []
            for _ in range(rounds):
                t = time.perf_counter()
                r = client.get(url)
                samples.append(time.perf_counter() - t)
                r.raise_for_status()
            count = r.json()["count"]
            out[label] = f"{common.summary_ms(samples)} (count {count})"
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--service-n", type=int, default=2000)
    parser.add_argument("--api-n", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=200)
    common.add_client_option(parser, "the API creation")
    args = parser.parse_args()

    env = common.prepare_environment(args.db)
    try:
        common.setup_django()
        from atiende.accounts import services as accounts

        common.seed_organizations(20)
        agent = accounts.create_user(email="bench-agent@mesa.test", name="Bench", role="agent")
        token = accounts.issue_token(user=agent)

        rate = bench_service(args.service_n)
        print(
            f"[{args.db}] service open_case: {rate:.0f} cases/s ({args.service_n} cases, one thread)"
        )
        with common.server() as base:
            if args.client == "wrk":
                api_rate, figures = bench_api_create_wrk(base, token, args.api_n, args.concurrency)
            else:
                api_rate, lat = bench_api_create(base, token, args.api_n, args.concurrency)
                figures = common.summary_ms(lat)
            print(
                f"[{args.db}] API POST /cases: {api_rate:.0f} cases/s ({args.api_n} cases, "
                f"{args.concurrency} connections, client {args.client}; {figures})"
            )
        load_cases(args.cases)
        from atiende.cases.models import Case

        print(f"[{args.db}] loaded {Case.objects.count()} cases")
        with common.server() as base:
            for label, figures in bench_list(base, token, args.rounds).items():
                print(f"[{args.db}] GET list, {label}: {figures}")
    finally:
        from django.db import connections

        connections.close_all()
        common.drop_environment(env)


if __name__ == "__main__":
    main()
