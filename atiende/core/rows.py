"""Many new rows of one model in one INSERT, without the ORM's INSERT compiler.

`bulk_create` builds its statement value by value: for each field of each row it checks
for expressions, calls the field's `pre_save` and `get_db_prep_save`, then assembles the
placeholders. For the rows an email intake pass writes by the thousand (deferred timers and
jobs, audit entries) that took longer than the database's work (docs/benchmarks.md, issue
17). `insert` writes the same rows with the same values: the statement's text is built
once per model and row count, and a value goes through its field's conversion only when it
needs one (a str for a text field, an int for an integer field or a foreign key, an aware
datetime, None for any field but a JSON one are written as they are, or as the database's
adapter for datetimes wants them). A model it does not know how to write plainly (database
defaults, generated columns, a primary key the database does not return) and rows that
already have a primary key go through `bulk_create`.

As with `bulk_create`, `insert` sends no signals. `add` writes one new row the same way
where no receiver listens to its model's `pre_save` or `post_save`, and through `save()`
otherwise, so that a receiver added one day is never skipped. `add_once` writes one unless
its unique key is taken, with `ON CONFLICT … DO NOTHING` instead of a savepoint and a
caught IntegrityError (a channel message's note: `cases.services.add_note`).

The same for the reads and updates a worker repeats for every message (issue 15: a CTI
event's job was two thirds the ORM's query building): `one` reads a row by its unique
columns (optionally locked), `select` the rows a written-out condition selects, `update`
writes a row's fields as `save()` would (through `save()` when the model has its own or a
receiver listens), and `columns`/`built` turn a RETURNING or SELECT of all columns into
model objects, each value converted as the ORM converts what it fetches.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from django.conf import settings
from django.db import IntegrityError, connections, models, router, transaction
from django.db.models.signals import post_save, pre_save

# Fields whose conversion leaves values of these exact types as they are (exact field
# classes too: a custom field may convert anything).
_PLAIN: dict[type, tuple[type, ...]] = {
    models.CharField: (str,),
    models.TextField: (str,),
    models.EmailField: (str,),
    models.SlugField: (str,),
    models.URLField: (str,),
    models.IntegerField: (int,),
    models.BigIntegerField: (int,),
    models.SmallIntegerField: (int,),
    models.PositiveIntegerField: (int,),
    models.PositiveBigIntegerField: (int,),
    models.PositiveSmallIntegerField: (int,),
    models.BigAutoField: (int,),
    models.AutoField: (int,),
    models.BooleanField: (bool,),
    models.FloatField: (float,),
}
_RELATIONS = (models.ForeignKey, models.OneToOneField)

Convert = Callable[[Any], Any]
M = TypeVar("M", bound=models.Model)


def _converter(field: models.Field, conn: Any) -> Convert:
    """How `insert` turns `field`'s Python value into what the database adapter takes."""

    def slow(value: Any) -> Any:
        return field.get_db_prep_save(value, connection=conn)

    if isinstance(field, models.JSONField):
        return slow
    target = field.target_field if type(field) in _RELATIONS else field  # type: ignore[attr-defined]
    if type(target) is models.DateTimeField:
        adapt = conn.ops.adapt_datetimefield_value
        # SQLite keeps a datetime as its UTC text, which is what Django's adapter gives
        # (make_naive to UTC, then str) without its checks and settings look-ups.
        as_text = conn.vendor == "sqlite" and settings.USE_TZ and conn.timezone is dt.UTC
        # The last value converted and its text: a service stamps the rows it writes with
        # one `clock.now()` (a case, its note, its audit entries), so the same object comes
        # again and again. One tuple, replaced whole: threads share it safely.
        last: list[tuple[Any, Any]] = [(None, None)]

        def when(value: Any) -> Any:
            if value is None:
                return None
            seen = last[0]
            if seen[0] is value:
                return seen[1]
            if type(value) is dt.datetime and value.tzinfo is not None:
                if as_text:
                    utc = value if value.tzinfo is dt.UTC else value.astimezone(dt.UTC)
                    text = str(utc.replace(tzinfo=None))
                else:
                    text = adapt(value)
                last[0] = (value, text)
                return text
            return slow(value)

        return when
    plain = (*_PLAIN.get(type(target), ()), type(None))

    def as_is(value: Any) -> Any:
        return value if type(value) in plain else slow(value)

    return as_is


