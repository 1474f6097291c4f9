"""Shared bench plumbing: a throwaway database, Django setup, a server subprocess, timing."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def prepare_environment(db: str) -> dict[str, str]:
    """Point this process (and its children) at a fresh database: 'sqlite' or 'postgres'.

    The children (`atiende serve`, `worker`, `poll-email`) import atiende from the tree
    this bench belongs to: the virtualenv's `atiende` command would otherwise import the
    checkout the package was installed from, and a bench run from another tree (a copy of
    an older commit, to compare) would time the installed checkout's code in its children."""
    data_dir = tempfile.mkdtemp(prefix=f"atiende-bench-{db}-")
    path = os.environ.get("PYTHONPATH", "")
    env = {
        "PYTHONPATH": str(ROOT) + (os.pathsep + path if path else ""),
        "ATIENDE_DATA_DIR": data_dir,
        "DJANGO_SETTINGS_MODULE": os.environ.get("DJANGO_SETTINGS_MODULE", "atiende.settings"),
        "ATIENDE_LOG_LEVEL": "WARNING",
    }
    if db == "postgres":
        name = f"atiende_bench_{os.getpid()}"
        _psql(f"DROP DATABASE IF EXISTS {name}", f"CREATE DATABASE {name}", check=True)
        env["DATABASE_URL"] = f"postgres://postgres@127.0.0.1:5432/{name}"
    else:
        os.environ.pop("DATABASE_URL", None)
    os.environ.update(env)
    return env


def _psql(*statements: str, check: bool) -> None:
    commands = [arg for sql in statements for arg in ("-c", sql)]
    subprocess.run(
        ["psql", "-q", "-h", "127.0.0.1", "-U", "postgres", *commands],
        check=check,
        capture_output=True,
    )


def drop_environment(env: dict[str, str]) -> None:
    """Drop the bench's PostgreSQL database, even with this process (or a server it
    started) still connected: a bench must not leave databases behind on the machine."""
    url = env.get("DATABASE_URL")
    if url:
        if "django" in sys.modules:
            from django.db import connections

            connections.close_all()
        _psql(f"DROP DATABASE IF EXISTS {url.rsplit('/', 1)[-1]} WITH (FORCE)", check=True)


def setup_django() -> None:
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", interactive=False, verbosity=0)
    from django.conf import settings

    from atiende.configuration import loader

    loader.load_if_empty(settings.ATIENDE_CONFIG)


def add_client_option(parser, what: str) -> None:
    parser.add_argument(
        "--client",
        choices=["wrk", "python"],
        default="wrk" if shutil.which("wrk") else "python",
        help=f"load generator for {what}: wrk (apt-get install wrk; the default when "
        "installed) or Python threads (http.client), which take CPU from the server on two cores",
    )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def server(threads: int = 2) -> Iterator[str]:
    """Run `atiende serve` (gunicorn, no job worker) against the bench database; yields
    its address once every web process has said it is ready (its request threads started
    and connected to the database), so a bench's warm-up reaches all of them."""
    from atiende.core.management.commands.serve import _default_web_workers

    processes = int(os.environ.get("ATIENDE_WEB_WORKERS", _default_web_workers()))
    port = free_port()
    # The server's log goes to a file (a pipe nobody reads would fill and stall it).
    log_path = Path(os.environ.get("ATIENDE_DATA_DIR", tempfile.gettempdir())) / "bench-server.log"
    log = open(log_path, "wb")  # noqa: SIM115 (closed in the finally below)
    proc = subprocess.Popen(
        [
            str(BIN / "atiende"),
            "serve",
            "--no-worker",
            "--bind",
            f"127.0.0.1:{port}",
            "--web-workers",
            str(processes),
            "--threads",
            str(threads),
        ],
        env=os.environ.copy(),
        stdout=subprocess.DEVNULL,
        stderr=log,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 60
        while log_path.read_bytes().count(b"web process") < processes:
            if proc.poll() is not None:
                raise RuntimeError(log_path.read_text(errors="replace"))
            if time.time() > deadline:
                raise RuntimeError(f"the server's processes did not start:\n{log_path.read_text()}")
            time.sleep(0.1)
        yield base
    finally:
        proc.terminate()
        proc.wait(10)
        log.close()
        print(f"server log: {log_path}", file=sys.stderr)


def wsgi_post(path: str, body: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
    """POST `body` through `atiende.wsgi.application` in this process — what the web
    server calls for a request, without the server: (status, body). `headers` are WSGI
    environ keys (`HTTP_AUTHORIZATION`, `CONTENT_TYPE`, …)."""
    import io

    from atiende.wsgi import application

    environ = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": path,
        "SCRIPT_NAME": "",
        "QUERY_STRING": "",
        "CONTENT_LENGTH": str(len(body)),
        "SERVER_NAME": "localhost",
        "SERVER_PORT": "8000",
        "HTTP_HOST": "localhost:8000",
        "REMOTE_ADDR": "127.0.0.1",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "wsgi.input": io.BytesIO(body),
        "wsgi.url_scheme": "http",
        "wsgi.errors": sys.stderr,
        **headers,
    }
    status: list[str] = []
    chunks = application(environ, lambda line, _headers, _exc=None: status.append(line))
    try:
        content = b"".join(chunks)
    finally:
        chunks.close()
    return int(status[0].split()[0]), content


def percentile(samples: list[float], p: float) -> float:
    ordered = sorted(samples)
    k = max(0, min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1))))
    return ordered[k]


