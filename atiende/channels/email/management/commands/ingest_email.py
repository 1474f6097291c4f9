"""`atiende ingest-email --channel correo < message.eml`: one message from an MTA pipe.

The console script runs the pipe without Django (`channels/email/pipe.py`: the message goes
to the spool, which the worker drains). This command is what runs with `--direct`: the
message is stored through the database in this process, and the exit status says how.
Without `--direct` (e.g. `python -m django ingest_email`) it spools like the pipe.

Exit status of --direct (sysexits.h, what MTAs understand): 0 stored (or already stored, or kept in
quarantine), 75 temporary failure (the MTA keeps the message and retries: database or disk
unavailable, and any unexpected error, so no mail is bounced because of a bug), 67 unknown
channel, 65 empty input.
"""

from __future__ import annotations

import sys
import traceback

from django.core.management.base import BaseCommand
from django.db import DatabaseError

EX_OK, EX_DATAERR, EX_NOUSER, EX_TEMPFAIL = 0, 65, 67, 75


class Command(BaseCommand):
    help = "Lee un mensaje RFC 5322 por la entrada estándar y lo registra en el canal de correo."
    # One process per message: the system checks (URL patterns, every app's settings) are
    # what `atiende check` and the long-running processes are for, not each delivery.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser):
        parser.add_argument(
            "--channel", default="correo", help="identificador del canal de correo (correo)"
        )
        parser.add_argument(
            "--sender",
            default=None,
            help="remitente del sobre (MAIL FROM) que entrega el MTA, p. ej. ${sender} en Postfix",
        )
        parser.add_argument(
            "--direct",
            action="store_true",
            help="registrar el mensaje ahora en la base de datos, en este proceso, en lugar de "
            "dejarlo en la cola de correo (spool) que vacía el worker",
        )

    def handle(self, *args, **opts):
        if not opts["direct"]:
            from atiende.channels.email import pipe

            sys.exit(
                pipe.run(
                    sys.stdin.buffer,
                    channel=opts["channel"],
                    sender=opts["sender"],
                    stderr=sys.stderr,
                )
            )
        raw = sys.stdin.buffer.read()
        sys.exit(self.run(raw, opts["channel"], opts["sender"]))

    def run(self, raw: bytes, channel: str, sender: str | None) -> int:
        if not raw.strip():
            self.stderr.write("ingest-email: mensaje vacío")
            return EX_DATAERR
        try:
            from atiende.channels.email import intake
            from atiende.core.errors import NotFound

            try:
                outcome = intake.ingest(
                    raw, channel=channel, source="ingest-email", envelope_sender=sender
                )
            except NotFound as exc:
                self.stderr.write(f"ingest-email: {exc.message}")
                return EX_NOUSER
        except DatabaseError as exc:  # database down or locked: the MTA must retry later
            self.stderr.write(f"ingest-email: error temporal, reintente: {exc}")
            return EX_TEMPFAIL
        except OSError as exc:  # attachments directory full or unwritable
            self.stderr.write(f"ingest-email: error temporal de almacenamiento, reintente: {exc}")
            return EX_TEMPFAIL
        except Exception as exc:  # a bug or a bad setting: exit 1 would make the MTA bounce it
            self.stderr.write(traceback.format_exc())
            self.stderr.write(f"ingest-email: error inesperado, el MTA reintentará: {exc!r}")
            return EX_TEMPFAIL
        where = f" {outcome.case_number}" if outcome.case_number else ""
        self.stdout.write(f"{outcome.status}{where} {outcome.detail}".rstrip())
        return EX_OK
