from django.apps import AppConfig


class EscalationsConfig(AppConfig):
    name = "atiende.escalations"
    label = "escalations"
    verbose_name = "Escalamiento"

    def ready(self) -> None:
        # Subscribes the ladder to `sla.breached` (automatic escalation on breach).
        # A responsible's level is checked against the ladder (accounts.ladder).
        from atiende.accounts import ladder
        from atiende.escalations import receivers  # noqa: F401
        from atiende.escalations.models import EscalationLevel

        ladder.register(lambda: list(EscalationLevel.objects.values_list("number", flat=True)))
