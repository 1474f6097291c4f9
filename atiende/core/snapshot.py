"""Per-process snapshots of configuration rows that every request reads (schedules, SLA
targets, channels). Rebuilt when this process saves or deletes one of the watched models
(signals) and at most `ttl` seconds after another process changed them."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Generic, TypeVar

from django.db.models.signals import post_delete, post_save

T = TypeVar("T")
_all: list[Snapshot] = []


class Snapshot(Generic[T]):
    def __init__(self, build: Callable[[], T], *, watch: list[type], ttl: float = 10.0) -> None:
        self._build = build
        self._ttl = ttl
        self._value: T | None = None
        self._loaded_at = 0.0
        self._lock = threading.Lock()
        for model in watch:
            post_save.connect(self._changed, sender=model, weak=False)
            post_delete.connect(self._changed, sender=model, weak=False)
        _all.append(self)

    def get(self) -> T:
        value = self._value
        if value is not None and time.monotonic() - self._loaded_at < self._ttl:
            return value
        with self._lock:
            value = self._build()
            self._value, self._loaded_at = value, time.monotonic()
        return value

    def invalidate(self) -> None:
        self._value = None

    def _changed(self, **kwargs) -> None:
        self.invalidate()


def invalidate_all() -> None:
    for snap in _all:
        snap.invalidate()
