from django.core.management.base import BaseCommand, CommandError

from atiende.configuration import loader


class Command(BaseCommand):
    help = (
        "Validate a configuration file (YAML) and load it: channels, schedules, SLA targets, "
        "escalation levels, groups and texts. Nothing is written when the file has problems; "
        "loading the same file again changes nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "path", help="the configuration file, e.g. atiende/configuration/reference.yaml"
        )
        parser.add_argument("--check", action="store_true", help="only validate; write nothing")

    def handle(self, *args, path, check, **options):
        try:
            if check:
                loader.parse(path)
                self.stdout.write(f"{path}: valid")
                return
            report = loader.load(path)
        except loader.ConfigurationError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(
            str(report) if report.changed or options["verbosity"] > 1 else report.summary()
        )
