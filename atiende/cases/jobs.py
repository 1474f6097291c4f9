from atiende.cases import services
from atiende.worker.registry import periodic


@periodic("close_resolved_cases", every=3600)
def close_resolved_cases() -> None:
    services.close_resolved_cases()