def summary_ms(samples: list[float]) -> str:
    ms = [s * 1000 for s in samples]
    return (
        f"p50 {statistics.median(ms):.1f} ms, p95 {percentile(ms, 95):.1f} ms, max {max(ms):.1f} ms"
    )


def sync_case_sequence(last: int) -> None:
    """After a bulk load of numbered cases, make the next number follow them."""
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cur:
            cur.execute("SELECT setval('cases_case_number_seq', %s)", [last])


def seed_organizations(n: int) -> None:
    """Organizations org-0 .. org-(n-1) for the bench data to spread over."""
    from atiende.customers import services as customers

    for i in range(n):
        customers.create_organization(slug=f"org-{i}", name=f"Organización {i}")


def wrk_post(
    base: str,
    path: str,
    requests: list[tuple[dict[str, str], bytes]],
    *,
    concurrency: int,
    expect: int = 200,
) -> dict[str, float]:
    """POST `requests` (headers, body) with wrk: C, one thread, `concurrency` keep-alive
    connections, so the load generator takes little of the cores the server needs.
    Returns wrk's counts and latencies (ms) and `seconds`, until every request was answered."""
    import signal

    if not shutil.which("wrk"):
        raise SystemExit("wrk is not installed (apt-get install wrk), or use --client python")
    with tempfile.NamedTemporaryFile("wb", suffix=".requests", delete=False) as f:
        for headers, body in requests:
            assert b"\n" not in body and b"\t" not in body
            fields = [f"{k}: {v}".encode() for k, v in headers.items()]
            f.write(b"\t".join([*fields, body]) + b"\n")
    done_file = f.name + ".done"
    env = os.environ | {
        "REQUESTS": f.name,
        "DONE_FILE": done_file,
        "WRK_PATH": path,
        "EXPECT": str(expect),
    }
    start = time.perf_counter()
    proc = subprocess.Popen(
        [
            "wrk",
            "-t",
            "1",
            "-c",
            str(concurrency),
            "-d",
            "600s",
            "--timeout",
            "30s",
            "-s",
            str(Path(__file__).with_name("wrk_post.lua")),
            base,
        ],
        env=env,
        stdout=subprocess.PIPE,
        text=True,
    )
    while not os.path.exists(done_file) and proc.poll() is None:
        time.sleep(0.005)
    seconds = time.perf_counter() - start
    proc.send_signal(signal.SIGINT)  # wrk stops and reports through done()
    out = proc.communicate(timeout=60)[0]
    for name in (f.name, done_file):
        with contextlib.suppress(FileNotFoundError):
            os.unlink(name)
    line = next((x for x in out.splitlines() if x.startswith("RESULT ")), None)
    if line is None:
        raise SystemExit(f"wrk gave no result: {out[-500:]}")
    result: dict[str, float] = {k: int(v) for k, v in (kv.split("=") for kv in line.split()[1:])}
    if result["errors"] or result["unexpected"]:
        raise SystemExit(f"wrk saw errors: {line}")
    for key in ("p50", "p95", "p99", "max"):
        result[key] = result.pop(f"{key}_us") / 1000
    result["seconds"] = seconds
    return result


def python_post(
    base: str,
    path: str,
    requests: list[tuple[dict[str, str], bytes]],
    *,
    concurrency: int,
    expect: int = 200,
) -> tuple[list[float], float]:
    """POST `requests` from `concurrency` Python threads (stdlib http.client, keep-alive),
    the fallback when wrk is missing. Returns each request's latency (s) and the seconds
    until all were answered. Python threads take CPU from a server on the same cores."""
    import http.client
    import threading
    from urllib.parse import urlsplit

    host, port = urlsplit(base).hostname, urlsplit(base).port
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()

    def work(mine: list[tuple[dict[str, str], bytes]]) -> None:
        conn = http.client.HTTPConnection(host, port, timeout=30)
        for headers, body in mine:
            t = time.perf_counter()
            conn.request("POST", path, body, headers)
            resp = conn.getresponse()
            data = resp.read()
            took = time.perf_counter() - t
            with lock:
                latencies.append(took)
                if resp.status != expect:
                    errors.append(f"{resp.status} {data[:200]!r}")
        conn.close()

    threads = [
        threading.Thread(target=work, args=(requests[k::concurrency],)) for k in range(concurrency)
    ]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise SystemExit(f"{len(errors)} errors posting to {path}, first: {errors[0]}")
    return latencies, time.perf_counter() - start


def start_workers(n: int) -> list[subprocess.Popen]:
    """`n` `atiende worker` processes with the bench's environment, polling every 50 ms."""
    return [
        subprocess.Popen(
            [str(BIN / "atiende"), "worker", "--idle-sleep", "0.05"],
            env=os.environ.copy(),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for _ in range(n)
    ]


def stop_workers(procs: list[subprocess.Popen]) -> None:
    for p in procs:
        p.terminate()
    for p in procs:
        p.wait(10)


def wait_for_rows(queryset, count: int, what: str, timeout: float = 600) -> None:
    """Wait until `queryset` counts `count` rows (the workers' output), at most `timeout` s."""
    deadline = time.time() + timeout
    while queryset.count() < count:
        if time.time() > deadline:
            raise SystemExit(f"timed out waiting for {what}")
        time.sleep(0.1)
