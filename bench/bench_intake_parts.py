"""What the parts of an email intake pass cost, one at a time (SQLite).

    ATIENDE_BENCH_GEN_EMAILS=../shared/bench/gen_emails.py .venv/bin/python bench/bench_intake_parts.py

- parsing: the realistic corpus (`bench_email.realistic`) through `inbound.parse` in this
  process, CPU per message, cold (each message parsed for the first time, as a pass does)
  and again warm (the header cache then hits every header: a bench that parses the same
  messages twice flatters the parser);
- the parse worker's share: the same messages parsed in groups as the poller hands them
  out, alone and with their files written and synced (`parallel.keep_files`);
- rows: N new cases, then N notes, each written on its own as `open_case` and `add_note`
  do (`core.rows.add`), in one transaction each; then the same case INSERT as a bare
  `sqlite3` statement with the search trigger (`search/schema.py`) and without it (the
  trigger is dropped in this bench's throwaway database only).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench import common
from bench.bench_email import realistic


def parse_cost(raws: list[bytes]) -> list[float]:
    from atiende.channels.email import inbound

    own = frozenset({"soporte@acme.com.co"})
    costs = []
    for _ in range(2):  # cold, then warm
        start = time.process_time()
        for raw in raws:
            inbound.parse(
                raw,
                channel="correo",
                own_addresses=own,
                envelope_sender=None,
                trusted_authserv_ids=frozenset(),
            )
        costs.append((time.process_time() - start) / len(raws))
    return costs


def keep_cost(raws: list[bytes]) -> dict[str, tuple[float, float, float]]:
    """A parse worker's day, in this process, as `poll_once` hands it out (groups of
    `imap.TX_GROUP`): parsing only, then parsing and writing the files the poller will
    store (`parallel.keep_files`: attachments and the raw mail, then one `disk.sync` per
    group) into a throwaway store. Wall, user and system seconds per message. Run after
    `parse_cost`, both with the header cache warm: the difference between the two is what
    the files cost."""
    import resource
    import shutil
    import tempfile

    from atiende.channels.email import imap, parallel

    own = frozenset({"soporte@acme.com.co"})
    out = {}
    for what in ("parse only", "parse and keep (files, fsyncs)"):
        (common.ROOT / "var").mkdir(exist_ok=True)
        root = tempfile.mkdtemp(prefix="atiende-bench-keep-", dir=common.ROOT / "var")
        keep = parallel.Keep(root=root, max_bytes=10 * 2**20, per_message=100)
        before = resource.getrusage(resource.RUSAGE_SELF)
        start = time.perf_counter()
        for i in range(0, len(raws), imap.TX_GROUP):
            group = raws[i : i + imap.TX_GROUP]
            parallel.parse_group(
                group,
                [None] * len(group),
                channel="correo",
                own=own,
                trusted=frozenset(),
                keep=keep if what != "parse only" else None,
            )
        wall = time.perf_counter() - start
        after = resource.getrusage(resource.RUSAGE_SELF)
        shutil.rmtree(root)
        n = len(raws)
        out[what] = (
            wall / n,
            (after.ru_utime - before.ru_utime) / n,
            (after.ru_stime - before.ru_stime) / n,
        )
    return out


def row_costs(n: int, description: str) -> dict[str, float]:
    from django.db import connection, transaction

    from atiende.cases.models import Case, Note
    from atiende.core import clock, rows
    from atiende.directory.models import Channel

    channel = Channel.objects.get(slug="correo")
    serial = iter(range(10**9))

    def case() -> Case:
        now = clock.now()
        return Case(
            number=f"BENCH{next(serial)}",
            type="request",
            priority="medium",
            channel=channel,
            subject="Solicitud de prueba",
            description=description,
            created_at=now,
            updated_at=now,
        )

    def timed(write, objs) -> float:
        with transaction.atomic():
            start = time.perf_counter()
            for obj in objs:
                write(obj)
            return (time.perf_counter() - start) / len(objs)

    out: dict[str, float] = {}
    cases = [case() for _ in range(n)]
    out["case, rows.add"] = timed(rows.add, cases)
    notes = [
        Note(case=c, body_text=description, channel=channel, created_at=clock.now()) for c in cases
    ]
    out["note, rows.add"] = timed(rows.add, notes)

    head, tail, columns, _ = rows._plan(Case, "default")
    sql = head + "(" + ", ".join(["?"] * len(columns)) + ")" + tail
    raw = connection.connection

    def values(obj: Case) -> list:
        return [
            convert(field.pre_save(obj, True) if prepares else getattr(obj, attname))
            for attname, field, prepares, convert in columns
        ]

    def bare(params: list) -> None:
        raw.execute(sql, params).fetchall()

    out["case, bare sqlite3, search trigger"] = timed(bare, [values(case()) for _ in range(n)])
    with connection.cursor() as cur:
        cur.execute("DROP TRIGGER search_case_insert")
    out["case, bare sqlite3, no search trigger"] = timed(bare, [values(case()) for _ in range(n)])
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()
    env = common.prepare_environment("sqlite")
    common.setup_django()
    raws, _ = realistic(args.n, args.seed)
    cold, warm = parse_cost(raws)
    print(
        f"parse, {len(raws)} realistic messages: cold {cold * 1e3:.2f} ms, warm {warm * 1e3:.2f} ms CPU each"
    )
    for what, (wall, user, system) in keep_cost(raws).items():
        print(
            f"parse worker, {what}: {wall * 1e3:.2f} ms wall, {user * 1e3:.2f} ms user, "
            f"{system * 1e3:.2f} ms system per message"
        )
    # a typical body of the corpus: the first message's text, as its case description
    from atiende.channels.email import inbound

    first = inbound.parse(
        raws[0],
        channel="correo",
        own_addresses=frozenset(),
        envelope_sender=None,
        trusted_authserv_ids=frozenset(),
    )
    body = first.message.body_text
    print(f"rows: {args.n} each, description/body of {len(body)} characters, one transaction each")
    for what, seconds in row_costs(args.n, body).items():
        print(f"  {what}: {seconds * 1e6:.0f} µs per row")
    print(f"command: .venv/bin/python bench/bench_intake_parts.py --n {args.n} --seed {args.seed}")
    common.drop_environment(env)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
