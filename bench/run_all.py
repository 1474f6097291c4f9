"""Run every benchmark on SQLite and PostgreSQL; print the figures and keep them in
bench/results/<name>-<db>.txt. `make bench` runs this; each script also runs alone (see its
docstring). The PostgreSQL runs need the server on 127.0.0.1:5432 (user postgres)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"

RUNS = [
    ("calendar", ["bench_calendar.py", "--n", "100000", "--seed", "1"], [None]),
    ("cases", ["bench_cases.py"], ["sqlite", "postgres"]),
    ("sweep", ["bench_sweep.py"], ["sqlite", "postgres"]),
    ("email", ["bench_email.py"], ["sqlite", "postgres"]),
    ("pipe", ["bench_pipe.py"], ["sqlite", "postgres"]),
    ("whatsapp", ["bench_whatsapp.py"], ["sqlite", "postgres"]),
    ("phone", ["bench_phone.py"], ["sqlite", "postgres"]),
    ("console", ["bench_console.py"], ["sqlite", "postgres"]),
    ("portal", ["bench_portal.py", "--cases", "1000000"], ["sqlite", "postgres"]),
]


def main() -> int:
    RESULTS.mkdir(exist_ok=True)
    only = set(sys.argv[1:])
    failed = 0
    for name, argv, dbs in RUNS:
        if only and name not in only:
            continue
        for db in dbs:
            cmd = [sys.executable, str(HERE / argv[0]), *argv[1:], *(["--db", db] if db else [])]
            print(f"$ {' '.join(cmd)}", flush=True)
            proc = subprocess.run(cmd, capture_output=True, text=True)
            out = proc.stdout + (proc.stderr if proc.returncode else "")
            print(out, flush=True)
            (RESULTS / f"{name}-{db or 'any'}.txt").write_text(out)
            failed += proc.returncode != 0
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
