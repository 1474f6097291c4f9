"""Job handlers, periodic and local tasks register here; apps declare them in `jobs.py`
modules.

A periodic task is a database row: one worker at a time runs it, wherever it is. A local
task runs in every worker process on its own clock, for work that is found on the
worker's own disk rather than in the database (the mail spool, `channels/email/spooled.py`);
what it does must be safe with several workers doing it at once."""

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


@dataclass(frozen=True)
class Local:
    name: str
    interval_seconds: float
    func: Callable[[], None]


HANDLERS: dict[str, Handler] = {}
OUTSIDE_TRANSACTION: set[str] = set()
SERVICE_SCOPE: set[str] = set()
BATCHED: set[str] = set()
PERIODIC: dict[str, Periodic] = {}
LOCAL: dict[str, Local] = {}
WARM: list[str] = []
_loaded = False


def handler(
    kind: str, *, atomic: bool = True, service: bool = False, batch: bool = False
) -> Callable[[Handler], Handler]:
    """Register the handler of a job kind.

    By default a handler runs in one transaction with the job's completion, so its writes
    and "done" land together. A handler that talks to another system (SMTP, the Graph API)
    says `atomic=False`: it runs outside a transaction, so no lock or SQLite write turn is
    held while the other side answers, and its own writes after the call are short
    transactions of their own. Such a send is at least once either way (a crash after the
    call and before the job is marked done sends again), so nothing is lost by it.

    `service=True`: the job's transaction is a service's scope (`core.transactions`), so
    the services the handler calls join it instead of each taking a savepoint (two round
    trips on PostgreSQL). For handlers that let every error through: the job's transaction
    then rolls back as a whole, as it would anyway.

    `batch=True`: for a handler that catches some errors and carries on (a refused message
    must not hold back the rest of its webhook). The job first runs as a `batch()` of one:
    the service scopes it opens join its transaction without a savepoint each; if an error
    left one of them (caught or not by the handler), that run is rolled back and the job
    runs again at once with a savepoint per scope, where each error is contained as usual.
    Errors being rare, the common run pays no savepoint (decision 0005's addendum)."""

    if batch and not atomic:
        raise ValueError(f"{kind}: a batch=True handler runs in a transaction (atomic=True)")

    def register(func: Handler) -> Handler:
        HANDLERS[kind] = func
        if not atomic:
            OUTSIDE_TRANSACTION.add(kind)
        if service:
            SERVICE_SCOPE.add(kind)
        if batch:
            BATCHED.add(kind)
        return func

    return register


def periodic(name: str, *, every: int) -> Callable[[Callable[[], None]], Callable[[], None]]:
    def register(func: Callable[[], None]) -> Callable[[], None]:
        PERIODIC[name] = Periodic(name, every, func)
        return func

    return register


def local(name: str, *, every: float) -> Callable[[Callable[[], None]], Callable[[], None]]:
    """Register a task every worker process runs every `every` seconds (see above)."""

    def register(func: Callable[[], None]) -> Callable[[], None]:
        LOCAL[name] = Local(name, every, func)
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


def warm_up(*modules: str) -> None:
    """Name modules that handlers import only when they run (so that processes which only
    queue jobs never load them, e.g. the Graph API client and httpx): a worker's loop
    imports them when it starts (`warm`), so the first job of their kind does not wait
    for them (80 to 90 ms for the WhatsApp client, in the first read receipt)."""
    WARM.extend(m for m in modules if m not in WARM)


def warm() -> None:
    """Import every handler module, then the modules they named with `warm_up`."""
    load()
    for name in WARM:
        importlib.import_module(name)
