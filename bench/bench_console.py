"""The console's queues and search with a large help desk: server time of every queue
page, the counts poll and the search.

    .venv/bin/python bench/bench_console.py --db sqlite
    .venv/bin/python bench/bench_console.py --db postgres
    .venv/bin/python bench/bench_console.py --db sqlite --cases 200000 --open 20000   # smaller

Builds `--cases` cases (default 1,000,000), `--open` of them active (default 100,000),
with SLA clocks in every state, about `--notes` notes per case (Spanish text of the kind a
help desk receives, a third of them internal), contacts, organizations, agents in support
groups and pending escalations. Rows are written with bulk inserts while the search
index's triggers are off; the index is then rebuilt in one statement per table (what
`atiende.search.schema.rebuild` does), as after any bulk import.

Server time: each request runs through Django's whole stack (middleware, session, views,
templates) in this process with `django.test.Client`, timed around the call; no network or
HTTP server is in the figure. Beside the wall-clock time, the Python process's own CPU time
per request is printed. Queue pages are measured as agents see them, with the shared
counts computed by an earlier request (they are recomputed at most every 8 s per process);
"counts poll (cache cold)" is the request that recomputes them (on a shared machine the wall clock includes waiting for a core;
on PostgreSQL the server's work is in the wall clock only). Target (issue 13): p95 < 100 ms (moonshot < 50 ms).
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

FIRST = [
    "Ana",
    "José",
    "María",
    "Andrés",
    "Lucía",
    "Iván",
    "Sofía",
    "Martín",
    "Valentina",
    "Sebastián",
    "Camila",
    "Nicolás",
    "Daniela",
    "Tomás",
    "Mónica",
    "Julián",
    "Paula",
    "Hernán",
    "Ángela",
    "Óscar",
]
LAST = [
    "Pérez",
    "Gómez",
    "Rodríguez",
    "Martínez",
    "López",
    "García",
    "Hernández",
    "Díaz",
    "Muñoz",
    "Sánchez",
    "Ramírez",
    "Castaño",
    "Calderón",
    "Méndez",
    "Núñez",
    "Peña",
    "Ortiz",
    "Jiménez",
    "Vásquez",
    "Rincón",
]
TOPICS = [
    "facturación",
    "certificado de firma digital",
    "token criptográfico",
    "portal de clientes",
    "renovación del certificado",
    "correo electrónico",
    "contraseña",
    "firma masiva",
    "estampado cronológico",
    "sede electrónica",
    "API de integración",
    "factura electrónica",
    "validación de identidad",
    "revocación",
    "instalación del controlador",
]
SUBJECTS = [
    "Error en {t}",
    "No funciona {t}",
    "Solicitud de {t}",
    "Consulta sobre {t}",
    "Problema con {t} desde ayer",
    "Cambio en {t}",
    "Caída de {t}",
    "Lentitud en {t}",
]
SENTENCES = [
    "Buenos días, les escribo porque {t} presenta un error desde esta mañana.",
    "Adjunto la captura de pantalla con el mensaje que aparece al intentar usar {t}.",
    "El usuario indica que ya reinició el equipo y el problema con {t} continúa.",
    "Se verificó la configuración de {t} y todo parece correcto; se escala para revisión.",
    "Quedamos atentos a su respuesta para continuar con el trámite de {t}.",
    "Por favor confirmar si el cambio en {t} ya quedó aplicado en producción.",
    "Se envió el enlace de descarga; el cliente debe instalarlo con permisos de administrador.",
    "Nota interna: revisar con el proveedor la incidencia de {t}, referencia {n}.",
    "El número de la orden es {n} y el NIT de la empresa es 900{n}.",
    "Gracias por la atención, el caso puede cerrarse.",
    "La solución propuesta no funcionó; seguimos sin poder usar {t}.",
    "Se programó una llamada con el área de tecnología del cliente para el jueves.",
]


def text(rng: random.Random, sentences: int) -> str:
    return " ".join(
        rng.choice(SENTENCES).format(t=rng.choice(TOPICS), n=rng.randrange(10_000, 99_999))
        for _ in range(sentences)
    )


class Inserter:
    """Plain multi-row inserts, without model instances: `executemany` on SQLite, COPY on
    PostgreSQL. Values are given as the database stores them (ids, UTC instants, JSON text)."""

    def __init__(self, connection) -> None:
        self.connection = connection
        self.pg = connection.vendor == "postgresql"

    def instant(self, value: dt.datetime | None):
        if value is None or self.pg:
            return value
        return value.astimezone(dt.UTC).replace(tzinfo=None).isoformat(" ")

    def __call__(self, table: str, columns: list[str], rows: list[tuple]) -> None:
        if not rows:
            return
        with self.connection.cursor() as cur:
            if self.pg:
                raw = cur.cursor  # psycopg's own cursor, for COPY
                names = ", ".join(columns)
                with raw.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
            else:
                marks = ", ".join(["%s"] * len(columns))
                cur.executemany(
                    f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", rows
                )


CASE_COLUMNS = [
    "id",
    "number",
    "type",
    "priority",
    "status",
    "level",
    "channel_id",
    "organization_id",
    "requester_id",
    "assignee_id",
    "group_id",
    "classification",
    "subject",
    "description",
    "created_at",
    "updated_at",
    "first_response_at",
    "resolved_at",
    "closed_at",
]
TIMER_COLUMNS = [
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
    "breached_at",
    "at_risk_flagged_at",
    "next_check_at",
    "case_active",
]
NOTE_COLUMNS = [
    "case_id",
    "visibility",
    "direction",
    "author_user_id",
    "author_contact_id",
    "channel_id",
    "body_text",
    "body_html",
    "delivery_status",
    "delivery_error",
    "automatic",
    "unverified",
    "created_at",
]


def build(args) -> dict:
    """Write the help desk; returns what the measurements need."""
    from django.contrib.auth.hashers import make_password
    from django.db import connection, transaction

    from atiende.accounts.models import SupportGroup, User
    from atiende.cases.models import CaseCounter
    from atiende.customers.models import Contact, ContactEmail, Organization
    from atiende.directory.models import Channel
    from atiende.escalations.models import EscalationLevel
    from atiende.search import schema

    rng = random.Random(13)
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    t0 = time.perf_counter()
    insert = Inserter(connection)

    orgs = Organization.objects.bulk_create(
        Organization(slug=f"org-{i}", name=f"Empresa {rng.choice(LAST)} {i} S.A.S.", created_at=now)
        for i in range(args.orgs)
    )
    contacts = Contact.objects.bulk_create(
        Contact(
            organization=orgs[i % len(orgs)],
            name=f"{rng.choice(FIRST)} {rng.choice(LAST)}",
            created_at=now,
        )
        for i in range(args.contacts)
    )
    ContactEmail.objects.bulk_create(
        ContactEmail(contact=c, address=f"contacto{c.pk}@org{c.organization_id}.example")
        for c in contacts
    )
    contact_orgs = [(c.pk, c.organization_id) for c in contacts]
    groups = SupportGroup.objects.bulk_create(
        SupportGroup(slug=f"grupo-{i}", name=f"Grupo {i}") for i in range(4)
    )
    password = make_password("clave-bench-1")  # hashed once: users differ only in name
    agents = User.objects.bulk_create(
        User(
            email=f"agente{i}@mesa.test",
            password=password,
            name=f"Agente {i}",
            role="supervisor" if i == 0 else "agent",
            level=2 if i == 0 else None,
        )
        for i in range(args.agents)
    )
    agents = list(User.objects.order_by("id"))
    for i, agent in enumerate(agents):
        agent.support_groups.add(groups[i % len(groups)])
    agent_ids = [a.pk for a in agents]
    group_ids = [g.pk for g in groups]
    me = agents[0]
    if not EscalationLevel.objects.exists():
        for n in (1, 2, 3, 4):
            EscalationLevel.objects.create(number=n, name=f"Nivel {n}", title=f"Nivel {n}")
    channel_ids = list(Channel.objects.values_list("pk", flat=True))

    schema.set_triggers(connection, enabled=False)
    prios = ["critical"] * 5 + ["high"] * 20 + ["moderate"] * 50 + ["low"] * 25
    types = ["request"] * 5 + ["incident"] * 4 + ["change"] * 1
    start = now - dt.timedelta(days=4 * 365)
    span = (now - dt.timedelta(days=30) - start).total_seconds()
    open_every = max(1, args.cases // args.open)
    n_notes = 0
    pending = []
    cases, timers, notes = [], [], []

    def flush():
        nonlocal n_notes
        with transaction.atomic():
            insert("cases_case", CASE_COLUMNS, cases)
            insert("sla_slatimer", TIMER_COLUMNS, timers)
            insert("cases_note", NOTE_COLUMNS, notes)
        n_notes += len(notes)
        cases.clear(), timers.clear(), notes.clear()

    for i in range(args.cases):
        case_id = i + 1
        active = i % open_every == 0
        if active:
            created = now - dt.timedelta(seconds=rng.randrange(30 * 24 * 3600))
            status = rng.choice(["new"] * 20 + ["open"] * 55 + ["awaiting_info"] * 25)
            phase = (
                "paused"
                if status == "awaiting_info"
                else rng.choice(
                    ["running"] * 72 + ["at_risk"] * 10 + ["overdue"] * 2 + ["breached"] * 16
                )
            )
        else:
            created = start + dt.timedelta(seconds=span * i / args.cases)
            status = rng.choice(["resolved"] * 10 + ["closed"] * 85 + ["cancelled"] * 5)
            phase = "done"
        requester, org = contact_orgs[rng.randrange(len(contact_orgs))]
        assigned = not active or rng.random() < 0.7
        channel = rng.choice(channel_ids)
        cases.append(
            (
                case_id,
                f"CS{case_id:07d}",
                rng.choice(types),
                rng.choice(prios),
                status,
                1 if active else rng.choice([1, 1, 1, 2, 3]),
                channel,
                org,
                requester,
                rng.choice(agent_ids) if assigned else None,
                rng.choice(group_ids),
                "internal",
                rng.choice(SUBJECTS).format(t=rng.choice(TOPICS)),
                text(rng, 2),
                insert.instant(created),
                insert.instant(created + dt.timedelta(minutes=rng.randrange(1, 600))),
                None,
                insert.instant(created + dt.timedelta(hours=5)) if not active else None,
                insert.instant(created + dt.timedelta(days=3)) if status == "closed" else None,
            )
        )
        timers.extend(timers_for(rng, insert, case_id, created, status, active, phase, now))
        notes.extend(
            notes_for(rng, insert, case_id, created, channel, requester, active, agent_ids)
        )
        if active and rng.random() < 0.02:
            pending.append(case_id)
        if len(cases) == 10_000:
            flush()
            if (i + 1) % 100_000 == 0:
                print(
                    f"  … {i + 1} cases, {n_notes} notes ({time.perf_counter() - t0:.0f} s)",
                    flush=True,
                )
    flush()
    with transaction.atomic():
        insert(
            "escalations_escalationrequest",
            [
                "case_id",
                "from_level",
                "to_level",
                "requested_by_id",
                "via",
                "grounds",
                "reason",
                "status",
                "decision_reason",
                "created_at",
                "reminders_sent",
            ],
            [
                (
                    c,
                    1,
                    2,
                    agent_ids[1],
                    "agent",
                    '["agent"]',
                    "",
                    "pending",
                    "",
                    insert.instant(now - dt.timedelta(hours=1)),
                    0,
                )
                for c in pending
            ],
        )
        CaseCounter.objects.filter(name="case").update(value=args.cases)
    common.sync_case_sequence(args.cases)
    if connection.vendor == "postgresql":
        with connection.cursor() as cur:
            for table in ("cases_case", "cases_note", "sla_slatimer"):
                cur.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                    f"(SELECT max(id) FROM {table}))"
                )
    loaded = time.perf_counter() - t0
    print(f"  rows written in {loaded:.0f} s; rebuilding the search index…", flush=True)
    t1 = time.perf_counter()
    with connection.cursor() as cur:
        if connection.vendor == "postgresql":
            cur.execute("DROP INDEX search_document_match")
    schema.rebuild(connection)
    with connection.cursor() as cur:
        if connection.vendor == "postgresql":
            cur.execute(
                "CREATE INDEX search_document_match ON search_document USING gin (document)"
            )
        else:
            cur.execute("INSERT INTO search_document(search_document) VALUES ('optimize')")
    schema.set_triggers(connection, enabled=True)
    with connection.cursor() as cur:
        # After a bulk load, as after any import: statistics, and on PostgreSQL the
        # visibility map that index-only scans need (autovacuum may be off, or late).
        cur.execute("VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE")
    print(f"  search index built in {time.perf_counter() - t1:.0f} s", flush=True)
    return {
        "me": me,
        "notes": n_notes,
        "pending": len(pending),
        "build_seconds": time.perf_counter() - t0,
    }


def timers_for(rng, insert, case_id, created, status, active, phase, now):
    out = []
    for kind, target in (("first_response", 4 * 3600), ("resolution", 24 * 3600)):
        pauses, met, breached, flagged, check = "[]", None, None, None, None
        if not active or (kind == "first_response" and status != "new"):
            due = created + dt.timedelta(seconds=target)
            at_risk = created + dt.timedelta(seconds=target * 0.75)
            met = created + dt.timedelta(hours=2 if not active else 0.5)
            if not active and rng.random() < 0.12:
                breached = due
        else:
            left = {
                "running": dt.timedelta(minutes=rng.randrange(180, 7 * 24 * 60)),
                "at_risk": dt.timedelta(minutes=rng.randrange(5, 120)),
                "overdue": -dt.timedelta(minutes=rng.randrange(1, 10)),
                "breached": -dt.timedelta(hours=rng.randrange(1, 72)),
                "paused": dt.timedelta(hours=rng.randrange(1, 48)),
            }[phase]
            due = now + left
            at_risk = due - dt.timedelta(seconds=target * 0.25)
            if phase == "breached":
                breached = due
            elif phase == "paused":
                pauses = f'[["{(now - dt.timedelta(hours=2)).isoformat()}", null]]'
            else:
                check = at_risk if at_risk > now else due
                flagged = at_risk if at_risk <= now else None
        out.append(
            (
                case_id,
                kind,
                "horario-habil",
                1,
                target,
                insert.instant(created),
                insert.instant(due),
                insert.instant(at_risk),
                pauses,
                0,
                insert.instant(met),
                insert.instant(breached),
                insert.instant(flagged),
                insert.instant(check),
                active,
            )
        )
    return out


def notes_for(rng, insert, case_id, created, channel, requester, active, agent_ids):
    out = []
    at = created
    for _ in range(rng.randrange(0, 6 if active else 4)):  # ~2.5 per open case, ~1.5 per closed
        at = at + dt.timedelta(minutes=rng.randrange(5, 600))
        internal = rng.random() < 0.33
        inbound = not internal and rng.random() < 0.5
        out.append(
            (
                case_id,
                "internal" if internal else "public",
                "internal" if internal else ("inbound" if inbound else "outbound"),
                None if inbound else rng.choice(agent_ids),
                requester if inbound else None,
                None if internal else channel,
                text(rng, rng.randrange(1, 4)),
                "",
                None,
                "",
                False,
                False,
                insert.instant(at),
            )
        )
    return out


def measure(me, rounds: int, *, only: str = "") -> list[tuple[str, str]]:
    from django.core.cache import cache
    from django.test import Client

    client = Client()
    client.force_login(me)
    pages = [
        (f"queue {q}", f"/console/?queue={q}")
        for q in [
            "mine",
            "unassigned",
            "at-risk",
            "breached",
            "critical",
            "verify",
            "awaiting",
            "all",
        ]
    ]
    pages += [
        (
            "queue all, filtered type=incident priority=critical",
            "/console/?queue=all&type=incident&priority=critical",
        ),
        ("queue all, filtered status=new", "/console/?queue=all&status=new"),
        ("queue all, filtered level=3", "/console/?queue=all&level=3"),
        (
            "queue all, filtered channel and priority=high",
            "/console/?queue=all&channel=whatsapp-monitoreo&priority=high",
        ),
        ("queue all, filtered organization", "/console/?queue=all&organization=org-7"),
        ("queue all, sorted by number", "/console/?queue=all&sort=number"),
        ("queue all, page 40", "/console/?queue=all&page=40"),
        ("queue mine, sorted by deadline", "/console/?queue=mine&sort=deadline"),
        ("queue unassigned, sorted by priority", "/console/?queue=unassigned&sort=priority"),
        ("case page (an open case with notes)", "/console/cases/CS0000001"),
        ("counts poll (shared counts cached)", "/console/queues/counts"),
        ("counts poll (cache cold: every count)", "/console/queues/counts#cold"),
        ("search: facturacion", "/console/search?q=facturacion"),
        ("search: token bloqueado criptografico", "/console/search?q=token%20criptografico"),
        ("search: a contact's surname (castano)", "/console/search?q=castano"),
        ("search: a rare word (nit 90012345)", "/console/search?q=90012345"),
        ("search: a case number (jump)", "/console/search?q=CS0000123"),
    ]
    pages = [(label, url) for label, url in pages if only in label]
    out = []
    for label, url in pages:
        cold = url.endswith("#cold")
        url = url.removesuffix("#cold")
        for _ in range(3):
            r = client.get(url)
            assert r.status_code in (200, 302), (url, r.status_code)
        samples, cpu = [], []
        for _ in range(rounds):
            if cold:
                cache.clear()  # this request computes every shared count (once per 8 s)
            t, c = time.perf_counter(), time.process_time()
            client.get(url)
            samples.append(time.perf_counter() - t)
            cpu.append(time.process_time() - c)
        cpu_ms = sorted(x * 1000 for x in cpu)
        out.append(
            (
                label,
                f"{common.summary_ms(samples)}; this process's CPU p50 "
                f"{cpu_ms[len(cpu_ms) // 2]:.1f} ms, p95 {common.percentile(cpu_ms, 95):.1f} ms",
            )
        )
    return out


def keep_environment(db: str, name: str, *, fresh: bool) -> dict[str, str]:
    """Point this process at a named bench database that outlives the run: PostgreSQL
    database `name`, or the SQLite file in `var/bench/<name>/`. `fresh` empties it first
    (`--keep`); otherwise it must exist (`--reuse`)."""
    import os
    import shutil
    import subprocess

    data_dir = common.ROOT / "var" / "bench" / name
    env = {
        "ATIENDE_DATA_DIR": str(data_dir),
        "DJANGO_SETTINGS_MODULE": os.environ.get("DJANGO_SETTINGS_MODULE", "atiende.settings"),
        "ATIENDE_LOG_LEVEL": "WARNING",
    }
    if fresh and data_dir.exists():
        shutil.rmtree(data_dir)
    if not fresh and not data_dir.exists() and db == "sqlite":
        raise SystemExit(f"--reuse {name}: {data_dir} does not exist (build it with --keep)")
    data_dir.mkdir(parents=True, exist_ok=True)
    if db == "postgres":
        psql = ["psql", "-q", "-h", "127.0.0.1", "-U", "postgres"]
        if fresh:
            subprocess.run(
                [*psql, "-c", f"DROP DATABASE IF EXISTS {name}", "-c", f"CREATE DATABASE {name}"],
                check=True,
                capture_output=True,
            )
        env["DATABASE_URL"] = f"postgres://postgres@127.0.0.1:5432/{name}"
    else:
        os.environ.pop("DATABASE_URL", None)
    os.environ.update(env)
    return env


def reused() -> dict:
    """What `measure` needs from a database built earlier with --keep (its first user is
    the supervisor the build signs in as)."""
    from atiende.accounts.models import User
    from atiende.escalations.models import EscalationRequest

    return {
        "me": User.objects.order_by("id").first(),
        "notes": None,
        "pending": EscalationRequest.objects.filter(status="pending").count(),
        "build_seconds": 0.0,
    }


def catch_up_sweep(db: str) -> None:
    """Flag the clocks at risk and record the breaches that came due since the build (in
    production the sweep runs every 30 s, so this backlog does not exist there)."""
    from django.db import connection

    from atiende.sla import services as sla

    started, totals = time.perf_counter(), {"at_risk": 0, "breached": 0}
    while True:
        done = sla.sweep(limit=2_000)
        for key in totals:
            totals[key] += done[key]
        if not any(done.values()):
            break
    if db == "postgres":  # autovacuum is off on the bench machine
        with connection.cursor() as cursor:
            cursor.execute("VACUUM (ANALYZE) sla_slatimer")
    print(
        f"[{db}] sweep caught up: {totals['at_risk']} clocks flagged at risk, "
        f"{totals['breached']} breaches recorded, {time.perf_counter() - started:.0f} s"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--open", type=int, default=100_000)
    parser.add_argument("--orgs", type=int, default=300)
    parser.add_argument("--contacts", type=int, default=30_000)
    parser.add_argument("--agents", type=int, default=60)
    parser.add_argument("--rounds", type=int, default=60)
    named = parser.add_mutually_exclusive_group()
    named.add_argument(
        "--keep",
        metavar="NAME",
        help="build into a named database that is kept after the run (PostgreSQL database "
        "NAME, or var/bench/NAME/ for SQLite), to measure again with --reuse",
    )
    named.add_argument(
        "--reuse",
        metavar="NAME",
        help="measure a database built earlier with --keep NAME (migrations are applied "
        "first; nothing is built)",
    )
    parser.add_argument(
        "--build-only", action="store_true", help="with --keep: build, measure nothing"
    )
    parser.add_argument(
        "--only", default="", help="measure only the requests whose label contains this text"
    )
    parser.add_argument(
        "--sweep",
        action="store_true",
        help="first run the SLA sweep until it has caught up, as `atiende serve` does every "
        "30 s (a kept database falls behind while it waits)",
    )
    args = parser.parse_args()

    name = args.keep or args.reuse
    if name:
        env = keep_environment(args.db, name, fresh=bool(args.keep))
    else:
        env = common.prepare_environment(args.db)
    try:
        common.setup_django()
        built = reused() if args.reuse else build(args)
        from atiende.cases.models import Case

        total = Case.objects.count()
        active = Case.objects.filter(status__in=["new", "open", "awaiting_info"]).count()
        print(
            f"[{args.db}] {total} cases ({active} active), {built['notes']} notes, "
            f"{built['pending']} pending escalations; built in {built['build_seconds']:.0f} s"
        )
        if args.build_only:
            return
        if args.sweep:
            catch_up_sweep(args.db)
        for label, figures in measure(built["me"], args.rounds, only=args.only):
            print(f"[{args.db}] {label}: {figures}", flush=True)
    finally:
        from django.db import connections

        connections.close_all()
        if not name:
            common.drop_environment(env)


if __name__ == "__main__":
    main()