@functools.cache
def _plan(model: type[models.Model], alias: str) -> tuple[str, str, list[tuple], Convert] | None:
    """The INSERT's text before and after VALUES, each field's (attname, field, runs
    pre_save, converter) and the returned id's converter; None: leave it to the ORM."""
    conn = connections[alias]
    meta = model._meta
    pk = meta.pk
    if pk is None or not pk.db_returning or not conn.features.can_return_rows_from_bulk_insert:
        return None
    fields = [f for f in meta.concrete_fields if f is not pk]
    if any(f.generated or f.has_db_default() for f in fields):
        return None
    q = conn.ops.quote_name
    table = q(meta.db_table)
    head = f"INSERT INTO {table} ({', '.join(q(str(f.column)) for f in fields)}) VALUES "
    tail = f" RETURNING {table}.{q(str(pk.column))}"
    columns = [(f.attname, f, _prepares(f), _converter(f, conn)) for f in fields]
    col = pk.get_col(meta.db_table)  # what the ORM's converters take
    id_converters = col.get_db_converters(conn) + conn.ops.get_db_converters(col)

    def new_id(value: Any) -> Any:
        for convert in id_converters:
            value = convert(value, col, conn)
        return value

    return head, tail, columns, new_id


def _prepares(field: models.Field) -> bool:
    """Whether `field.pre_save` may give something else than the object's value: a field
    of its own `pre_save`, except a date or time field without `auto_now`/`auto_now_add`,
    whose `pre_save` then only reads the value (asked for every row otherwise)."""
    own = type(field).pre_save
    if own in (models.DateTimeField.pre_save, models.DateField.pre_save):
        return bool(field.auto_now or field.auto_now_add)  # type: ignore[attr-defined]
    return own is not models.Field.pre_save


