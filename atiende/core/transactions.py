"""The transaction of a service call.

A service runs in a transaction (a savepoint when its caller already has one) and writes
its audit entries together at the end (see `audit.batched`). A service called by another
service joins its caller's transaction without a savepoint of its own: if it raises, the
caller's transaction (or savepoint) is what rolls back, which is what a caller that lets the
error through wants, and a savepoint per nested call costs a round trip each way on
PostgreSQL. Code that catches a service's error and carries on must wrap the call in its
own `transaction.atomic()`, as it would anyway to keep its transaction usable.
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
from collections.abc import Callable, Iterator
from typing import ParamSpec, TypeVar

from django.db import transaction

from atiende.core import audit

P = ParamSpec("P")
R = TypeVar("R")

_in_service: contextvars.ContextVar[bool] = contextvars.ContextVar("in_service", default=False)


@contextlib.contextmanager
def service_scope(*, savepoint: bool = True) -> Iterator[None]:
    """The transaction of a service, as a block. With `savepoint=False`, a block inside
    another service's scope joins it; otherwise it opens a transaction or a savepoint."""
    if _in_service.get() and not savepoint:
        yield
        return
    token = _in_service.set(True)
    try:
        with transaction.atomic(), audit.batched():
            yield
    finally:
        _in_service.reset(token)


def service(fn: Callable[P, R]) -> Callable[P, R]:
    """Decorate a service: it runs in `service_scope(savepoint=False)`."""

    @functools.wraps(fn)
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        with service_scope(savepoint=False):
            return fn(*args, **kwargs)

    return run
