"""Rows written together, later in the transaction that creates them.

A service that creates rows nobody needs at once — SLA timers, outbox jobs, attachment
records, intake records — hands them to `insert`: inside a transaction they wait, and the
rows of each model are written with one INSERT (`core/rows.py`) at the latest when the outermost service
scope ends (`transactions.service_scope`), instead of one round trip each. An email intake
pass that opens 25 cases in one transaction writes its 50 timers with one statement.

Nothing else changes for the code around it:
- reads see the rows: models that take deferred rows use `Manager`, which writes what is
  pending on the connection before any query of that table (and before a pending row is
  saved, which then updates it);
- savepoints keep their meaning: pending rows are written before a savepoint starts, and a
  savepoint rolled back drops the rows handed over inside it (they were all handed over
  after it started), as it drops the rows it wrote;
- a commit writes what is still pending first; a rollback drops it;
- outside a transaction, `insert` writes at once, with the same statement a flush uses (no
  `save()` and no save signals, as inside one).
A deferred row gets its primary key when it is written.

The limit: only a query that starts from a deferred model's own manager writes what is
pending. A query of another model that joins into a deferred table (`Case.objects.filter(
timers__…)`), raw SQL, or a `_base_manager` read would not see pending rows. Tests run with
`guard` installed on every connection, which fails such a query while rows of a table it
names are pending; write it from the deferred model's side, or `flush()` first.
`ATIENDE_DEFERRED_ROWS=0` writes every row at once (docs/decisions/0001-deferred-rows.md).

The database backends (`atiende.core.sqlite`, `atiende.core.postgresql`) mix in
`ConnectionHooks`, which is what ties pending rows to savepoints, commits and rollbacks
(and, before a commit, syncs the attachment files the transaction wrote: `core/durable.py`).
"""

from __future__ import annotations

import re
from typing import Any

from django.db import connections, models, router
from django.db.models.signals import pre_save

from atiende.core import durable, groups, mechanisms, rows

_ATTR = "_atiende_deferred_rows"


def insert(*objs: models.Model) -> None:
    """Write `objs` (unsaved rows of models that use `Manager`) with the next flush."""
    if not objs:
        return
    conn = connections[router.db_for_write(type(objs[0]))]
    if not mechanisms.DEFERRED_ROWS:
        for obj in objs:
            obj.save(force_insert=True)
        return
    if not conn.in_atomic_block:
        # Nothing to wait for: written now, as a flush would write them (a webhook's job);
        # with the rows other threads of the process write at the same moment (core/groups).
        if len(objs) == 1 and groups.applies(conn):
            model = type(objs[0])
            groups.group((model, conn.alias), lambda: _group(model, conn.alias)).write(objs[0])
        else:
            rows.insert(objs, using=conn.alias)
        return
    pending = conn.__dict__.setdefault(_ATTR, [])
    pending.extend(objs)


def _group(model: type[models.Model], alias: str) -> groups.Group[None]:
    """New `model` rows from this process's threads, in one statement (each gets its key)."""

    def write_many(objs: list[models.Model]) -> list[None]:
        rows.insert(objs, using=alias)
        return [None] * len(objs)

    return groups.Group(write_many, lambda obj: rows.insert([obj], using=alias))


def pending(conn: Any) -> list[models.Model]:
    return conn.__dict__.get(_ATTR) or []


def flush(conn: Any = None) -> None:
    """Write the rows pending on `conn` (the default connection): one INSERT per model, in
    the order the models were first handed over."""
    conn = conn if conn is not None else connections["default"]
    waiting = conn.__dict__.get(_ATTR)
    if not waiting:
        return
    conn.__dict__[_ATTR] = []
    by_model: dict[type, list[models.Model]] = {}
    for obj in waiting:
        by_model.setdefault(type(obj), []).append(obj)
    for objs in by_model.values():
        if conn.features.can_return_rows_from_bulk_insert:
            rows.insert(objs, using=conn.alias)
        else:  # SQLite before 3.35 cannot say the new ids of a multi-row INSERT
            for obj in objs:
                obj.save(force_insert=True, using=conn.alias)


def discard(conn: Any) -> None:
    conn.__dict__.pop(_ATTR, None)


class Manager(models.Manager):
    """The manager of a model whose rows may be deferred: queries see pending rows, and
    `save()` on a pending row writes the pending rows first, so that it updates its row
    instead of inserting it a second time."""

    def get_queryset(self) -> models.QuerySet:
        conn = connections[self.db]
        if conn.__dict__.get(_ATTR):
            flush(conn)
        return super().get_queryset()

    def contribute_to_class(self, cls: type[models.Model], name: str) -> None:
        super().contribute_to_class(cls, name)
        if not cls._meta.abstract:
            pre_save.connect(_saving, sender=cls, weak=False, dispatch_uid=f"deferred:{cls}")


def _saving(sender: type, instance: models.Model, using: str, **kwargs: Any) -> None:
    if instance.pk is None and any(obj is instance for obj in pending(connections[using])):
        flush(connections[using])


class ConnectionHooks:
    """Mixed into a backend's DatabaseWrapper (see the module docstring)."""

    def _savepoint(self, sid):
        flush(self)
        super()._savepoint(sid)

    def _savepoint_rollback(self, sid):
        discard(self)
        super()._savepoint_rollback(sid)

    def commit(self):
        flush(self)
        durable.sync(self)  # the files the rows name are on disk before the rows are
        super().commit()

    def rollback(self):
        discard(self)
        durable.discard(self)
        super().rollback()

    def _close(self):
        discard(self)
        durable.discard(self)
        super()._close()


def guard(execute, sql, params, many, context):
    """An execute wrapper (installed by the tests on every connection): refuses a query that
    names a table whose rows are pending, since it would not see them (see the limit above).
    A query through `Manager` never trips it: the manager writes what is pending first."""
    rows = pending(context["connection"])
    if rows:
        for table in {type(obj)._meta.db_table for obj in rows}:
            if re.search(rf'(?<![\w"]){re.escape(table)}(?![\w"])|"{re.escape(table)}"', sql):
                raise AssertionError(
                    f"a query names {table!r} while rows of it are deferred and not yet "
                    "written (core/deferred.py): query from that model's manager or flush() "
                    f"first. SQL: {sql[:300]}"
                )
    return execute(sql, params, many, context)
