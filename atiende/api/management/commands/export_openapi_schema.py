"""django-ninja's `export_openapi_schema`, which it provides only as an installed app (it is
not one: settings.NINJA_DIR). `atiende export-openapi-schema --api atiende.api.main.api`."""

from ninja.management.commands.export_openapi_schema import Command as NinjaCommand


class Command(NinjaCommand):
    pass
