from django.core.management.base import BaseCommand, CommandError

from atiende.ops import backup


class Command(BaseCommand):
    help = (
        "Restore an archive written by `atiende backup` into an empty database and an empty "
        "attachment store; every member is checked against the manifest first."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", help="the archive written by atiende backup")
        parser.add_argument(
            "--verify-only", action="store_true", help="only check the archive's sha256 sums"
        )

    def handle(self, *args, path, verify_only=False, **options):
        try:
            if verify_only:
                manifest = backup.verify(path)
                self.stdout.write(f"copia íntegra: {len(manifest['members'])} miembros")
                return
            manifest = backup.restore(path)
        except (backup.BackupError, FileNotFoundError) as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            f"restaurada: base de datos {manifest['database']['vendor']}, "
            f"{manifest['attachments']} adjuntos"
        )
