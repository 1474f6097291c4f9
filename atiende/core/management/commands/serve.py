import contextlib
import fcntl
import gc
import os
import secrets
import threading

from django.conf import settings
from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import connections

from atiende.core import balanced_accept, mechanisms
from atiende.settings import write_secret_file

ADMIN_EMAIL = "admin@atiende.local"


def _default_web_workers() -> int:
    return max(2, min(4, (os.cpu_count() or 1) + 1))


class Command(BaseCommand):
    help = (
        "Migrate, load the configuration into an empty database, create the first admin, "
        "and serve atiende (gunicorn) with one in-process background worker."
    )

    def add_arguments(self, parser):
        parser.add_argument("--bind", default=os.environ.get("ATIENDE_BIND", "127.0.0.1:8000"))
        parser.add_argument(
            "--web-workers",
            type=int,
            default=int(os.environ.get("ATIENDE_WEB_WORKERS", _default_web_workers())),
            help="web server processes (default: cores + 1, 2 to 4)",
        )
        parser.add_argument(
            "--threads",
            type=int,
            default=int(os.environ.get("ATIENDE_THREADS", "4")),
            help="threads per web server process",
        )
        parser.add_argument(
            "--no-worker", action="store_true", help="do not run the in-process worker"
        )

    def handle(self, *args, bind, web_workers, threads, no_worker, **options):
        from atiende.configuration import loader

        host, _, port = bind.rpartition(":")
        if not host or not port.isdigit():
            raise CommandError(f"ATIENDE_BIND must be host:port, got {bind!r}")
        call_command("migrate", interactive=False, verbosity=0)
        call_command("collectstatic", interactive=False, verbosity=0)
        report = loader.load_if_empty(settings.ATIENDE_CONFIG)
        if report is not None:
            self.stdout.write(f"configuración cargada desde {settings.ATIENDE_CONFIG}")
        admin_line = self._ensure_admin()
        shown = "localhost" if host in ("127.0.0.1", "0.0.0.0") else host
        self.stdout.write(
            f"\natiende está en http://{shown}:{port}/\n"
            f"  canales de atención: http://{shown}:{port}/canales\n"
            f"  administración:      http://{shown}:{port}/admin/\n"
            f"  API (OpenAPI):       http://{shown}:{port}/api/v1/docs\n"
            f"{admin_line}\n"
            f"  datos en {settings.DATA_DIR}\n"
        )
        self.stdout.flush()
        connections.close_all()  # the web processes are forked from this one: no shared sockets
        from atiende.ops import metrics

        # Each web process writes its timings here; /metrics adds them up (ops/metrics.py).
        metrics.prepare_multiprocess_dir(settings.DATA_DIR / "metrics")
        web_server(bind=bind, workers=web_workers, threads=threads, run_jobs=not no_worker).run()

    def _ensure_admin(self) -> str:
        from atiende.accounts import services
        from atiende.accounts.models import Role, User

        if User.objects.filter(role=Role.ADMIN).exists():
            return "  inicie sesión con su cuenta de administrador"
        email = os.environ.get("ATIENDE_ADMIN_EMAIL", ADMIN_EMAIL)
        name = "Administrador"
        password = os.environ.get("ATIENDE_ADMIN_PASSWORD")
        where = "ATIENDE_ADMIN_PASSWORD"
        if password:
            try:
                password_validation.validate_password(
                    password, User(email=email, name=name, role=Role.ADMIN)
                )
            except ValidationError as exc:
                raise CommandError(
                    "ATIENDE_ADMIN_PASSWORD no sirve como contraseña del administrador: "
                    + " ".join(exc.messages)
                ) from exc
        else:
            password = secrets.token_urlsafe(12)
            path = settings.DATA_DIR / "admin-password.txt"
            path.unlink(missing_ok=True)  # left by an earlier database: replaced
            write_secret_file(path, f"{email}\n{password}\n")
            where = str(path)
        services.create_user(email=email, name=name, role=Role.ADMIN, password=password)
        return f"  usuario administrador: {email} (contraseña en {where})"


