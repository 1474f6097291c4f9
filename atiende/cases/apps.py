from django.apps import AppConfig


class CasesConfig(AppConfig):
    name = "atiende.cases"
    label = "cases"
    verbose_name = "Casos"
