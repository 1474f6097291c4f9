"""The console's case page: server time for a case with ~50 notes in a database of
realistic size.

    .venv/bin/python bench/bench_case_page.py --db sqlite
    .venv/bin/python bench/bench_case_page.py --db postgres

Loads `--cases` cases (bulk, as bench_cases.py does) with `--notes-per-case` notes each
(bulk), then opens one case through the services with `--notes` notes (public answers
queued for delivery, internal notes, attachments, status changes, an escalation request
pending with its evidence pack) and times `GET /console/cases/<number>` in process with
Django's test client, signed in as an agent: the whole Django stack (middleware, views,
selectors, templates), without the network. Target (issue 13): p95 < 100 ms (moonshot
< 50 ms). Also prints the number of SQL statements per page.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench import common
from bench.bench_cases import load_cases


def load_notes(per_case: int) -> int:
    """Bulk notes on every case: a customer message and answers, as email intake and agents
    leave them (a fraction internal)."""
    from django.db import transaction

    from atiende.cases.models import Case, Note

    rng = random.Random(11)
    batch: list[Note] = []
    written = 0
    cases = Case.objects.values_list("pk", "created_at", "channel_id").iterator(chunk_size=5000)
    for pk, created, channel_id in cases:
        for j in range(per_case):
            inbound = j % 2 == 0
            batch.append(
                Note(
                    case_id=pk,
                    visibility="internal" if rng.random() < 0.2 else "public",
                    direction="inbound" if inbound else "outbound",
                    channel_id=channel_id,
                    body_text="Buenos días, el token no responde desde esta mañana. " * 3,
                    created_at=created + dt.timedelta(minutes=30 * (j + 1)),
                    delivery_status=None if inbound else "sent",
                )
            )
        if len(batch) >= 5000:
            with transaction.atomic():
                Note.objects.bulk_create(batch)
            written += len(batch)
            batch = []
    with transaction.atomic():
        Note.objects.bulk_create(batch)
    return written + len(batch)


def busy_case(notes: int):
    """A case as a long conversation leaves it, through the services."""
    from atiende.accounts import services as accounts
    from atiende.accounts.models import User
    from atiende.cases import services as cases
    from atiende.customers import services as customers
    from atiende.directory.selectors import channels
    from atiende.escalations import services as escalations

    correo = next(c for c in channels() if c.slug == "correo")
    contact = customers.create_contact(
        name="Pedro Pérez", emails=["pedro@bench.test"], phones=["+573001234567"]
    )
    agent = User.objects.get(email="bench-agent@mesa.test")
    case = cases.open_case(
        actor=None,
        channel=correo,
        subject="El token no responde",
        description="No puedo firmar la nómina.",
        type="incident",
        priority="high",
        requester=contact,
        acknowledge=False,
    )
    for i in range(notes):
        kind = i % 3
        if kind == 0:
            cases.add_note(case=case, body_text=f"Mensaje del cliente {i}", author_contact=contact)
        elif kind == 1:
            note = cases.add_note(case=case, body_text=f"Respuesta {i}", actor=agent)
            if i % 9 == 1:
                cases.add_attachment(
                    case=case, filename=f"guia-{i}.png", chunks=[b"\x89PNG\r\n\x1a\n" + b"0" * 512]
                )
                cases.add_attachment(
                    case=case, note=note, filename=f"anexo-{i}.pdf", chunks=[b"%PDF-1.4 x"]
                )
        else:
            cases.add_note(
                case=case, body_text=f"Nota interna {i}", visibility="internal", actor=agent
            )
    cases.change_status(case=case, actor=agent, status="awaiting_info")
    cases.change_status(case=case, actor=agent, status="open")
    escalations.request_escalation(case=case, actor=agent, reason="bench", via="agent")
    accounts.ensure_group(slug="soporte-tecnico", name="Grupo de soporte técnico")
    return case


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--notes-per-case", type=int, default=3)
    parser.add_argument("--notes", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=300)
    args = parser.parse_args()

    env = common.prepare_environment(args.db)
    try:
        common.setup_django()
        from django.db import connection
        from django.test import Client

        from atiende.accounts import services as accounts
        from atiende.cases.models import Case, Note

        common.seed_organizations(20)
        agent = accounts.create_user(
            email="bench-agent@mesa.test", name="Bench", role="agent", level=1
        )
        load_cases(args.cases)
        notes = load_notes(args.notes_per_case)
        with connection.cursor() as cur:
            cur.execute("ANALYZE")
        case = busy_case(args.notes)
        print(
            f"[{args.db}] {Case.objects.count()} cases, {notes + Note.objects.filter(case=case).count()} "
            f"notes; the case {case.number} has {Note.objects.filter(case=case).count()} notes"
        )
        client = Client()
        client.force_login(agent)
        path = f"/console/cases/{case.number}"
        for _ in range(10):  # warm the per-process snapshots and the template cache
            assert client.get(path).status_code == 200
        statements = []
        with connection.execute_wrapper(lambda ex, sql, *a: statements.append(sql) or ex(sql, *a)):
            client.get(path)
        if os.environ.get("BENCH_PROFILE"):
            import cProfile
            import pstats

            prof = cProfile.Profile()
            prof.enable()
            for _ in range(20):
                client.get(path)
            prof.disable()
            pstats.Stats(prof).sort_stats("cumulative").print_stats(45)
        samples, cpu = [], []
        for _ in range(args.rounds):
            start, start_cpu = time.perf_counter(), time.process_time()
            response = client.get(path)
            samples.append(time.perf_counter() - start)
            cpu.append(time.process_time() - start_cpu)
            assert response.status_code == 200
        print(
            f"[{args.db}] GET /console/cases/<n> ({args.notes} notes): {common.summary_ms(samples)}; "
            f"{len(statements)} SQL statements; {args.rounds} rounds"
        )
        # On a shared machine the wall time includes waiting for a core; this process's CPU
        # time does not (with PostgreSQL it leaves out the database server's own work).
        print(f"[{args.db}]   CPU time of this process per page: {common.summary_ms(cpu)}")
    finally:
        from django.db import connections

        connections.close_all()
        common.drop_environment(env)


if __name__ == "__main__":
    main()
