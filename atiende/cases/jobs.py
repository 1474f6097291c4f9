from atiende.cases import services, storage
from atiende.worker.registry import periodic


@periodic("close_resolved_cases", every=3600)
def close_resolved_cases() -> None:
    services.close_resolved_cases()


@periodic("sweep_orphan_attachment_files", every=3600)
def sweep_orphan_attachment_files() -> None:
    storage.sweep_orphans()
