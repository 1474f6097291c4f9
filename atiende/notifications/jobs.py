from atiende.notifications import services
from atiende.worker.registry import periodic


@periodic("forget_stale_presence", every=3600)
def forget_stale_presence() -> None:
    services.forget_stale_presence()
