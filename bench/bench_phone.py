"""Phone (generic CTI) webhook intake: PBX events posted 20 at a time.

    .venv/bin/python bench/bench_phone.py --db sqlite
    .venv/bin/python bench/bench_phone.py --db postgres

Measures the acknowledgement latency a PBX waits for while the phone rings (token check,
shape check, the block-list lookup for `newCall`, one INSERT into the inbox; target p99 <
50 ms) and the end-to-end rate: from the first POST until every event is applied to the
call log by `atiende worker` processes running while the posts keep coming. The calls go to
the Bogotá line from 200 callers; one in five is missed (newCall, hangup: busy), which opens
or joins a callback case; the rest are answered (newCall, answer, hangup).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench import common

TOKEN = "bench-cti-token"
LINE = "linea-bogota"


def events(n: int, callers: int, prefix: str = "BENCH") -> list[dict]:
    """About `n` events of whole calls, in the order a PBX sends them."""
    out: list[dict] = []
    i = 0
    while len(out) < n:
        base = {
            "from": f"300{1000000 + i % callers:07d}",
            "to": "6017442727",
            "direction": "in",
            "callId": f"{prefix}-{i:06d}",
        }
        missed = i % 5 == 4
        out.append({"event": "newCall", **base, "queue": "soporte", "user": ["Ana", "Bruno"]})
        if not missed:
            out.append({"event": "answer", **base, "answeringNumber": "201"})
        out.append({"event": "hangup", **base, "cause": "busy" if missed else "normalClearing"})
        i += 1
    return out[:n]


def _requests(n: int, callers: int, prefix: str = "BENCH") -> list[tuple[dict[str, str], bytes]]:
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {TOKEN}"}
    return [(headers, json.dumps(e).encode()) for e in events(n, callers, prefix)]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("-n", type=int, default=1500, help="events (default 1500, ~500 calls)")
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument("--callers", type=int, default=200)
    parser.add_argument(
        "--workers",
        type=int,
        default=None,
        help="worker processes (default: 1 SQLite, 2 PostgreSQL)",
    )
    common.add_client_option(parser, "the PBX posts")
    parser.add_argument(
        "--server-threads", type=int, default=4, help="threads per web process (as atiende serve)"
    )
    args = parser.parse_args()
    env = common.prepare_environment(args.db)
    workers = args.workers or (1 if args.db == "sqlite" else 2)
    os.environ["ATIENDE_CTI_LINEA_BOGOTA_TOKEN"] = TOKEN
    path = f"/webhooks/cti/{LINE}"
    try:
        common.setup_django()
        from atiende.channels.phone.models import CallEvent

        with common.server(threads=args.server_threads) as base:
            procs = common.start_workers(workers)

            def wait_for_events(prefix: str, count: int) -> None:
                events = CallEvent.objects.filter(pbx_call_id__startswith=prefix)
                common.wait_for_rows(events, count, "the call log")

            try:
                # Warm-up, not timed: every server process and thread has served a request
                # and the workers are running, as in a long-running service.
                warm = 10 * args.concurrency
                common.python_post(
                    base,
                    path,
                    _requests(warm, args.callers, "WARMUP"),
                    concurrency=args.concurrency,
                )
                wait_for_events("WARMUP", warm)
                requests = _requests(args.n, args.callers)
                start = time.perf_counter()
                if args.client == "wrk":
                    wrk = common.wrk_post(base, path, requests, concurrency=args.concurrency)
                    ack = (wrk["p50"], wrk["p99"], wrk["max"])
                    posted, acked = int(wrk["requests"]), wrk["seconds"]
                else:
                    latencies, acked = common.python_post(
                        base, path, requests, concurrency=args.concurrency
                    )
                    ms = sorted(x * 1000 for x in latencies)
                    ack = (common.percentile(ms, 50), common.percentile(ms, 99), ms[-1])
                    posted = len(ms)
                wait_for_events("BENCH", args.n)
                stored = time.perf_counter() - start
            finally:
                common.stop_workers(procs)
        print(
            f"Phone CTI webhooks ({args.db}, {args.n} events of ~{args.n * 5 // 14} calls, "
            f"{args.concurrency} concurrent, {args.callers} callers, {workers} worker process(es) "
            f"processing while posts arrive, client {args.client})"
        )
        print(
            f"  acknowledgement: p50 {ack[0]:.1f} ms, p99 {ack[1]:.1f} ms, max {ack[2]:.1f} ms "
            f"over {posted} posts; all acknowledged in {acked:.1f} s ({posted / acked:.0f} events/s)"
        )
        print(
            f"  end to end: {args.n} events applied to the call log in {stored:.1f} s from the "
            f"first POST = {args.n / stored:.0f} events/s"
        )
        print(f"  command: .venv/bin/python bench/bench_phone.py {' '.join(sys.argv[1:])}")
    finally:
        common.drop_environment(env)


if __name__ == "__main__":
    main()
