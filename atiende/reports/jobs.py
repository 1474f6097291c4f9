from atiende.reports import services
from atiende.worker.registry import periodic


@periodic("reports_refresh", every=300)
def reports_refresh() -> None:
    services.refresh()
