from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "atiende.notifications"
    label = "notifications"
    verbose_name = "Notificaciones de agentes"

    def ready(self) -> None:
        # Subscribes to the domain's events (case assigned, customer answer, mention,
        # escalation requested, SLA at risk and breached).
        from atiende.notifications import receivers  # noqa: F401
