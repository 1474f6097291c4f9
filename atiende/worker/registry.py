"""Job handlers and periodic tasks register here; apps declare them in `jobs.py` modules."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.apps import apps

Handler = Callable[[dict[str, Any]], None]


@dataclass(frozen=True)
class Periodic:
    name: str
    interval_seconds: int
    func: Callable[[], None]


HANDLERS: dict[str, Handler] = {}
OUTSIDE_TRANSACTION: set[str] = set()
PERIODIC: dict[str, Periodic] = {}
_loaded = False


def handler(kind: str, *, atomic: bool = True) -> Callable[[Handler], Handler]:
    """Register the handler of a job kind.

    By default a handler runs in one transaction with the job's completion, so its writes
    and "done" land together. A handler that talks to another system (SMTP, the Graph API)
    says `atomic=False`: it runs outside a transaction, so no lock or SQLite write turn is
    held while the other side answers, and its own writes after the call are short
    transactions of their own. Such a send is at least once either way (a crash after the
    call and before the job is marked done sends again), so nothing is lost by it."""

    def register(func: Handler) -> Handler:
        HANDLERS[kind] = func
        if not atomic:
            OUTSIDE_TRANSACTION.add(kind)
        return func

    return register


def periodic(name: str, *, every: int) -> Callable[[Callable[[], None]], Callable[[], None]]:
    def register(func: Callable[[], None]) -> Callable[[], None]:
        PERIODIC[name] = Periodic(name, every, func)
        return func

    return register


def load() -> None:
    """Import every installed app's `jobs` module so its handlers register."""
    global _loaded
    if _loaded:
        return
    for config in apps.get_app_configs():
        if config.name.startswith("atiende."):
            try:
                importlib.import_module(f"{config.name}.jobs")
            except ModuleNotFoundError as exc:
                if exc.name != f"{config.name}.jobs":
                    raise
    _loaded = True
