"""Insert a row unless its unique key is taken, in one statement.

`INSERT … ON CONFLICT (key) DO NOTHING` (SQLite and PostgreSQL): no savepoint around an
insert that may collide, no IntegrityError to catch. Where a row is written on a hot path
(a webhook's inbox job, a CTI event's dedupe row) this saves the SAVEPOINT and RELEASE
round trips of `transaction.atomic()` + `create()`, and outside a transaction the BEGIN and
COMMIT; on SQLite it holds the write turn only while the statement runs.
"""

from __future__ import annotations

from typing import Any

from django.db import connections, models, router

from atiende.core import deferred


def insert_once(model: type[models.Model], values: dict[str, Any], *, key: list[str]) -> int | None:
    """Insert a `model` row with `values` (field names or attnames → Python values, adapted
    as the ORM adapts them; the model's other columns must be nullable) unless a row with
    the same `key` columns exists. The new row's primary key; None when the key was taken."""
    conn = connections[router.db_for_write(model)]
    deferred.flush(conn)  # rows handed over earlier in the transaction are written first
    opts = model._meta
    q = conn.ops.quote_name

    def column(name: str) -> str:
        field = opts.get_field(name)
        assert isinstance(field, models.Field) and field.column, name  # a concrete column
        return q(field.column)

    columns = [column(name) for name in values]
    params = [opts.get_field(name).get_db_prep_save(v, conn) for name, v in values.items()]
    sql = (
        f"INSERT INTO {q(opts.db_table)} ({', '.join(columns)}) "
        f"VALUES ({', '.join(['%s'] * len(params))}) "
        f"ON CONFLICT ({', '.join(column(k) for k in key)}) DO NOTHING "
        f"RETURNING {column(opts.pk.name)}"
    )
    with conn.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    return None if row is None else int(row[0])
