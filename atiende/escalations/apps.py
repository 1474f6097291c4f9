from django.apps import AppConfig


class EscalationsConfig(AppConfig):
    name = "atiende.escalations"
    label = "escalations"
    verbose_name = "Escalamiento"

    def ready(self) -> None:
        # Subscribes the ladder to `sla.breached` (automatic escalation on breach).
        from atiende.escalations import services  # noqa: F401
