"""The customers' portal pages with a large database: server time and SQL statements per page.

    .venv/bin/python bench/bench_portal.py --db sqlite --cases 1000000
    .venv/bin/python bench/bench_portal.py --db postgres --cases 1000000

Target (issue 14): every portal page p95 < 100 ms with 1,000,000 cases, a fixed number of
SQL statements per page. The cases spread over `--orgs` organizations (1,000: about 1,000
cases each); the signed-in customer, a manager of org-0, requested 200 of them, and 30
more opened through the portal service (SLA clocks, acknowledgements, audit); the case
page measured has 40 public notes, 40 internal ones and 20 attachments.

Server time is measured in process with Django's test client (wall and CPU time); the
same pages are also timed over HTTP against `atiende serve` (gunicorn, 2 threads), which
bounds it from above. SQL statements are counted in process on the same database.
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


def load(total: int, orgs: int) -> None:
    """Bulk-insert `total` cases over the organizations; the customer requests 200 of
    org-0's (every fifth of its first thousand)."""
    from django.db import connection, transaction
    from django.db.models import Max

    from atiende.cases.models import Case, CaseCounter
    from atiende.customers.models import Contact, Organization

    rng = random.Random(14)
    org_ids = list(Organization.objects.order_by("id").values_list("id", flat=True))
    contact = Contact.objects.get(emails__address="gestora@org-0.test")
    channels = list(Case._meta.get_field("channel").related_model.objects.all())
    statuses = ["new"] * 5 + ["open"] * 15 + ["awaiting_info"] * 5 + ["resolved"] * 15
    statuses += ["closed"] * 55 + ["cancelled"] * 5
    words = ["firma", "certificado", "token", "portal", "factura", "acceso", "error", "clave"]
    start = dt.datetime(2023, 1, 1, tzinfo=dt.UTC)
    last = Case.objects.aggregate(m=Max("number"))["m"]
    counter = int(last[2:]) if last else 0
    have = Case.objects.count()
    batch = []
    mine = 0
    t0 = time.perf_counter()
    for i in range(have, total):
        counter += 1
        org = org_ids[i % len(org_ids)]
        requester = None
        if org == org_ids[0] and mine < 200 and rng.random() < 0.2:
            requester, mine = contact.pk, mine + 1
        created = start + dt.timedelta(seconds=i * 60 + rng.randrange(60))
        batch.append(
            Case(
                number=f"CS{counter:07d}",
                type=rng.choice(["request", "incident", "change"]),
                priority=rng.choice(["critical", "high", "moderate", "low"]),
                status=rng.choice(statuses),
                level=rng.choice([1, 1, 1, 2, 3]),
                channel=rng.choice(channels),
                organization_id=org,
                requester_id=requester,
                subject=f"{rng.choice(words)} {rng.choice(words)} {i}",
                description="bench",
                created_at=created,
                updated_at=created,
            )
        )
        if len(batch) == 10000:
            with transaction.atomic():
                Case.objects.bulk_create(batch)
            batch = []
    with transaction.atomic():
        Case.objects.bulk_create(batch)
        CaseCounter.objects.filter(name="case").update(value=counter)
    common.sync_case_sequence(counter)
    with connection.cursor() as cur:
        cur.execute("ANALYZE")
    del orgs
    print(f"loaded {total - have} cases in {time.perf_counter() - t0:.0f} s", flush=True)


def prepare_customer(orgs: int):
    from atiende.accounts import invitations
    from atiende.accounts import services as accounts

    common.seed_organizations(orgs)
    user = accounts.create_user(
        email="gestora@org-0.test", name="Gestora", role="customer", organization="org-0"
    )
    invitations.set_manager(user=user, manager=True, actor=None)
    agent = accounts.create_user(email="bench-agent@mesa.test", name="Agente", role="agent")
    return user, agent


