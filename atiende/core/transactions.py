"""The transaction of a service call.

A service runs in a transaction (a savepoint when its caller already has one) and writes
its audit entries and deferred rows (`deferred.insert`) together at the end. A service
called by another service joins its caller's transaction without a savepoint of its own: if
it raises, the caller's transaction (or savepoint) is what rolls back, which is what a
caller that lets the error through wants, and a savepoint per nested call costs a round
trip each way on PostgreSQL. Code that catches a service's error and carries on must wrap
the call in its own `service_scope()` or `transaction.atomic()`, as it would anyway to
keep its transaction usable.

`batch()` runs many independent items (the mails of one IMAP fetch) in one transaction
without a savepoint each, and redoes them one by one in the rare case one fails.
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
from collections.abc import Callable, Iterator
from typing import ParamSpec, TypeVar

from django.db import transaction

from atiende.core import audit, deferred

P = ParamSpec("P")
R = TypeVar("R")

_in_service: contextvars.ContextVar[bool] = contextvars.ContextVar("in_service", default=False)
_batch: contextvars.ContextVar[list[BaseException] | None] = contextvars.ContextVar(
    "service_batch", default=None
)


class Spoiled(Exception):
    """An item of a `batch()` failed: the whole batch was rolled back; redo its items one
    at a time."""


@contextlib.contextmanager
def service_scope(*, savepoint: bool = True) -> Iterator[None]:
    """The transaction of a service, as a block. With `savepoint=False`, a block inside
    another service's scope joins it; otherwise it opens a transaction or a savepoint (in a
    `batch()`, it joins the batch's transaction, and an error leaving it spoils the batch)."""
    failures = _batch.get()
    if not savepoint and _in_service.get():
        yield
        return
    if failures is not None:  # inside batch() (itself a service scope): join it
        try:
            yield
        except BaseException as exc:
            failures.append(exc)
            raise
        return
    token = _in_service.set(True)
    try:
        with transaction.atomic(), audit.batched():
            yield
            deferred.flush()  # before the audit entries, which may name deferred rows
    finally:
        _in_service.reset(token)


@contextlib.contextmanager
def batch() -> Iterator[None]:
    """One transaction for many independent items, each of which would take a savepoint
    (its own `service_scope()`) otherwise. Any error that leaves one of those scopes, even
    one a caller catches and handles, spoils the batch: everything is rolled back and
    `Spoiled` raised at the end, and the owner redoes the items one at a time, where each
    error is handled in its own transaction as usual. Errors being rare, the common case
    pays one transaction and no savepoint for all the items."""
    if _in_service.get():
        raise RuntimeError("batch() opens its own transaction; it cannot run inside a service")
    failures: list[BaseException] = []
    with service_scope():
        token = _batch.set(failures)
        try:
            yield
        finally:
            _batch.reset(token)
        if failures:
            raise Spoiled(f"{len(failures)} item(s) failed") from failures[0]


def batching() -> bool:
    """True inside `batch()`: an error is not contained by the nearest service scope."""
    return _batch.get() is not None


def service(fn: Callable[P, R]) -> Callable[P, R]:
    """Decorate a service: it runs in `service_scope(savepoint=False)`."""

    @functools.wraps(fn)
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        with service_scope(savepoint=False):
            return fn(*args, **kwargs)

    return run
