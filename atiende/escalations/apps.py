from django.apps import AppConfig


class EscalationsConfig(AppConfig):
    name = "atiende.escalations"
    label = "escalations"
    verbose_name = "Escalamiento"
