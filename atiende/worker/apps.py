from django.apps import AppConfig


class WorkerConfig(AppConfig):
    name = "atiende.worker"
    label = "worker"
    verbose_name = "Trabajos en segundo plano"
