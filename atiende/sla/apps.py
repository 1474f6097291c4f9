from django.apps import AppConfig


class SlaConfig(AppConfig):
    name = "atiende.sla"
    label = "sla"
    verbose_name = "Horarios y ANS"