def insert(objs: Sequence[models.Model], *, using: str = "default", conflict: str = "") -> None:
    """Write `objs` (new rows of one model) and set their primary keys, as
    `type(objs[0])._base_manager.using(using).bulk_create(objs)` would. `conflict` (one
    row only, for `add_once`): an `ON CONFLICT … DO NOTHING` clause; a row it skips is left
    without a primary key."""
    if not objs:
        return
    if conflict and len(objs) != 1:
        raise ValueError("an ON CONFLICT clause is for one row at a time")
    model = type(objs[0])
    plan = _plan(model, using)
    if plan is None or any(obj.pk is not None or type(obj) is not model for obj in objs):
        model._base_manager.using(using).bulk_create(objs)
        return
    head, tail, columns, new_id = plan
    tail = conflict + tail
    conn = connections[using]
    rows = []
    relations = _relations(model)
    for obj in objs:
        # an unsaved related object assigned earlier and saved since: take its id now
        if relations is None:
            obj._prepare_related_fields_for_save(operation_name="bulk_create")  # type: ignore[attr-defined]
        elif relations:
            _take_related_ids(obj, relations)
        for attname, field, prepares, convert in columns:
            value = field.pre_save(obj, True) if prepares else getattr(obj, attname)
            rows.append(convert(value))
    per = len(columns)
    limit = conn.features.max_query_params
    size = max(1, limit // per) if limit else len(objs)
    numbered = getattr(conn, "numbered_cursor", None)
    cursor = numbered() if numbered is not None else None
    with cursor if cursor is not None else conn.cursor() as cur:
        for start in range(0, len(objs), size):
            chunk = objs[start : start + size]
            cur.execute(
                head + _values(per, len(chunk), numbered=cursor is not None) + tail,
                rows[start * per : (start + len(chunk)) * per],
            )
            ids = [new_id(r[0]) for r in cur.fetchall()]
            if conflict and not ids:
                return  # skipped: the key was taken
            if len(ids) != len(chunk):
                raise RuntimeError(f"INSERT into {model._meta.db_table}: {len(ids)} ids returned")
            for obj, pk in zip(chunk, ids, strict=True):
                obj.pk = pk
                obj._state.adding = False
                obj._state.db = using


@functools.lru_cache(maxsize=64)
def _values(per: int, rows: int, *, numbered: bool) -> str:
    """The VALUES of `rows` rows of `per` parameters: `%s` each, or numbered (`$1`, …) for
    a cursor that sends statements as written (`numbered_cursor`, core/postgresql)."""
    if not numbered:
        one = "(" + ", ".join(["%s"] * per) + ")"
        return ", ".join([one] * rows)
    return ", ".join(
        "(" + ", ".join([f"${first + i}" for i in range(per)]) + ")"
        for first in range(1, rows * per + 1, per)
    )


@functools.cache
def _relations(model: type[models.Model]) -> list[Any] | None:
    """`model`'s concrete relations to check before a write (`_take_related_ids`); None
    when it has private relations (a generic foreign key), which the ORM checks itself."""
    meta = model._meta
    if any(f.is_relation for f in meta.private_fields):
        return None
    return [f for f in meta.concrete_fields if f.is_relation]


def _take_related_ids(obj: models.Model, relations: list[Any]) -> None:
    """What `Model._prepare_related_fields_for_save` does before a write, over `obj`'s
    relations only (it walks every field): a related object assigned while unsaved must
    have been saved since (else ValueError, as there), and its key is taken now if the
    object's own column is still empty; a cached object whose key no longer matches the
    column is dropped from the cache."""
    for field in relations:
        if not field.is_cached(obj):
            continue
        related = getattr(obj, field.name, None)
        if not related:
            continue
        if not related._is_pk_set():
            if not field.remote_field.multiple:
                field.remote_field.delete_cached_value(related)
            raise ValueError(
                f"bulk_create() prohibited to prevent data loss due to unsaved related "
                f"object '{field.name}'."
            )
        if getattr(obj, field.attname) in field.empty_values:
            setattr(obj, field.name, related)
        if getattr(related, field.target_field.attname) != getattr(obj, field.attname):
            field.delete_cached_value(obj)


def add(obj: models.Model) -> None:
    """Write `obj`, a new row, as `obj.save(force_insert=True)` would."""
    model = type(obj)
    if pre_save.has_listeners(model) or post_save.has_listeners(model):
        obj.save(force_insert=True)
    else:
        insert([obj], using=router.db_for_write(model, instance=obj))


def add_once(obj: models.Model, *, key: Sequence[str]) -> bool:
    """Write `obj`, a new row, unless a row with the same `key` columns (the fields of one
    of its model's unique constraints) exists: True when written (its primary key set),
    False when the key was taken. One `INSERT … ON CONFLICT (key) DO NOTHING` where `add`
    would write plainly (the constraint's condition, if it is partial, is repeated in the
    conflict target); otherwise `add` in a savepoint, False on an IntegrityError."""
    model = type(obj)
    alias = router.db_for_write(model, instance=obj)
    unless = conflict_clause(model, alias, tuple(key))
    if (
        unless is None
        or obj.pk is not None
        or _plan(model, alias) is None
        or pre_save.has_listeners(model)
        or post_save.has_listeners(model)
    ):
        try:
            with transaction.atomic(using=alias):
                add(obj)
        except IntegrityError:
            return False
        return True
    insert([obj], using=alias, conflict=unless)
    return obj.pk is not None


@functools.cache
def conflict_clause(model: type[models.Model], alias: str, key: tuple[str, ...]) -> str | None:
    """` ON CONFLICT (columns) [WHERE condition] DO NOTHING` for the unique constraint of
    `model` on exactly the fields `key` (a `UniqueConstraint`, `unique_together` or one
    `unique` field); None when there is none, or its condition is more than "these fields
    are not null". A partial constraint's condition is repeated, so that both databases
    pick its index. `add_once` and `core.once.insert_once` write with it."""
    meta = model._meta
    q = connections[alias].ops.quote_name

    def column(name: str) -> str:
        return q(str(meta.get_field(name).column))

    columns = ", ".join(column(name) for name in key)
    for constraint in meta.constraints:
        if not isinstance(constraint, models.UniqueConstraint):
            continue
        if tuple(constraint.fields) != key or constraint.expressions:
            continue
        condition = ""
        if constraint.condition is not None:
            if constraint.condition.connector != "AND" or constraint.condition.negated:
                return None
            present = []
            for child in constraint.condition.children:
                if not (
                    isinstance(child, tuple) and child[0].endswith("__isnull") and child[1] is False
                ):
                    return None
                present.append(column(child[0].removesuffix("__isnull")))
            condition = " WHERE " + " AND ".join(f"{c} IS NOT NULL" for c in present)
        return f" ON CONFLICT ({columns}){condition} DO NOTHING"
    if key in {tuple(t) for t in meta.unique_together} or (
        len(key) == 1 and getattr(meta.get_field(key[0]), "unique", False)
    ):
        return f" ON CONFLICT ({columns}) DO NOTHING"
    return None


# --- one row by its columns, and an UPDATE of one row ---------------------------------------


def _flush_pending(conn: Any, model: type[models.Model]) -> None:
    """Rows of `model` handed to `core.deferred` and not yet written are written first, as
    a query through the model's manager would (deferred imports this module). Only models
    whose manager is `deferred.Manager` take deferred rows: for the others, nothing to scan."""
    from atiende.core import deferred

    if not isinstance(model._default_manager, deferred.Manager):
        return
    if any(type(obj) is model for obj in deferred.pending(conn)):
        deferred.flush(conn)


@functools.cache
def _reading(
    model: type[models.Model], alias: str
) -> tuple[str, list[str], list[tuple[Any, tuple[Any, ...]]]]:
    """All `model`'s columns, qualified (a SELECT or RETURNING list), their attnames, and
    the converters of each (as the ORM applies them to a fetched value)."""
    conn = connections[alias]
    q = conn.ops.quote_name
    table = model._meta.db_table
    fields = list(model._meta.concrete_fields)
    readers = []
    for f in fields:
        col = f.get_col(table)
        readers.append((col, tuple(conn.ops.get_db_converters(col) + col.get_db_converters(conn))))
    listed = ", ".join(f"{q(table)}.{q(str(f.column))}" for f in fields)
    return listed, [f.attname for f in fields], readers


def columns(model: type[models.Model], *, using: str = "default") -> str:
    """All `model`'s columns, qualified, for a SELECT or RETURNING list that `built` reads."""
    return _reading(model, using)[0]


def built(model: type[M], fetched: Sequence[Sequence[Any]], *, using: str = "default") -> list[M]:
    """Model objects from fetched rows of all `model`'s columns (in the order `columns`
    names them), each value converted as the ORM converts what it fetches."""
    _, attnames, readers = _reading(model, using)
    conn = connections[using]
    objs = []
    for row in fetched:
        values = []
        for value, (col, converters) in zip(row, readers, strict=True):
            for convert in converters:
                value = convert(value, col, conn)
            values.append(value)
        objs.append(model.from_db(using, attnames, values))
    return objs


def _objects(model: type[M], alias: str, sql: str, params: Sequence[Any]) -> list[M]:
    conn = connections[alias]
    table = conn.ops.quote_name(model._meta.db_table)
    with conn.cursor() as cur:
        cur.execute(f"SELECT {columns(model, using=alias)} FROM {table} {sql}", params)
        return built(model, cur.fetchall(), using=alias)


@functools.cache
def _where(
    model: type[models.Model], alias: str, names: tuple[str, ...], lock: bool
) -> tuple[str, list[Convert]]:
    conn = connections[alias]
    q = conn.ops.quote_name
    fields = {f.name: f for f in model._meta.concrete_fields}
    fields |= {f.attname: f for f in model._meta.concrete_fields}
    keys = [fields[name] for name in names]
    sql = f"WHERE {' AND '.join(q(str(f.column)) + ' = %s' for f in keys)} LIMIT 1"
    if lock and conn.features.has_select_for_update:
        sql += " FOR UPDATE"
    return sql, [_converter(f, conn) for f in keys]


def one(model: type[M], *, lock: bool = False, **where: Any) -> M | None:
    """The row of `model` whose columns equal `where` (field names or attnames), or None —
    `model.objects.filter(**where).first()` without building the query each time (the
    statement's text is built once per model and set of columns), `select_for_update()`
    with `lock` where the database has it. Exact equality only; `where` should name a
    unique key (with several matches, which row comes back is not defined)."""
    alias = router.db_for_read(model)
    _flush_pending(connections[alias], model)
    sql, adapt = _where(model, alias, tuple(where), lock)
    params = [convert(value) for convert, value in zip(adapt, where.values(), strict=True)]
    found = _objects(model, alias, sql, params)
    return found[0] if found else None


def select(
    model: type[M], condition: str, params: Sequence[Any] = (), *, lock: bool = False
) -> list[M]:
    """The rows of `model` that `condition` (SQL after the FROM: `WHERE …`, with `%s`
    placeholders for `params`, values as the database adapter takes them) selects, as
    model objects — for a hot path whose query the ORM would build each time; with `lock`,
    locked until the transaction ends (`FOR UPDATE`, where the database has it)."""
    alias = router.db_for_read(model)
    conn = connections[alias]
    _flush_pending(conn, model)
    if lock and conn.features.has_select_for_update:
        condition += " FOR UPDATE"
    return _objects(model, alias, condition, params)


@functools.cache
def _update_plan(
    model: type[models.Model], alias: str, names: tuple[str, ...]
) -> tuple[str, list[tuple[str, models.Field, bool, Convert]], Convert]:
    conn = connections[alias]
    meta = model._meta
    q = conn.ops.quote_name
    pk = meta.pk
    assert pk is not None
    by_name = {f.name: f for f in meta.concrete_fields}
    fields = (
        [by_name[name] for name in names]
        if names
        else [f for f in meta.concrete_fields if f is not pk]
    )
    sql = (
        f"UPDATE {q(meta.db_table)} SET "
        f"{', '.join(q(str(f.column)) + ' = %s' for f in fields)} WHERE {q(str(pk.column))} = %s"
    )
    columns = [(f.attname, f, _prepares(f), _converter(f, conn)) for f in fields]
    return sql, columns, _converter(pk, conn)


def update(obj: models.Model, fields: Sequence[str] = ()) -> None:
    """Write `fields` (all of them when empty) of `obj`, a row that exists, as
    `obj.save(update_fields=fields)` would (each field's `pre_save` runs, as there) — or
    through `save()` when the model has its own `save` (its rules hold: an append-only
    model refuses) or a receiver listens to its `pre_save` or `post_save`."""
    model = type(obj)
    if (
        model.save is not models.Model.save
        or pre_save.has_listeners(model)
        or post_save.has_listeners(model)
    ):
        obj.save(update_fields=list(fields) or None)
        return
    updated = _write(obj, fields, prepare=True)
    if updated != 1:
        raise model.DoesNotExist(  # type: ignore[attr-defined]
            f"{model._meta.db_table} {obj.pk}: {updated} rows updated"
        )


def write_columns(obj: models.Model, fields: Sequence[str]) -> None:
    """Write `fields` of `obj` (a row that exists) with the values `obj` holds, as
    `type(obj)._base_manager.filter(pk=obj.pk).update(**{f: getattr(obj, f) ...})` would:
    no `save()`, no signals, no field's `pre_save` — a `QuerySet.update()` by primary key
    on a hot path, without building the query each time. A row that is gone is no error,
    as there."""
    _write(obj, fields, prepare=False)


def _write(obj: models.Model, fields: Sequence[str], *, prepare: bool) -> int:
    """UPDATE `fields` of `obj`'s row (each field's `pre_save` first with `prepare`); the
    number of rows updated."""
    model = type(obj)
    alias = router.db_for_write(model, instance=obj)
    sql, columns, pk_value = _update_plan(model, alias, tuple(fields))
    conn = connections[alias]
    _flush_pending(conn, model)
    params = [
        convert(field.pre_save(obj, False) if prepare and prepares else getattr(obj, attname))
        for attname, field, prepares, convert in columns
    ]
    with conn.cursor() as cur:
        cur.execute(sql, [*params, pk_value(obj.pk)])
        return cur.rowcount
