from django.apps import AppConfig


class SearchConfig(AppConfig):
    name = "atiende.search"
    label = "search"
    verbose_name = "Búsqueda"
