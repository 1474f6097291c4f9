from django.apps import AppConfig


class OpsConfig(AppConfig):
    name = "atiende.ops"
    label = "ops"
    verbose_name = "Operación (salud, métricas, copias de seguridad)"
