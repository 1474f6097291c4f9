"""`atiende poll-email [--channel correo] [--once]`: read IMAP mailboxes.

With `--once`, one pass over each mailbox and exit (cron, tests). Without it, keep
watching: IDLE where the server supports it, a poll at least every `--idle-seconds`.
The worker also polls every minute (periodic task `email.poll`), so this command is only
needed for faster pick-up or a dedicated process.
"""

from __future__ import annotations

import gc
import signal
import threading

from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "Lee los buzones IMAP de los canales de correo (una pasada con --once)."
    # Django's system checks cost a third of the process start (`atiende check` runs
    # them; the one about mail, cleartext URLs, is also logged by every pass).
    requires_system_checks: list[str] = []

    def add_arguments(self, parser):
        parser.add_argument(
            "--channel", help="identificador del canal (por omisión, todos los de correo)"
        )
        parser.add_argument("--once", action="store_true", help="una sola pasada y salir")
        parser.add_argument("--idle-seconds", type=float, default=300)

    def handle(self, *args, **opts):
        from atiende.channels.email import conf, imap, intake
        from atiende.core import mechanisms
        from atiende.core.errors import NotFound
        from atiende.core.postgresql import prepared
        from atiende.directory.models import Channel

        prepared.prepare_statements()  # before the first query (PostgreSQL)
        if mechanisms.GC_FREEZE:
            # What a pass runs is loaded now and lives as long as the process: out of the
            # collector's full passes, one of which took 50-60 ms of a 1,000-mail pass
            # walking all of Django (decision 0004; docs/benchmarks.md, session 21).
            gc.freeze()

        if opts["channel"]:
            try:
                channels = [intake.channel_for(opts["channel"])]
            except NotFound as exc:
                raise CommandError(exc.message) from exc
        else:
            channels = list(Channel.objects.filter(kind="email", active=True))
        channels = [c for c in channels if conf.url_for(c, "imap") is not None]
        if not channels:
            raise CommandError(
                "Ningún canal de correo tiene URL IMAP (variable imap_url_env del canal)."
            )
        if opts["once"]:
            for channel in channels:
                r = imap.poll_once(channel)
                self.stdout.write(
                    f"{channel.slug}: {r.fetched} leídos, {r.stored} nuevos, {r.duplicate} repetidos, "
                    f"{r.bounce} rebotes, {r.quarantined} en cuarentena"
                )
            return
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        threads = [
            threading.Thread(
                target=imap.watch,
                args=(c,),
                kwargs={"stop": stop, "idle_seconds": opts["idle_seconds"]},
                daemon=True,
            )
            for c in channels
        ]
        for t in threads:
            t.start()
        try:
            while any(t.is_alive() for t in threads):
                stop.wait(1)
        except KeyboardInterrupt:
            stop.set()
