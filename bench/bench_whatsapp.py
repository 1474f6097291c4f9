"""WhatsApp webhook intake: 1,000 signed text notifications posted 20 at a time.

    .venv/bin/python bench/bench_whatsapp.py --db sqlite
    .venv/bin/python bench/bench_whatsapp.py --db postgres

Measures the acknowledgement latency (signature check + one INSERT into the inbox; target
p99 < 50 ms) and the end-to-end rate: from the first POST until every message is an
inbound note, processed by `atiende worker` processes while the posts keep coming. The
monitoring line is used, so every message becomes a note (50 customers, 20 messages each:
the first opens a critical incident, the rest join it). A local Graph API peer answers the
acknowledgements, pages and read receipts the worker sends.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench import common

SECRET = "bench-secret"
PHONE_ID = "106540352242922"


def start_graph_peer():
    """The tests' local Graph API peer, and this process's environment pointing the
    monitoring line at it (the worker processes started later inherit it). Stop it after."""
    from atiende.channels.whatsapp.tests.peer import GraphPeer

    peer = GraphPeer(token="bench-token").start()
    os.environ.update(
        {
            "ATIENDE_WHATSAPP_APP_SECRET": SECRET,
            "ATIENDE_WHATSAPP_VERIFY_TOKEN": "bench",
            "ATIENDE_WHATSAPP_ACCESS_TOKEN": peer.token,
            "ATIENDE_WHATSAPP_GRAPH_URL": peer.base,
            "ATIENDE_WA_MONITOREO_PHONE_NUMBER_ID": PHONE_ID,
        }
    )
    return peer


def signed_bodies(n: int, contacts: int, prefix: str = "BENCH") -> list[tuple[bytes, str]]:
    from atiende.channels.whatsapp import simulate

    bodies = []
    now = int(time.time())
    for i in range(n):
        body = simulate.text_notification(
            phone_number_id=PHONE_ID,
            display_phone_number="573184872656",
            wa_id=f"5730010{i % contacts:05d}",
            text=f"Mensaje {i}: servicio caído",
            name=f"Cliente {i % contacts}",
            message_id=f"wamid.{prefix}{i:06d}",
            timestamp=now,
        )
        raw = simulate.encode(body)
        bodies.append((raw, simulate.sign(SECRET, raw)))
    return bodies


def _requests(n: int, contacts: int, prefix: str = "BENCH") -> list[tuple[dict[str, str], bytes]]:
    return [
        ({"Content-Type": "application/json", "X-Hub-Signature-256": sig}, raw)
        for raw, sig in signed_bodies(n, contacts, prefix)
    ]


def post_all_wrk(base: str, n: int, concurrency: int, contacts: int) -> tuple[dict, float]:
    """Post with wrk (see common.wrk_post)."""
    requests = _requests(n, contacts)
    start = time.perf_counter()
    return common.wrk_post(base, "/webhooks/whatsapp", requests, concurrency=concurrency), start


def post_all(
    base: str, n: int, concurrency: int, contacts: int, prefix: str = "BENCH"
) -> tuple[list[float], float]:
    """Post from Python threads (see common.python_post)."""
    requests = _requests(n, contacts, prefix)
    start = time.perf_counter()
    latencies, _ = common.python_post(base, "/webhooks/whatsapp", requests, concurrency=concurrency)
    return latencies, start


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("-n", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument("--contacts", type=int, default=50)
    parser.add_argument(
        "--workers",
        type=int,
        default=None,
        help="worker processes (default: 1 SQLite, 2 PostgreSQL)",
    )
    parser.add_argument(
        "--phased",
        action="store_true",
        help="start the workers only after every webhook was acknowledged (ack latency alone)",
    )
    common.add_client_option(parser, "the webhooks")
    parser.add_argument(
        "--server-threads", type=int, default=4, help="threads per web process (as atiende serve)"
    )
    args = parser.parse_args()
    env = common.prepare_environment(args.db)
    workers = args.workers or (1 if args.db == "sqlite" else 2)
    peer = start_graph_peer()
    try:
        common.setup_django()
        from atiende.cases.models import Note

        with common.server(threads=args.server_threads) as base:

            def wait_for_notes(prefix: str, count: int) -> None:
                notes = Note.objects.filter(external_id__startswith=prefix)
                common.wait_for_rows(notes, count, "the notes")

            # Warm-up, not timed: every server process and thread makes its first request
            # (imports, URL resolver, database connection), as a long-running server has,
            # and the workers (unless --phased) are up and have processed those webhooks:
            # what is measured is a running service, not processes starting.
            procs = [] if args.phased else common.start_workers(workers)
            warm = 10 * args.concurrency
            post_all(base, warm, args.concurrency, args.contacts, "WARMUP")
            if procs:
                wait_for_notes("wamid.WARMUP", warm)
            try:
                if args.client == "wrk":
                    wrk, start = post_all_wrk(base, args.n, args.concurrency, args.contacts)
                    ack = (wrk["p50"], wrk["p99"], wrk["max"])
                    posted = int(wrk["requests"])
                    acked = wrk["seconds"]
                else:
                    latencies, start = post_all(base, args.n, args.concurrency, args.contacts)
                    ms = sorted(x * 1000 for x in latencies)
                    ack = (common.percentile(ms, 50), common.percentile(ms, 99), ms[-1])
                    posted = len(ms)
                    acked = time.perf_counter() - start
                if args.phased:
                    procs = common.start_workers(workers)
                    start = time.perf_counter()
                wait_for_notes("wamid.BENCH", args.n)
                stored = time.perf_counter() - start
            finally:
                common.stop_workers(procs)
        mode = (
            "workers started after the acks"
            if args.phased
            else "workers processing while posts arrive"
        )
        print(
            f"WhatsApp webhooks ({args.db}, {args.n} signed text notifications, {args.concurrency} concurrent, "
            f"{args.contacts} customers, {workers} worker process(es), {mode}, client {args.client})"
        )
        print(
            f"  acknowledgement: p50 {ack[0]:.1f} ms, p99 {ack[1]:.1f} ms, max {ack[2]:.1f} ms "
            f"over {posted} posts; all acknowledged in {acked:.1f} s ({posted / acked:.0f} webhooks/s)"
        )
        since = "from the workers' start" if args.phased else "from the first POST"
        print(
            f"  end to end: {args.n} inbound notes stored in {stored:.1f} s {since} = {args.n / stored:.0f} messages/s"
        )
        print(f"  command: .venv/bin/python bench/bench_whatsapp.py {' '.join(sys.argv[1:])}")
    finally:
        peer.stop()
        common.drop_environment(env)


if __name__ == "__main__":
    main()
