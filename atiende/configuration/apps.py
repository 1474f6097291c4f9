from django.apps import AppConfig


class ConfigurationConfig(AppConfig):
    name = "atiende.configuration"
    label = "configuration"
    verbose_name = "Configuración"
