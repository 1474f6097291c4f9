import contextlib
import gc
import signal
import threading

from django.core.management.base import BaseCommand

from atiende.core import mechanisms
from atiende.core.postgresql import prepared
from atiende.worker import loop, queue, registry
from atiende.worker.local import LocalTasks


class Command(BaseCommand):
    help = "Run a background worker: queued jobs (inbound events, outbound messages) and periodic tasks."

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="run what is due now, then exit")
        parser.add_argument(
            "--idle-sleep", type=float, default=1.0, help="seconds to wait when idle"
        )

    def handle(self, *args, once=False, idle_sleep=1.0, **options):
        prepared.prepare_statements()  # before the first query (PostgreSQL)
        if mechanisms.GC_FREEZE:
            # The code the jobs run lives as long as the process: out of the collector's
            # full passes, which would walk all of it again and again (decision 0004).
            # (An import that fails here is logged by the loop, which tries it again.)
            with contextlib.suppress(Exception):
                registry.warm()
            gc.freeze()
        if once:
            queue.ensure_periodic()
            local = LocalTasks().run_due()
            periodic = queue.run_periodic()
            ran = queue.run_pending(limit=10_000)
            self.stdout.write(
                f"{ran} jobs, periodic: {', '.join(periodic) or 'none due'}, "
                f"local: {', '.join(local) or 'none'}"
            )
            return
        stop = threading.Event()
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: stop.set())
        loop.run_forever(stop, idle_sleep=idle_sleep)
