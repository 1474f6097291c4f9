from django.apps import AppConfig


class ReportsConfig(AppConfig):
    name = "atiende.reports"
    label = "reports"
    verbose_name = "Informes"
