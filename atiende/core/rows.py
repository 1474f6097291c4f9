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
otherwise, so that a receiver added one day is never skipped.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable, Sequence
from typing import Any

from django.db import connections, models, router
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


def _converter(field: models.Field, conn: Any) -> Convert:
    """How `insert` turns `field`'s Python value into what the database adapter takes."""

    def slow(value: Any) -> Any:
        return field.get_db_prep_save(value, connection=conn)

    if isinstance(field, models.JSONField):
        return slow
    target = field.target_field if type(field) in _RELATIONS else field  # type: ignore[attr-defined]
    if type(target) is models.DateTimeField:
        adapt = conn.ops.adapt_datetimefield_value

        def when(value: Any) -> Any:
            if value is None:
                return None
            if type(value) is dt.datetime and value.tzinfo is not None:
                return adapt(value)
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
    columns = [
        (f.attname, f, type(f).pre_save is not models.Field.pre_save, _converter(f, conn))
        for f in fields
    ]
    col = pk.get_col(meta.db_table)  # what the ORM's converters take
    id_converters = col.get_db_converters(conn) + conn.ops.get_db_converters(col)

    def new_id(value: Any) -> Any:
        for convert in id_converters:
            value = convert(value, col, conn)
        return value

    return head, tail, columns, new_id


def insert(objs: Sequence[models.Model], *, using: str = "default") -> None:
    """Write `objs` (new rows of one model) and set their primary keys, as
    `type(objs[0])._base_manager.using(using).bulk_create(objs)` would."""
    if not objs:
        return
    model = type(objs[0])
    plan = _plan(model, using)
    if plan is None or any(obj.pk is not None or type(obj) is not model for obj in objs):
        model._base_manager.using(using).bulk_create(objs)
        return
    head, tail, columns, new_id = plan
    conn = connections[using]
    rows = []
    for obj in objs:
        # an unsaved related object assigned earlier and saved since: take its id now
        obj._prepare_related_fields_for_save(operation_name="bulk_create")  # type: ignore[attr-defined]
        for attname, field, prepares, convert in columns:
            value = field.pre_save(obj, True) if prepares else getattr(obj, attname)
            rows.append(convert(value))
    per = len(columns)
    limit = conn.features.max_query_params
    size = max(1, limit // per) if limit else len(objs)
    one = "(" + ", ".join(["%s"] * per) + ")"
    with conn.cursor() as cur:
        for start in range(0, len(objs), size):
            chunk = objs[start : start + size]
            cur.execute(
                head + ", ".join([one] * len(chunk)) + tail,
                rows[start * per : (start + len(chunk)) * per],
            )
            ids = [new_id(r[0]) for r in cur.fetchall()]
            if len(ids) != len(chunk):
                raise RuntimeError(f"INSERT into {model._meta.db_table}: {len(ids)} ids returned")
            for obj, pk in zip(chunk, ids, strict=True):
                obj.pk = pk
                obj._state.adding = False
                obj._state.db = using


def add(obj: models.Model) -> None:
    """Write `obj`, a new row, as `obj.save(force_insert=True)` would."""
    model = type(obj)
    if pre_save.has_listeners(model) or post_save.has_listeners(model):
        obj.save(force_insert=True)
    else:
        insert([obj], using=router.db_for_write(model, instance=obj))
