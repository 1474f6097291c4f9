from django.apps import AppConfig


class CannedConfig(AppConfig):
    name = "atiende.console.canned"
    label = "console_canned"
    verbose_name = "Respuestas predefinidas"
    default_auto_field = "django.db.models.BigAutoField"
