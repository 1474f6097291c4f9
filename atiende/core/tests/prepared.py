"""The test's database connection switched to the mode a job worker's connections have on
PostgreSQL (`core/postgresql`): parameters bound on the server, and every statement
prepared from its first run (a threshold of 0, so that a short test runs the prepared
path and not only the first, unprepared, runs)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import pytest
from django.db import connection


@contextlib.contextmanager
def prepared_here() -> Iterator[None]:
    if connection.vendor != "postgresql":
        pytest.skip("prepared statements are PostgreSQL's")
    from django.db.backends.postgresql.base import ServerBindingCursor

    connection.ensure_connection()
    raw = connection.connection
    before = raw.cursor_factory, raw.prepare_threshold
    raw.cursor_factory, raw.prepare_threshold = ServerBindingCursor, 0
    try:
        yield
    finally:
        raw.cursor_factory, raw.prepare_threshold = before


def prepared_count(conn=connection) -> int:
    """The statements prepared on `conn`'s PostgreSQL session."""
    with conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM pg_prepared_statements")
        return cur.fetchone()[0]
