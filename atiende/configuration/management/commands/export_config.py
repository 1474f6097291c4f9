from pathlib import Path

from django.core.management.base import BaseCommand

from atiende.configuration import exporter


class Command(BaseCommand):
    help = "Write the loaded configuration as YAML, in the format load_config reads."

    def add_arguments(self, parser):
        parser.add_argument("--output", "-o", help="write to this file instead of standard output")

    def handle(self, *args, output, **options):
        text = exporter.export()
        if output:
            Path(output).write_text(text, encoding="utf-8")
            self.stderr.write(f"configuración exportada a {output}")
        else:
            self.stdout.write(text, ending="")
