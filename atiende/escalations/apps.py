from django.apps import AppConfig


class EscalationsConfig(AppConfig):
    name = "atiende.escalations"
    label = "escalations"
    verbose_name = "Escalamiento"

    def ready(self) -> None:
        # Subscribes the ladder to `sla.breached` (automatic escalation on breach).
        # A responsible's level is checked against the ladder (accounts.services).
        from atiende.accounts import services as accounts
        from atiende.escalations import services  # noqa: F401
        from atiende.escalations.models import EscalationLevel

        accounts.register_ladder(
            lambda: list(EscalationLevel.objects.values_list("number", flat=True))
        )
