"""Which processes prepare their repeated statements on PostgreSQL (see `base`).

Apart from the backend so that a command can ask for them without importing the driver
(the email poller's start is measured, and on SQLite it never needs psycopg)."""

from __future__ import annotations

from atiende.core import mechanisms

_wanted = False


def prepare_statements() -> None:
    """Connections this process opens from now on prepare the statements they repeat: a
    job worker's and the email poller's (docs/decisions/0014-prepared-statements.md). Call
    it before the first query: a connection already open keeps how it was opened."""
    global _wanted
    _wanted = True


def preparing() -> bool:
    return _wanted and mechanisms.PREPARED_STATEMENTS