def _run_jobs_when_elected() -> None:
    """Run the job loop in this web process if it holds the data directory's worker lock.

    Every web process tries; the one holding the lock runs the loop, the others wait on
    it, so exactly one in-process worker runs, and a replacement process takes over if the
    holder dies (the kernel releases the lock with the process).
    """
    from atiende.worker import loop

    def elect_and_run():
        lock = open(settings.DATA_DIR / "worker.lock", "w")  # noqa: SIM115 - held for life
        fcntl.flock(lock, fcntl.LOCK_EX)  # blocks until the holder dies
        loop.run_forever(threading.Event())

    threading.Thread(target=elect_and_run, name="atiende-worker", daemon=True).start()


def _worker_ready(worker, run_jobs: bool) -> None:
    """In each web process, once the application is loaded: leave what is loaded by now
    out of the garbage collector's full passes, which would otherwise walk every module,
    URL pattern and model of Django each time — a pause of 25 to 60 ms for every request
    in flight in the process (measured with gc.callbacks under bench/bench_whatsapp.py);
    start the request threads with their database connections; then say so in the log."""
    if mechanisms.GC_FREEZE:
        gc.freeze()
    _start_request_threads(worker)
    if run_jobs:
        _run_jobs_when_elected()
    worker.log.info("web process %s ready", os.getpid())


def _start_request_threads(worker) -> None:
    """Start every request thread of the process now, each with its database connection.

    gunicorn starts a request thread when a request finds none idle, and Django connects
    a thread to the database on its first query: without this, the first request each
    thread serves after a start pays both — 4 to 17 ms of processor and 100 to 200 ms of
    waiting on PostgreSQL, in the middle of whatever burst woke it (bench/bench_phone.py).
    A database that cannot be reached now is not an error here: the requests will meet it.
    """
    pool, threads = worker.tpool, worker.cfg.threads
    if pool is None:
        return
    everyone = threading.Barrier(threads)

    def start() -> None:
        try:
            connections["default"].ensure_connection()
        except Exception:  # unreachable now: its requests will answer 503 meanwhile
            connections["default"].close()
        # Each thread waits for the others, so the pool starts all of them.
        with contextlib.suppress(threading.BrokenBarrierError):
            everyone.wait(timeout=10)

    for future in [pool.submit(start) for _ in range(threads)]:
        future.result()


def web_server(*, bind: str, workers: int, threads: int, run_jobs: bool):
    from gunicorn.app.base import BaseApplication

    from atiende.wsgi import application

    worker_class: str | type = "gthread"
    if mechanisms.BALANCED_ACCEPT:
        # Each process's connection count, shared by the processes forked below.
        balanced_accept.BalancedThreadWorker.table = balanced_accept.Table(max(64, 2 * workers))
        worker_class = balanced_accept.BalancedThreadWorker

    class _Server(BaseApplication):
        def load_config(self):
            self.cfg.set("bind", [bind])
            self.cfg.set("workers", workers)
            self.cfg.set("worker_class", worker_class)
            self.cfg.set("threads", threads)
            self.cfg.set("timeout", 60)
            self.cfg.set("graceful_timeout", 10)
            self.cfg.set("proc_name", "atiende")
            # gunicorn believes X-Forwarded-Proto from the same proxies atiende does (its
            # default is loopback whatever ATIENDE_TRUSTED_PROXIES says).
            self.cfg.set("forwarded_allow_ips", ",".join(str(n) for n in settings.TRUSTED_PROXIES))
            # One control socket per data directory, so several instances don't collide.
            self.cfg.set("control_socket", str(settings.DATA_DIR / "gunicorn.ctl"))
            self.cfg.set("post_worker_init", lambda worker: _worker_ready(worker, run_jobs))

        def load(self):
            return application

    return _Server()
