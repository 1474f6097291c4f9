"""The reports with 1,000,000 cases on PostgreSQL: every report must answer in under 2 s.

    .venv/bin/python bench/bench_reports.py                   # 1,000,000 cases
    .venv/bin/python bench/bench_reports.py --cases 100000    # a quicker run
    # build a database once, keep it, then time it again (and again) later:
    .venv/bin/python bench/bench_reports.py --db atiende_reports_1m --keep
    .venv/bin/python bench/bench_reports.py --db atiende_reports_1m --reuse --rounds 10
    .venv/bin/python bench/bench_reports.py --db atiende_reports_1m --reuse --rebuild

PostgreSQL only: the data is generated inside the database (`generate_series`), which
loads a million cases with their two SLA clocks, an inbound message each, 100,000 calls
and 50,000 escalation requests in about a minute. Then it times the full rebuild of the
roll-ups (`reports.services.refresh(full=True)`, what the worker does once; afterwards it
only recomputes what changed) and a steady-state refresh, and then every report through
the API as a supervisor (JSON; the SLA report as CSV too), each over the whole year, over
the last four weeks, for one organization and for one channel. It also checks that the
roll-up agrees with a direct count over the whole year.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench import common

END = dt.datetime(2026, 11, 30, 12, 0, tzinfo=dt.UTC)
DAYS = 365
ORGS = 200
DB = "postgres"  # or "sqlite" (--sqlite), for the printed lines
REPORTS = ["sla", "contacts-by-hour", "escalations", "backlog", "satisfaction", "missed-calls"]


def load(total: int) -> None:
    from django.db import connection

    from atiende.cases.models import CaseCounter
    from atiende.customers.models import Organization
    from atiende.directory.models import Channel

    channels = list(Channel.objects.exclude(kind="phone").values_list("id", flat=True))
    lines = list(Channel.objects.filter(kind="phone").values_list("id", flat=True))
    orgs = list(Organization.objects.values_list("id", flat=True))
    start = END - dt.timedelta(days=DAYS)
    step = DAYS * 86400 / total
    with connection.cursor() as cur:
        # Cases: 2 % still open; types, priorities, levels, channels and organizations spread.
        cur.execute(
            """
            INSERT INTO cases_case (number, type, priority, status, level, channel_id,
                organization_id, classification, subject, description, created_at, updated_at,
                first_response_at, resolved_at)
            SELECT 'CS' || lpad(g::text, 7, '0'),
                (ARRAY['request','incident','change'])[1 + g %% 3],
                (ARRAY['critical','high','moderate','low'])[1 + (g / 3) %% 4],
                CASE WHEN g %% 50 = 0 THEN 'open' ELSE 'closed' END,
                CASE WHEN g %% 10 < 7 THEN 1 WHEN g %% 10 < 9 THEN 2 ELSE 3 END,
                (%(channels)s::int[])[1 + g %% %(nch)s],
                (%(orgs)s::int[])[1 + ((g::bigint * 7919) %% %(norg)s)::int],
                'internal', 'caso ' || g, '',
                t, t,
                t + ((g * 37) %% 14400) * interval '1 second',
                CASE WHEN g %% 50 = 0 THEN NULL
                     ELSE t + ((g * 53) %% 172800) * interval '1 second' END
            FROM (SELECT g, %(start)s::timestamptz + (g * %(step)s) * interval '1 second' AS t
                  FROM generate_series(1, %(total)s) g) s
            """,
            {
                "channels": channels,
                "nch": len(channels),
                "orgs": orgs,
                "norg": len(orgs),
                "start": start,
                "step": step,
                "total": total,
            },
        )
        # Two clocks per case; one in five breached (by the sweep or met late).
        cur.execute(
            """
            INSERT INTO sla_slatimer (case_id, kind, schedule, level, target_seconds, started_at,
                due_at, at_risk_at, pauses, paused_seconds, met_at, breached_at, next_check_at)
            SELECT c.id, k.kind, 'horario-habil', c.level, k.target, c.created_at,
                c.created_at + k.target * interval '2 second',
                c.created_at + k.target * interval '1.5 second',
                '[]', 0,
                CASE WHEN k.kind = 'first_response' THEN c.first_response_at ELSE c.resolved_at END,
                CASE WHEN c.id %% 5 = 0 THEN c.created_at + k.target * interval '2 second' END,
                NULL
            FROM cases_case c,
                 (VALUES ('first_response', 3600), ('resolution', 28800)) AS k(kind, target)
            """,
            {},
        )
        # An inbound message per case, on its channel.
        cur.execute(
            """
            INSERT INTO cases_note (case_id, visibility, direction, channel_id, body_text,
                body_html, delivery_error, automatic, unverified, created_at)
            SELECT id, 'public', 'inbound', channel_id, 'mensaje', '', '', false, false, created_at
            FROM cases_case
            """
        )
        # 100,000 calls on the phone lines; a third missed, half of those called back.
        cur.execute(
            """
            INSERT INTO phone_call (channel_id, call_id, direction, from_raw, to_raw, from_e164,
                to_e164, caller_e164, anonymous, queue, agent_names, answering_number, state,
                cause, missed, out_of_hours, started_at, callback, voicemail, recording_url, ambiguous,
                created_at, updated_at)
            SELECT (%(lines)s::int[])[1 + g %% %(nl)s], 'c' || g, 'in', '', '',
                '+57300' || lpad((g %% 5000000)::text, 7, '0'), '',
                '+57300' || lpad((g %% 5000000)::text, 7, '0'), false, '', '[]', '', 'ended',
                '', g %% 3 = 0, false, t, false, false, '', false, t, t
            FROM (SELECT g, %(start)s::timestamptz + (g * %(step)s) * interval '1 second' AS t
                  FROM generate_series(1, 100000) g) s
            """,
            {"lines": lines, "nl": len(lines), "start": start, "step": DAYS * 86400 / 100000},
        )
        cur.execute(
            """
            INSERT INTO phone_call (channel_id, call_id, direction, from_raw, to_raw, from_e164,
                to_e164, caller_e164, anonymous, queue, agent_names, answering_number, state,
                cause, missed, out_of_hours, started_at, callback, voicemail, recording_url, ambiguous,
                created_at, updated_at)
            SELECT channel_id, call_id || '-back', 'out', '', '', '', caller_e164, caller_e164,
                false, '', '[]', '', 'ended', '', false, false,
                started_at + interval '2 hour', false, false, '', false, started_at, started_at
            FROM phone_call WHERE missed AND id %% 2 = 0
            """,
            {},
        )
        # 50,000 escalation requests: accepted, rejected (three reasons) or pending.
        cur.execute(
            """
            INSERT INTO escalations_escalationrequest (case_id, from_level, to_level, via,
                grounds, reason, status, decision_reason, created_at, decided_at,
                reminders_sent)
            SELECT id, 1, 2, CASE WHEN id %% 4 = 0 THEN 'auto' ELSE 'agent' END, '[]', '',
                (ARRAY['accepted','rejected','pending'])[1 + id %% 3],
                CASE WHEN id %% 3 = 1
                     THEN (ARRAY['Sin fundamento','Falta información','Duplicado'])[1 + id %% 7 %% 3]
                     ELSE '' END,
                created_at + interval '3 hour',
                CASE WHEN id %% 3 = 2 THEN NULL ELSE created_at + interval '4 hour' END, 0
            FROM cases_case WHERE id %% 20 = 0
            """,
            {},
        )
        cur.execute("ANALYZE")
    CaseCounter.objects.update_or_create(name="case", defaults={"value": total})
    common.sync_case_sequence(total)


def load_sqlite(total: int) -> None:
    """The same data as `load`, generated inside SQLite (a recursive CTE for the series,
    strftime for the instants, JSON arrays for the picks)."""
    from django.db import connection

    from atiende.cases.models import CaseCounter
    from atiende.customers.models import Organization
    from atiende.directory.models import Channel

    channels = list(Channel.objects.exclude(kind="phone").values_list("id", flat=True))
    lines = list(Channel.objects.filter(kind="phone").values_list("id", flat=True))
    orgs = list(Organization.objects.values_list("id", flat=True))
    t0 = (END - dt.timedelta(days=DAYS)).timestamp()
    step = DAYS * 86400 / total
    call_step = DAYS * 86400 / 100000
    ts = "strftime('%Y-%m-%d %H:%M:%f', {}, 'unixepoch')".format
    series = "WITH RECURSIVE s(g) AS (SELECT 1 UNION ALL SELECT g + 1 FROM s WHERE g < {})".format
    with connection.cursor() as cur:  # no parameters: the SQL is all literals (numbers)
        cur.execute(
            f"""
            {series(total)}
            INSERT INTO cases_case (number, type, priority, status, level, channel_id,
                organization_id, classification, subject, description, created_at, updated_at,
                first_response_at, resolved_at)
            SELECT 'CS' || printf('%07d', g),
                json_extract('["request","incident","change"]', '$[' || (g % 3) || ']'),
                json_extract('["critical","high","moderate","low"]', '$[' || ((g / 3) % 4) || ']'),
                CASE WHEN g % 50 = 0 THEN 'open' ELSE 'closed' END,
                CASE WHEN g % 10 < 7 THEN 1 WHEN g % 10 < 9 THEN 2 ELSE 3 END,
                json_extract('{channels}', '$[' || (g % {len(channels)}) || ']'),
                json_extract('{orgs}', '$[' || ((g * 7919) % {len(orgs)}) || ']'),
                'internal', 'caso ' || g, '',
                {ts(f"{t0} + g * {step}")}, {ts(f"{t0} + g * {step}")},
                {ts(f"{t0} + g * {step} + (g * 37) % 14400")},
                CASE WHEN g % 50 = 0 THEN NULL
                     ELSE {ts(f"{t0} + g * {step} + (g * 53) % 172800")} END
            FROM s
            """
        )
        cur.execute(
            """
            INSERT INTO sla_slatimer (case_id, kind, schedule, level, target_seconds, started_at,
                due_at, at_risk_at, pauses, paused_seconds, met_at, breached_at, next_check_at)
            SELECT c.id, k.kind, 'horario-habil', c.level, k.target, c.created_at,
                strftime('%Y-%m-%d %H:%M:%f', c.created_at, '+' || (k.target * 2) || ' seconds'),
                strftime('%Y-%m-%d %H:%M:%f', c.created_at, '+' || (k.target * 3 / 2) || ' seconds'),
                '[]', 0,
                CASE WHEN k.kind = 'first_response' THEN c.first_response_at ELSE c.resolved_at END,
                CASE WHEN c.id % 5 = 0
                     THEN strftime('%Y-%m-%d %H:%M:%f', c.created_at, '+' || (k.target * 2) || ' seconds')
                END,
                NULL
            FROM cases_case c,
                 (SELECT 'first_response' AS kind, 3600 AS target
                  UNION ALL SELECT 'resolution', 28800) k
            """
        )
        cur.execute(
            """
            INSERT INTO cases_note (case_id, visibility, direction, channel_id, body_text,
                body_html, delivery_error, automatic, unverified, created_at)
            SELECT id, 'public', 'inbound', channel_id, 'mensaje', '', '', 0, 0, created_at
            FROM cases_case
            """
        )
        cur.execute(
            f"""
            {series(100000)}
            INSERT INTO phone_call (channel_id, call_id, direction, from_raw, to_raw, from_e164,
                to_e164, caller_e164, anonymous, queue, agent_names, answering_number, state,
                cause, missed, out_of_hours, started_at, callback, voicemail, recording_url,
                ambiguous, created_at, updated_at)
            SELECT json_extract('{lines}', '$[' || (g % {len(lines)}) || ']'), 'c' || g, 'in',
                '', '', '+57300' || printf('%07d', g % 5000000), '',
                '+57300' || printf('%07d', g % 5000000), 0, '', '[]', '', 'ended',
                '', g % 3 = 0, 0, {ts(f"{t0} + g * {call_step}")}, 0, 0, '', 0,
                {ts(f"{t0} + g * {call_step}")}, {ts(f"{t0} + g * {call_step}")}
            FROM s
            """
        )
        cur.execute(
            """
            INSERT INTO phone_call (channel_id, call_id, direction, from_raw, to_raw, from_e164,
                to_e164, caller_e164, anonymous, queue, agent_names, answering_number, state,
                cause, missed, out_of_hours, started_at, callback, voicemail, recording_url,
                ambiguous, created_at, updated_at)
            SELECT channel_id, call_id || '-back', 'out', '', '', '', caller_e164, caller_e164,
                0, '', '[]', '', 'ended', '', 0, 0,
                strftime('%Y-%m-%d %H:%M:%f', started_at, '+2 hours'), 0, 0, '', 0,
                started_at, started_at
            FROM phone_call WHERE missed AND id % 2 = 0
            """
        )
        cur.execute(
            """
            INSERT INTO escalations_escalationrequest (case_id, from_level, to_level, via,
                grounds, reason, status, decision_reason, created_at, decided_at,
                reminders_sent)
            SELECT id, 1, 2, CASE WHEN id % 4 = 0 THEN 'auto' ELSE 'agent' END, '[]', '',
                json_extract('["accepted","rejected","pending"]', '$[' || (id % 3) || ']'),
                CASE WHEN id % 3 = 1
                     THEN json_extract('["Sin fundamento","Falta información","Duplicado"]',
                                       '$[' || (id % 7 % 3) || ']')
                     ELSE '' END,
                strftime('%Y-%m-%d %H:%M:%f', created_at, '+3 hours'),
                CASE WHEN id % 3 = 2 THEN NULL
                     ELSE strftime('%Y-%m-%d %H:%M:%f', created_at, '+4 hours') END, 0
            FROM cases_case WHERE id % 20 = 0
            """
        )
        cur.execute("ANALYZE")
    CaseCounter.objects.update_or_create(name="case", defaults={"value": total})


def timed(get, path: str, params: dict, rounds: int) -> tuple[list[float], int]:
    samples = []
    status = 0
    for _ in range(rounds):
        t = time.perf_counter()
        response = get(path, params)
        samples.append(time.perf_counter() - t)
        status = response.status_code
    return samples, status


def load_average() -> str:
    return "load average " + ", ".join(f"{x:.2f}" for x in os.getloadavg())


def environment(args: argparse.Namespace) -> dict[str, str]:
    """The bench's database: a throwaway one, or `--db NAME` (created unless `--reuse`)."""
    if args.sqlite:
        return common.prepare_environment("sqlite")
    if not args.db:
        return common.prepare_environment("postgres")
    if not args.reuse:
        common._psql(f"DROP DATABASE IF EXISTS {args.db}", f"CREATE DATABASE {args.db}", check=True)
    env = {
        "ATIENDE_DATA_DIR": tempfile.mkdtemp(prefix="atiende-bench-postgres-"),
        "DJANGO_SETTINGS_MODULE": os.environ.get("DJANGO_SETTINGS_MODULE", "atiende.settings"),
        "ATIENDE_LOG_LEVEL": "WARNING",
        "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{args.db}",
    }
    os.environ.update(env)
    return env


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=3, help="answers timed per report and scope")
    parser.add_argument("--db", help="PostgreSQL database name (default: a throwaway one)")
    parser.add_argument("--keep", action="store_true", help="leave the database behind")
    parser.add_argument(
        "--reuse", action="store_true", help="the database (--db) already holds the data"
    )
    parser.add_argument(
        "--rebuild", action="store_true", help="with --reuse: rebuild the roll-ups again"
    )
    parser.add_argument(
        "--sqlite",
        action="store_true",
        help="a throwaway SQLite database instead (generated the same way; no --db/--reuse)",
    )
    args = parser.parse_args()
    if args.reuse and not args.db:
        parser.error("--reuse needs --db NAME")
    if args.sqlite and (args.db or args.reuse):
        parser.error("--sqlite makes a fresh database: no --db or --reuse")
    global DB
    DB = "sqlite" if args.sqlite else "postgres"

    print(f"[{DB}] {load_average()} at the start (a shared machine: other work runs too)")
    env = environment(args)
    keep = args.keep or args.reuse
    try:
        common.setup_django()
        from django.test import Client

        from atiende.accounts import services as accounts
        from atiende.accounts.models import User
        from atiende.core import clock
        from atiende.reports import filters, selectors, services

        if not args.reuse:
            common.seed_organizations(ORGS)
            t = time.perf_counter()
            (load_sqlite if args.sqlite else load)(args.cases)
            print(
                f"[{DB}] generated {args.cases} cases and the rest in "
                f"{time.perf_counter() - t:.0f} s"
            )

        rebuilt = not args.reuse or args.rebuild
        if rebuilt:
            with clock.frozen(END):
                t = time.perf_counter()
                written = services.refresh(full=True)
                print(f"[{DB}] full roll-up rebuild: {time.perf_counter() - t:.0f} s ({written})")
        with clock.frozen(END + dt.timedelta(minutes=5)):
            t = time.perf_counter()
            written = services.refresh()
            print(
                f"[{DB}] steady-state refresh (open cases, the last days): "
                f"{time.perf_counter() - t:.1f} s ({written})"
            )

        year = {
            "from": (END - dt.timedelta(days=DAYS)).date().isoformat(),
            "to": END.date().isoformat(),
        }
        if rebuilt:
            f = filters.parse(year)
            rolled = {
                r["channel"]: {k: r[k] for k in ("cases", "fr_met", "fr_breached", "res_met")}
                for r in selectors.sla_report(f)["tables"]["by_channel"]["rows"]
            }
            t = time.perf_counter()
            direct = {
                ch: {k: v[k] for k in ("cases", "fr_met", "fr_breached", "res_met")}
                for ch, v in selectors.direct_sla_counts(f).items()
            }
            print(
                f"[{DB}] roll-up = direct count over the year: {rolled == direct} "
                f"(the direct count took {time.perf_counter() - t:.1f} s)"
            )

        email = "bench.sup@mesa.test"
        supervisor = User.objects.filter(email=email).first() or accounts.create_user(
            email=email, name="Bench", role="supervisor", password="Bench-Clave-2026"
        )
        client = Client()
        client.force_login(supervisor)

        def get(path, params):
            return client.get(f"/api/v1/reports/{path}", params)

        scopes = {
            "year": year,
            "4 weeks": {
                "from": (END - dt.timedelta(days=27)).date().isoformat(),
                "to": END.date().isoformat(),
            },
            "year, one org": {**year, "organization": "org-7"},
            "year, one channel": {**year, "channel": "correo"},
        }
        cases = [(name, scope, params) for name in REPORTS for scope, params in scopes.items()]
        cases.append(("sla CSV (detail)", "year", {**year, "format": "csv", "table": "detail"}))
        worst = ("", 0.0)
        print(f"[{DB}] {load_average()} before timing; {args.rounds} rounds each")
        with clock.frozen(END):
            for name, scope, params in cases:
                path = "sla" if name.startswith("sla CSV") else name
                samples, status = timed(get, path, params, args.rounds)
                p95 = common.percentile(samples, 95)
                worst = max(worst, (f"{name}, {scope}", max(samples)), key=lambda w: w[1])
                print(
                    f"[{DB}] {name:17s} {scope:18s} p50 {statistics.median(samples) * 1000:7.0f} ms"
                    f"  p95 {p95 * 1000:7.0f} ms  max {max(samples) * 1000:7.0f} ms  (HTTP {status})"
                )
        print(
            f"[{DB}] slowest report answer: {worst[1] * 1000:.0f} ms ({worst[0]}; target"
            f" < 2000 ms): {'met' if worst[1] < 2 else 'NOT met'}; {load_average()} at the end"
        )
    finally:
        if keep:
            where = env.get("DATABASE_URL", env["ATIENDE_DATA_DIR"]).rsplit("/", 1)[-1]
            print(f"[{DB}] kept the database {where}")
        else:
            common.drop_environment(env)


if __name__ == "__main__":
    main()
