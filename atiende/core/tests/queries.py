"""The SQL statements a block runs, for tests (Django's CaptureQueriesContext)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from django.db import connection
from django.test.utils import CaptureQueriesContext


@contextlib.contextmanager
def statements(prefix: str) -> Iterator[list[str]]:
    """The statements run inside the block that start with `prefix`; the list is filled
    when the block ends."""
    found: list[str] = []
    with CaptureQueriesContext(connection) as ctx:
        yield found
    found.extend(q["sql"] for q in ctx.captured_queries if q["sql"].startswith(prefix))
