"""Who takes the cores while a bench runs: every process's CPU (from /proc), summed by kind
(web server, job workers, PostgreSQL, wrk, the bench itself), per interval.

    .venv/bin/python bench/cpu_by_process.py -- .venv/bin/python bench/bench_phone.py --db postgres

Prints one line per interval in which the machine was busy (cores used by each kind), then
the command's own output. Linux only (reads /proc/<pid>/stat).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import threading
import time

TICK = os.sysconf("SC_CLK_TCK")


def kind(cmdline: str) -> str:
    if "serve" in cmdline or "gunicorn" in cmdline:
        return "web"
    if " worker" in cmdline:
        return "worker"
    if cmdline.startswith("postgres"):
        return "postgres"
    if "wrk" in cmdline:
        return "wrk"
    if "bench" in cmdline:
        return "bench"
    return "other"


def snapshot() -> dict[str, tuple[float, str]]:
    """pid -> (CPU seconds so far, kind)."""
    out = {}
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/stat") as f:
                stat = f.read()
            with open(f"/proc/{pid}/cmdline") as f:
                cmdline = f.read().replace("\0", " ").strip()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        # kernel threads have no command line: counted with "other"
        out[pid] = ((int(fields[11]) + int(fields[12])) / TICK, kind(cmdline))
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--interval", type=float, default=0.2)
    parser.add_argument("--busy", type=float, default=0.3, help="print intervals above this")
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args()
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("give the command to run after --")
    lines: list[str] = []
    done = threading.Event()

    def sample() -> None:
        start = time.monotonic()
        before, at = snapshot(), start
        while not done.wait(args.interval):
            now_snap, now = snapshot(), time.monotonic()
            used: dict[str, float] = {}
            for pid, (cpu, k) in now_snap.items():
                if pid in before:
                    used[k] = used.get(k, 0.0) + max(0.0, cpu - before[pid][0])
            span = now - at
            if sum(used.values()) / span >= args.busy:
                cores = "  ".join(f"{k}={v / span:.2f}" for k, v in sorted(used.items()) if v)
                lines.append(f"{now - start:7.1f} s  {cores}")
            before, at = now_snap, now

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    result = subprocess.run(command, capture_output=True, text=True)
    done.set()
    sampler.join()
    print("cores used by kind of process, per interval (busy intervals only):")
    print("\n".join(lines))
    print(result.stdout, end="")
    print(result.stderr[-2000:], end="", file=sys.stderr)
    sys.exit(result.returncode)


if __name__ == "__main__":
    main()
