"""The one place atiende reads the time. Tests freeze or move it with `frozen`."""

from __future__ import annotations

import contextlib
import datetime as dt
import threading
from collections.abc import Iterator

_local = threading.local()
_override: dt.datetime | None = None


def now() -> dt.datetime:
    """The current instant, timezone-aware (UTC)."""
    value = getattr(_local, "override", None) or _override
    if value is not None:
        return value
    return dt.datetime.now(dt.UTC)


class FrozenClock:
    def __init__(self, at: dt.datetime) -> None:
        if at.tzinfo is None:
            raise ValueError("the frozen instant must be timezone-aware")
        self.at = at.astimezone(dt.UTC)

    def set(self, at: dt.datetime) -> None:
        global _override
        self.at = at.astimezone(dt.UTC)
        _override = self.at

    def advance(self, **delta: float) -> dt.datetime:
        self.set(self.at + dt.timedelta(**delta))
        return self.at


@contextlib.contextmanager
def frozen(at: dt.datetime) -> Iterator[FrozenClock]:
    """Freeze `now()` for every thread (the worker thread included) inside the block."""
    global _override
    previous = _override
    clock = FrozenClock(at)
    _override = clock.at
    try:
        yield clock
    finally:
        _override = previous
