from atiende.sla import services
from atiende.worker.registry import periodic

BATCH = 500


@periodic("sla_sweep", every=30)
def sla_sweep() -> None:
    # A full batch means a backlog (e.g. after downtime): keep sweeping until it is gone.
    while sum(services.sweep(limit=BATCH).values()) >= BATCH:
        pass
