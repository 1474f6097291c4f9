"""Insert a row unless its unique key is taken, in one statement.

`INSERT … ON CONFLICT (key) DO NOTHING` (SQLite and PostgreSQL): no savepoint around an
insert that may collide, no IntegrityError to catch. Where a row is written on a hot path
(a webhook's inbox job, a CTI event's dedupe row) this saves the SAVEPOINT and RELEASE
round trips of `transaction.atomic()` + `create()`, and outside a transaction the BEGIN and
COMMIT; on SQLite it holds the write turn only while the statement runs.

Outside a transaction, the rows that a process's threads insert at the same moment go in
one statement (`core/groups.py`, `ATIENDE_GROUP_INSERTS`): a web process's requests in
flight share a round trip and a commit.
"""

from __future__ import annotations

import functools
from typing import Any

from django.db import connections, models, router

from atiende.core import deferred, groups, rows


def insert_once(model: type[models.Model], values: dict[str, Any], *, key: list[str]) -> int | None:
    """Insert a `model` row with `values` (field names or attnames → Python values, adapted
    as the ORM adapts them; the model's other columns must be nullable) unless a row with
    the same `key` columns exists. The new row's primary key; None when the key was taken."""
    conn = connections[router.db_for_write(model)]
    deferred.flush(conn)  # rows handed over earlier in the transaction are written first
    shape = (model, conn.alias, tuple(values), tuple(key))
    sql, fields = _statement(*shape)
    params = [f.get_db_prep_save(v, conn) for f, v in zip(fields, values.values(), strict=True)]
    if groups.applies(conn):
        return groups.group(shape, lambda: _group(*shape)).write(params)
    return _insert(conn.alias, sql, params)


def _insert(alias: str, sql: str, params: list[Any]) -> int | None:
    with connections[alias].cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    return None if row is None else int(row[0])


def _group(
    model: type[models.Model], alias: str, names: tuple[str, ...], key: tuple[str, ...]
) -> groups.Group[int | None]:
    """The rows of one shape that this process's threads insert at the same moment, in one
    statement: each row's new primary key, None for a row whose key was taken (before, or
    by an earlier row of the same statement)."""
    sql, _ = _statement(model, alias, names, key)
    at = [names.index(k) for k in key]

    def write_many(batch: list[list[Any]]) -> list[int | None]:
        with connections[alias].cursor() as cursor:
            many, _ = _statement(model, alias, names, key, len(batch))
            cursor.execute(many, [v for r in batch for v in r])
            inserted = {tuple(found[1:]): int(found[0]) for found in cursor.fetchall()}
        results: list[int | None] = []
        for row in batch:
            # The first row with a key gets the new row's id; a later one with the same key
            # was skipped by ON CONFLICT, as it would have been in a statement of its own.
            results.append(inserted.pop(tuple(row[i] for i in at), None))
        if inserted:  # a returned key that matches no row: the values came back changed
            raise groups.GroupFailed(f"{model.__name__}: returned keys not matched")
        return results

    return groups.Group(write_many, lambda row: _insert(alias, sql, row))


@functools.cache
def _statement(
    model: type[models.Model],
    alias: str,
    names: tuple[str, ...],
    key: tuple[str, ...],
    count: int = 1,
) -> tuple[str, list[models.Field]]:
    """The statement's text for `count` rows and the fields of a row's values, built once
    per model, database, set of columns and number of rows (the webhooks write the same
    columns on every post). It returns each new row's primary key, then its key columns."""
    opts = model._meta
    q = connections[alias].ops.quote_name

    def field(name: str) -> models.Field:
        found = opts.get_field(name)
        assert isinstance(found, models.Field) and found.column, name  # a concrete column
        return found

    def column(name: str) -> str:
        return q(field(name).column or "")

    conflict = rows.conflict_clause(model, alias, key)
    if conflict is None:
        raise ValueError(f"{model.__name__}: no unique constraint on {key}")
    fields = [field(name) for name in names]
    sql = (
        f"INSERT INTO {q(opts.db_table)} ({', '.join(column(name) for name in names)}) "
        f"VALUES {', '.join(['(' + ', '.join(['%s'] * len(fields)) + ')'] * count)}"
        f"{conflict} RETURNING {', '.join(column(name) for name in (opts.pk.name, *key))}"
    )
    return sql, fields
