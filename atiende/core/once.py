"""Insert a row unless its unique key is taken, in one statement.

`INSERT … ON CONFLICT (key) DO NOTHING` (SQLite and PostgreSQL): no savepoint around an
insert that may collide, no IntegrityError to catch. Where a row is written on a hot path
(a webhook's inbox job, a CTI event's dedupe row) this saves the SAVEPOINT and RELEASE
round trips of `transaction.atomic()` + `create()`, and outside a transaction the BEGIN and
COMMIT; on SQLite it holds the write turn only while the statement runs.
"""

from __future__ import annotations

import functools
from typing import Any

from django.db import connections, models, router

from atiende.core import deferred


def insert_once(model: type[models.Model], values: dict[str, Any], *, key: list[str]) -> int | None:
    """Insert a `model` row with `values` (field names or attnames → Python values, adapted
    as the ORM adapts them; the model's other columns must be nullable) unless a row with
    the same `key` columns exists. The new row's primary key; None when the key was taken."""
    conn = connections[router.db_for_write(model)]
    deferred.flush(conn)  # rows handed over earlier in the transaction are written first
    sql, fields = _statement(model, conn.alias, tuple(values), tuple(key))
    params = [f.get_db_prep_save(v, conn) for f, v in zip(fields, values.values(), strict=True)]
    with conn.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    return None if row is None else int(row[0])


@functools.cache
def _statement(
    model: type[models.Model], alias: str, names: tuple[str, ...], key: tuple[str, ...]
) -> tuple[str, list[models.Field]]:
    """The statement's text and the fields of its values, built once per model, database
    and set of columns (the webhooks write the same columns on every post)."""
    opts = model._meta
    q = connections[alias].ops.quote_name

    def field(name: str) -> models.Field:
        found = opts.get_field(name)
        assert isinstance(found, models.Field) and found.column, name  # a concrete column
        return found

    def column(name: str) -> str:
        return q(field(name).column or "")

    fields = [field(name) for name in names]
    sql = (
        f"INSERT INTO {q(opts.db_table)} ({', '.join(column(name) for name in names)}) "
        f"VALUES ({', '.join(['%s'] * len(fields))}) "
        f"ON CONFLICT ({', '.join(column(k) for k in key)}) DO NOTHING "
        f"RETURNING {column(opts.pk.name)}"
    )
    return sql, fields
