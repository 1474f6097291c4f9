from django.apps import AppConfig


class ConsoleConfig(AppConfig):
    name = "atiende.console"
    label = "console"
    verbose_name = "Consola de agentes"
