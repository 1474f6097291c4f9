from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "atiende.core"
    label = "core"
    verbose_name = "Núcleo"

    def ready(self) -> None:
        from atiende.core import checks  # noqa: F401 - registers the deployment checks
