"""`atiende refresh_reports [--full]`: bring the reports' roll-ups up to date now (the worker
does it every five minutes); `--full` rebuilds them from the cases, e.g. after a restore."""

from django.core.management.base import BaseCommand

from atiende.reports import services


class Command(BaseCommand):
    help = "Actualiza las cifras de los informes (--full: las recalcula todas)."

    def add_arguments(self, parser):
        parser.add_argument("--full", action="store_true", help="recalcular todo")

    def handle(self, *args, full: bool = False, **options):
        written = services.refresh(full=full)
        self.stdout.write(
            f"Cifras de {written['figures']} casos y {written['contact_hours']} horas de contactos."
        )
