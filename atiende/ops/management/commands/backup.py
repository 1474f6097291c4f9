from django.core.management.base import BaseCommand, CommandError

from atiende.ops import backup


class Command(BaseCommand):
    help = (
        "Write one archive (.tar) with the database (SQLite online backup or pg_dump), every "
        "attachment and a manifest of sha256 sums, while atiende runs."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "path", help="the archive to write, e.g. /backups/atiende-2026-12-05.tar"
        )

    def handle(self, *args, path, **options):
        try:
            result = backup.backup(path)
        except backup.BackupError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            f"copia en {result.path}: base de datos {result.vendor}, "
            f"{result.attachments} adjuntos, {result.bytes} bytes"
        )
