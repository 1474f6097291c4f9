from django.apps import AppConfig


class ConfigurationConfig(AppConfig):
    name = "atiende.configuration"
    label = "configuration"
    verbose_name = "Configuración"

    def ready(self) -> None:
        # Domain apps read site settings through core.site, which this app answers.
        from atiende.configuration import settings
        from atiende.core import site

        site.register(settings.get)
