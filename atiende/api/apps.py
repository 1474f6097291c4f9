from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "atiende.api"
    label = "api"
    verbose_name = "API"
