from django.apps import AppConfig


class ConfigurationConfig(AppConfig):
    name = "atiende.configuration"
    label = "configuration"
    verbose_name = "Configuración"

    def ready(self) -> None:
        from atiende.configuration.models import Setting
        from atiende.core import site

        site.use_model(Setting)
