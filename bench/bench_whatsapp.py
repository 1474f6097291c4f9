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
import http.client
import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench import common

SECRET = "bench-secret"
PHONE_ID = "106540352242922"


def post_all(base: str, n: int, concurrency: int, contacts: int) -> tuple[list[float], float]:
    from atiende.channels.whatsapp import simulate

    host, port = urlsplit(base).hostname, urlsplit(base).port
    bodies = []
    now = int(time.time())
    for i in range(n):
        body = simulate.text_notification(
            phone_number_id=PHONE_ID,
            display_phone_number="573184872656",
            wa_id=f"5730010{i % contacts:05d}",
            text=f"Mensaje {i}: servicio caído",
            name=f"Cliente {i % contacts}",
            message_id=f"wamid.BENCH{i:06d}",
            timestamp=now,
        )
        raw = simulate.encode(body)
        bodies.append((raw, simulate.sign(SECRET, raw)))
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    chunks = [bodies[k::concurrency] for k in range(concurrency)]

    def work(mine):
        conn = http.client.HTTPConnection(host, port, timeout=30)
        for raw, sig in mine:
            t = time.perf_counter()
            conn.request(
                "POST",
                "/webhooks/whatsapp",
                raw,
                {"Content-Type": "application/json", "X-Hub-Signature-256": sig},
            )
            resp = conn.getresponse()
            data = resp.read()
            took = time.perf_counter() - t
            with lock:
                latencies.append(took)
                if resp.status != 200:
                    errors.append(f"{resp.status} {data[:200]!r}")
        conn.close()

    threads = [threading.Thread(target=work, args=(c,)) for c in chunks]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise SystemExit(f"{len(errors)} webhook errors, first: {errors[0]}")
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
    args = parser.parse_args()
    env = common.prepare_environment(args.db)
    workers = args.workers or (1 if args.db == "sqlite" else 2)
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
    try:
        common.setup_django()
        from atiende.cases.models import Note

        with common.server(threads=8) as base:

            def start_workers():
                return [
                    subprocess.Popen(
                        [str(common.BIN / "atiende"), "worker", "--idle-sleep", "0.05"],
                        env=os.environ.copy(),
                        stdout=subprocess.DEVNULL,
                        stderr=subprocess.DEVNULL,
                    )
                    for _ in range(workers)
                ]

            procs = [] if args.phased else start_workers()
            try:
                latencies, start = post_all(base, args.n, args.concurrency, args.contacts)
                acked = time.perf_counter() - start
                if args.phased:
                    procs = start_workers()
                    start = time.perf_counter()
                deadline = time.time() + 600
                while Note.objects.filter(external_id__startswith="wamid.BENCH").count() < args.n:
                    if time.time() > deadline:
                        raise SystemExit("timed out waiting for the notes")
                    time.sleep(0.1)
                stored = time.perf_counter() - start
            finally:
                for p in procs:
                    p.terminate()
                for p in procs:
                    p.wait(10)
        ms = sorted(x * 1000 for x in latencies)
        mode = (
            "workers started after the acks"
            if args.phased
            else "workers processing while posts arrive"
        )
        print(
            f"WhatsApp webhooks ({args.db}, {args.n} signed text notifications, {args.concurrency} concurrent, "
            f"{args.contacts} customers, {workers} worker process(es), {mode})"
        )
        print(
            f"  acknowledgement: p50 {common.percentile(ms, 50):.1f} ms, p99 {common.percentile(ms, 99):.1f} ms, "
            f"max {ms[-1]:.1f} ms; all acknowledged in {acked:.1f} s ({args.n / acked:.0f} webhooks/s)"
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
