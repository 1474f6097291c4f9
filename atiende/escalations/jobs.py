from atiende.escalations import services
from atiende.worker.registry import periodic


@periodic("escalation_reminders", every=300)
def escalation_reminders() -> None:
    services.send_reminders()
