"""The runner of local tasks (`registry.local`): each worker process keeps its own clock.

Monotonic time, not `core.clock`: these are the worker's own rounds (how often it looks
at its disk), not business time, and tests that freeze the clock must not stop them.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from atiende.worker import registry

log = logging.getLogger(__name__)


class LocalTasks:
    def __init__(self, *, monotonic: Callable[[], float] = time.monotonic) -> None:
        self._monotonic = monotonic
        self._next: dict[str, float] = {}

    def run_due(self) -> list[str]:
        """Run every local task whose interval has passed since it last ran; a failing task
        is logged and does not stop the others (or the worker)."""
        registry.load()
        ran = []
        for task in list(registry.LOCAL.values()):
            now = self._monotonic()
            if now < self._next.get(task.name, 0.0):
                continue
            try:
                task.func()
            except Exception:
                log.exception("local task %s failed", task.name)
            self._next[task.name] = self._monotonic() + task.interval_seconds
            ran.append(task.name)
        return ran

    def seconds_to_next(self) -> float:
        """How long until a local task is due (for the worker's idle wait)."""
        registry.load()
        if not registry.LOCAL:
            return float("inf")
        now = self._monotonic()
        return max(0.0, min(self._next.get(name, 0.0) - now for name in registry.LOCAL))