def portal_cases(user, agent) -> str:
    """30 cases through the portal's own services; the last with a long public timeline."""
    from atiende.cases import services as cases
    from atiende.cases.models import Case

    # The channel model (wherever its app is): through the case's foreign key.
    portal = Case._meta.get_field("channel").related_model.objects.get(slug="portal")
    case = None
    for i in range(30):
        case = cases.open_case(
            actor=user,
            channel=portal,
            subject=f"Caso del portal {i} firma",
            description="bench",
            type="incident",
            priority="high",
        )
    for i in range(40):
        note = cases.add_note(case=case, body_text=f"Respuesta {i} " + "texto " * 40, actor=agent)
        cases.add_note(case=case, body_text=f"Interna {i}", actor=agent, visibility="internal")
        if i % 2 == 0:
            cases.add_attachment(
                case=case, filename=f"anexo-{i}.txt", chunks=[b"x" * 2000], actor=agent, note=note
            )
    return case.number


def session_cookie(user) -> str:
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore

    s = SessionStore()
    s[SESSION_KEY] = str(user.pk)
    s[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[0]
    s[HASH_SESSION_KEY] = user.get_session_auth_hash()
    s.create()
    return s.session_key


def pages(number: str, some_number: str) -> dict[str, str]:
    return {
        "My cases (/portal/)": "/portal/",
        "organization's cases (manager)": "/portal/?ver=organization",
        "organization, open only": "/portal/?ver=organization&estado=active",
        "organization, words q=firma": "/portal/?ver=organization&q=firma",
        "organization, page 20": "/portal/?ver=organization&pagina=20",
        "search by number": f"/portal/?ver=organization&q={some_number}",
        "New case": "/portal/cases/new",
        "case page (40 public notes, 20 files)": f"/portal/cases/{number}",
        "/canales": "/canales",
    }


def server_times(user, urls: dict[str, str], rounds: int) -> dict[str, str]:
    """The server's own time per page, in this process (Django's test client: no HTTP, no
    client): wall time, and the CPU time of this process (which does not count the
    database server's work on PostgreSQL, and is what a busy machine moves least)."""
    from django.test import Client

    client = Client()
    client.force_login(user)
    out = {}
    for label, url in urls.items():
        for _ in range(5):
            client.get(url)
        wall, cpu = [], []
        for _ in range(rounds):
            t, c = time.perf_counter(), time.process_time()
            response = client.get(url)
            wall.append(time.perf_counter() - t)
            cpu.append(time.process_time() - c)
            assert response.status_code == 200
        out[label] = (
            f"{common.summary_ms(wall)}; CPU p95 {common.percentile(cpu, 95) * 1000:.1f} ms"
        )
    return out


def count_queries(user, urls: dict[str, str]) -> dict[str, int]:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client()
    client.force_login(user)
    out = {}
    for label, url in urls.items():
        client.get(url)  # warm the configuration snapshot
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)
        out[label] = len(ctx.captured_queries)
    return out


def time_pages(base: str, cookie: str, urls: dict[str, str], rounds: int) -> dict[str, str]:
    import httpx

    out = {}
    with httpx.Client(base_url=base, cookies={"sessionid": cookie}, timeout=30) as client:
        for label, url in urls.items():
            for _ in range(5):
                client.get(url).raise_for_status()
            samples = []
            for _ in range(rounds):
                t = time.perf_counter()
                r = client.get(url)
                samples.append(time.perf_counter() - t)
                r.raise_for_status()
            out[label] = common.summary_ms(samples)
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--orgs", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=100)
    args = parser.parse_args()

    env = common.prepare_environment(args.db)
    try:
        common.setup_django()
        user, agent = prepare_customer(args.orgs)
        load(args.cases, args.orgs)
        number = portal_cases(user, agent)
        from atiende.cases.models import Case

        total = Case.objects.count()
        some = Case.objects.filter(organization=user.contact.organization).order_by("id")[50]
        urls = pages(number, some.number)
        print(f"[{args.db}] {total} cases, {args.orgs} organizations", flush=True)
        counts = count_queries(user, urls)
        inside = server_times(user, urls, args.rounds)
        cookie = session_cookie(user)
        with common.server() as base:
            figures = time_pages(base, cookie, urls, args.rounds)
        with open("/proc/loadavg") as f:
            loadavg = f.read().split()[0]
        print(f"[{args.db}] load average at the end: {loadavg}")
        for label in urls:
            print(f"[{args.db}] {label}: {counts[label]} SQL statements")
            print(f"    server time (in process): {inside[label]}")
            print(f"    over HTTP (gunicorn, 2 threads): {figures[label]}")
    finally:
        from django.db import connections

        connections.close_all()
        common.drop_environment(env)


if __name__ == "__main__":
    main()
