"""Running calls at the same moment, for concurrency tests."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from django.db import connection


def at_once(calls: list[Callable[[], Any]]) -> list[Any]:
    """Run each call in its own thread, all released together; each thread closes its
    database connection when done. Returns each call's result, or the exception it raised,
    in the order of `calls`."""
    start = threading.Barrier(len(calls))
    outcomes: list[Any] = [None] * len(calls)

    def run(i: int, call: Callable[[], Any]) -> None:
        try:
            start.wait()
            outcomes[i] = call()
        except BaseException as exc:  # returned to the test
            outcomes[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return outcomes


def raised(outcomes: list[Any]) -> list[BaseException]:
    """The exceptions among `at_once`'s outcomes."""
    return [o for o in outcomes if isinstance(o, BaseException)]
