"""Phone (generic CTI) webhook intake: PBX events posted 20 at a time.

    .venv/bin/python bench/bench_phone.py --db sqlite
    .venv/bin/python bench/bench_phone.py --db postgres

Measures the acknowledgement latency a PBX waits for while the phone rings (token check,
shape check, the block-list lookup for `newCall`, one INSERT into the inbox; target p99 <
50 ms) and the end-to-end rate: from the first POST until every event is applied to the
call log by `atiende worker` processes running while the posts keep coming. The calls go to
the Bogotá line from 200 callers; one in five is missed (newCall, hangup: busy), which opens
or joins a callback case; the rest are answered (newCall, answer, hangup).

Then the console's live region (`/console/llamadas/en-vivo`), which every open console page
polls every 2 s: an agent on a call with a caller who has open cases, polled one request
at a time (the server's time plus a loopback round trip) — the full screen pop, and the
204 answered while nothing changed — and by `--concurrency` agents at once.
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


def bench_pop(base: str, path: str, concurrency: int, n: int = 300) -> dict:
    """Poll the live region as the agent who answered a call from a caller with open cases."""
    import http.client
    import re
    from concurrent.futures import ThreadPoolExecutor
    from urllib.parse import urlsplit

    from django.test import Client

    from atiende.accounts import services as accounts
    from atiende.channels.phone import selectors
    from atiende.channels.phone.models import AgentPhone, Call
    from atiende.worker import queue as jobs

    agent = accounts.create_user(email="pop@bench.test", name="Pop Bench", role="agent")
    AgentPhone.objects.create(user=agent, extension="299")
    # the caller with the most callback cases
    caller = (
        Call.objects.filter(callback=True).values_list("from_raw", flat=True).order_by("id").first()
    )
    call = {"from": caller, "to": "6017442727", "direction": "in", "callId": "POP-1"}
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {TOKEN}"}
    common.python_post(
        base,
        path,
        [
            (headers, json.dumps({"event": "newCall", **call}).encode()),
            (headers, json.dumps({"event": "answer", **call, "answeringNumber": "299"}).encode()),
        ],
        concurrency=1,
    )
    deadline = time.time() + 60
    while not Call.objects.filter(call_id="POP-1", agent=agent).exists():
        if time.time() > deadline:
            jobs.run_pending(100)  # the workers are gone or slow: do it here
        time.sleep(0.1)
    client = Client()
    client.force_login(agent)
    cookie = f"sessionid={client.cookies['sessionid'].value}"
    host = urlsplit(base)

    def get(url: str) -> tuple[float, int, bytes]:
        conn = http.client.HTTPConnection(host.hostname, host.port, timeout=30)
        t0 = time.perf_counter()
        conn.request("GET", url, headers={"Cookie": cookie, "HX-Request": "true"})
        resp = conn.getresponse()
        body = resp.read()
        took = time.perf_counter() - t0
        conn.close()
        return took, resp.status, body

    live = "/console/llamadas/en-vivo"
    _, status, body = get(live)
    assert status == 200 and b"call-pop" in body, (status, body[:300])
    version = re.search(rb"en-vivo\?v=(\w+)", body).group(1).decode()

    full = []
    for _ in range(n):
        took, status, _ = get(live)
        assert status == 200, status
        full.append(took * 1000)
    same: list[float] = []
    while len(same) < n:
        took, status, body = get(f"{live}?v={version}")
        if status == 200:  # a new minute redraws the SLA clocks: take the new version
            version = re.search(rb"en-vivo\?v=(\w+)", body).group(1).decode()
            continue
        assert status == 204, status
        same.append(took * 1000)
    full.sort()
    same.sort()
    start = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        crowd = sorted(t * 1000 for t, _, _ in pool.map(lambda _: get(live), range(n)))
    crowd_seconds = time.perf_counter() - start
    pop_call = Call.objects.get(call_id="POP-1")
    return {
        "cases": len(selectors.open_cases_for(pop_call)),
        "full": (common.percentile(full, 50), common.percentile(full, 99)),
        "same": (common.percentile(same, 50), common.percentile(same, 99)),
        "crowd": (common.percentile(crowd, 50), common.percentile(crowd, 99)),
        "crowd_rate": n / crowd_seconds,
    }


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
                pop = bench_pop(base, path, args.concurrency)
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
        print(
            f"  live region (screen pop with {pop['cases']} open cases): full render p50 "
            f"{pop['full'][0]:.1f} ms, p99 {pop['full'][1]:.1f} ms; unchanged (204) p50 "
            f"{pop['same'][0]:.1f} ms, p99 {pop['same'][1]:.1f} ms, one request at a time; "
            f"{args.concurrency} agents polling at once: p99 {pop['crowd'][1]:.1f} ms, "
            f"{pop['crowd_rate']:.0f} polls/s"
        )
        print(f"  command: .venv/bin/python bench/bench_phone.py {' '.join(sys.argv[1:])}")
    finally:
        common.drop_environment(env)


if __name__ == "__main__":
    main()
