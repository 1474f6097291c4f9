"""The MTA pipe: one `atiende ingest-email` process per message, as Postfix or Exim run it.

    .venv/bin/python bench/bench_pipe.py --db sqlite
    .venv/bin/python bench/bench_pipe.py --db postgres [--n 300 --direct-n 30 --latency-n 40]

Messages are the realistic corpus (`../shared/bench/gen_emails.py --seed 42`, the same as
`bench_email.py --corpus realistic`), every one different. Four measurements, in order:

1. the pipe: wall time of each `atiende ingest-email --channel correo` child process,
   message on stdin, interpreter start and the fsyncs included, no worker running
   (`--n` messages into the spool);
2. the old way, `ingest-email --direct` (Django, stored in the process), for comparison;
3. draining: a worker (`atiende worker`) started on the `--n` spooled files, time until
   the spool is empty;
4. pipe to stored note, with that worker running: each message is piped after a random
   pause (0-1 s, so arrivals fall anywhere in the worker's one-second round) and timed from
   the start of the pipe until its spool file is gone, which happens right after the commit
   of its note.

Then every message must be stored exactly once with its attachments byte-identical
(`bench_email.check_realistic`).
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench import common
from bench.bench_email import check_realistic, realistic

ATIENDE = str(common.BIN / "atiende")


def pipe(raw: bytes, *args: str) -> float:
    t = time.perf_counter()
    done = subprocess.run(
        [ATIENDE, "ingest-email", "--channel", "correo", *args],
        input=raw,
        capture_output=True,
        env=os.environ.copy(),
    )
    elapsed = time.perf_counter() - t
    if done.returncode != 0:
        raise RuntimeError(f"ingest-email exited {done.returncode}: {done.stderr.decode()}")
    return elapsed


def waiting(spool_dir: Path) -> list[Path]:
    return list(spool_dir.glob("*.eml")) + list(spool_dir.glob("claimed/*/*.eml"))


def line(what: str, samples: list[float]) -> str:
    ms = [s * 1000 for s in samples]
    return (
        f"| {what} | {len(ms)} | {statistics.median(ms):.1f} | {common.percentile(ms, 95):.1f} "
        f"| {min(ms):.1f} | {max(ms):.1f} |"
    )


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--n", type=int, default=300, help="messages piped into the spool")
    parser.add_argument("--direct-n", type=int, default=30, help="messages through --direct")
    parser.add_argument("--latency-n", type=int, default=40, help="messages timed to the note")
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()
    env = common.prepare_environment(args.db)
    worker = None
    try:
        common.setup_django()
        from django.db import connections

        from atiende.cases.models import Note

        total = args.n + args.direct_n + args.latency_n
        raws, manifest = realistic(total - 3, args.seed)  # the generator adds 3 raw Latin-1
        spool_dir = Path(env["ATIENDE_DATA_DIR"]) / "spool" / "email" / "correo"
        connections.close_all()
        uptime = subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()

        for raw in raws[:3]:  # warm the page cache for the interpreter and our modules
            subprocess.run(
                [ATIENDE, "ingest-email", "--channel", "calentamiento"],
                input=raw,
                capture_output=True,
                check=True,
            )
        spooled = [pipe(raw) for raw in raws[: args.n]]
        assert len(waiting(spool_dir)) == args.n, "one spool file per message"
        direct = [pipe(raw, "--direct") for raw in raws[args.n : args.n + args.direct_n]]

        t = time.perf_counter()
        worker = subprocess.Popen(
            [ATIENDE, "worker"], env=os.environ.copy(), stderr=subprocess.DEVNULL
        )
        while waiting(spool_dir):
            time.sleep(0.01)
        drained = time.perf_counter() - t

        pause = random.Random(args.seed)
        to_note = []
        for raw in raws[args.n + args.direct_n :]:
            time.sleep(pause.random())
            t = time.perf_counter()
            pipe(raw)
            while waiting(spool_dir):
                time.sleep(0.002)
            to_note.append(time.perf_counter() - t)
        worker.send_signal(signal.SIGTERM)
        worker.wait(30)
        worker = None

        stored = Note.objects.filter(direction="inbound").count()
        verdict = check_realistic(raws, manifest)
        print(f"machine load before the runs: {uptime}")
        print(f"{stored} inbound notes; {verdict}")
        print()
        print(f"database: {args.db}")
        print("| measurement | messages | median ms | p95 ms | min ms | max ms |")
        print("|---|---|---|---|---|---|")
        print(line("`ingest-email` (spool), whole process", spooled))
        print(line("`ingest-email --direct` (Django, stored), whole process", direct))
        print(line("pipe → stored note, worker running", to_note))
        print(
            f"\ndraining {args.n} spooled messages with one worker (start included): "
            f"{drained:.1f} s, {args.n / drained:.0f} messages/s"
        )
        print(
            f"\ncommand: .venv/bin/python bench/bench_pipe.py --db {args.db} --n {args.n} "
            f"--direct-n {args.direct_n} --latency-n {args.latency_n} --seed {args.seed}"
        )
        return 0
    finally:
        if worker is not None:
            worker.kill()
            worker.wait()
        common.drop_environment(env)


if __name__ == "__main__":
    sys.exit(main())
