"""Channel rows as every request reads them: a per-process snapshot (see core.snapshot)."""

from __future__ import annotations

from atiende.core.snapshot import Snapshot
from atiende.directory.models import Channel

_snapshot: Snapshot[dict[str, Channel]] = Snapshot(
    lambda: {c.slug: c for c in Channel.objects.all()}, watch=[Channel]
)


def channel(slug: str) -> Channel | None:
    return _snapshot.get().get(slug)


def channels() -> list[Channel]:
    """All channels, in page order."""
    return sorted(_snapshot.get().values(), key=lambda c: (c.position, c.slug))


def channel_by_id(pk: int | None) -> Channel | None:
    return next((c for c in _snapshot.get().values() if c.pk == pk), None)
