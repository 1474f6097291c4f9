"""New model objects without the ORM's general constructor, for the models made by the
thousand on the intake paths.

`Model.__init__` with keyword arguments walks every field, pops each from the arguments
with exceptions for the missing ones, and sets a related object through its descriptor,
which asks the database router twice per relation. An email intake pass makes 13 objects a
mail (its case, notes, SLA timers, audit entries, jobs, records): the constructor was 14 %
of the writer's time (docs/benchmarks.md, issue 17, session 17).

`@quick_init` on a model gives it a constructor that does the same work from a plan built
once per model: each field's value from the keyword arguments or its default, a related
object cached and its key copied as the descriptor would, the instance's and the related
object's database alias set as the default router sets them. Whatever the plan does not
cover goes to `Model.__init__` unchanged, so the result and the errors are the ORM's:
positional arguments (rows read from the database), an argument that is not a field of the
model (a property, a private field), a field given both as object and as id, an object of
the wrong class, a relation between two databases, a one-to-one or multi-column relation,
database routers, and `pre_init`/`post_init` receivers (asked at every call, so that a
receiver connected later is never skipped). `tests/test_construction.py` compares both
constructors' objects field by field.
"""

from __future__ import annotations

import functools
from typing import Any, TypeVar

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, models
from django.db.models.base import ModelState
from django.db.models.signals import post_init, pre_init
from django.dispatch import Signal
from django.dispatch.dispatcher import NO_RECEIVERS

M = TypeVar("M", bound=type[models.Model])

# (name, attname, related model or None, the related field's attname, default factory)
_Step = tuple[str, str, Any, str, Any]


def quick_init(model: M) -> M:
    """Class decorator: `model(**fields)` builds its object from a plan (module docstring)."""

    def __init__(self: models.Model, *args: Any, **kwargs: Any) -> None:
        cls = type(self)
        plan = _plan(cls) if not args else None
        if plan is None or _listened(pre_init, cls) or _listened(post_init, cls):
            _orm_init(self, *args, **kwargs)
            return
        state = self._state = ModelState()
        values = self.__dict__
        used = 0
        for name, attname, related, target, default in plan:
            if related is not None and name in kwargs:
                if attname in kwargs:
                    break  # both forms: the ORM's rules decide
                value = kwargs[name]
                used += 1
                if value is None:
                    values[attname] = None
                    state.fields_cache[name] = None
                    continue
                if not isinstance(value, related):
                    break  # the ORM raises its error
                if state.db is None:
                    state.db = value._state.db or DEFAULT_DB_ALIAS
                if value._state.db is None:
                    value._state.db = state.db
                elif value._state.db != state.db:
                    break  # another database: the ORM raises its error
                values[attname] = getattr(value, target)
                state.fields_cache[name] = value
            elif attname in kwargs:
                values[attname] = kwargs[attname]
                used += 1
            else:
                values[attname] = default()
        else:
            if used == len(kwargs):
                return
        # Something the plan does not cover: start again with the ORM's constructor.
        values.clear()
        _orm_init(self, *args, **kwargs)

    __init__.__qualname__ = f"{model.__qualname__}.__init__"
    __init__.__doc__ = "A new object from its fields' values (core/construction.py)."
    model.__init__ = __init__  # type: ignore[method-assign]
    return model


def _listened(signal: Signal, model: type[models.Model]) -> bool:
    """`signal.has_listeners(model)`, answered first as `Signal.send` answers it: no
    receivers at all, or the signal's cache says none for this model."""
    if not signal.receivers or signal.sender_receivers_cache.get(model) is NO_RECEIVERS:
        return False
    return signal.has_listeners(model)


def _orm_init(obj: models.Model, *args: Any, **kwargs: Any) -> None:
    """The ORM's own constructor, for what a plan does not cover."""
    models.Model.__init__(obj, *args, **kwargs)


@functools.cache
def _plan(model: type[models.Model]) -> list[_Step] | None:
    """The plan for `model`, or None where the ORM's constructor must do it all."""
    meta = model._meta
    if meta.abstract or settings.DATABASE_ROUTERS:
        return None
    steps: list[_Step] = []
    for field in meta.fields:
        if field.column is None or field.generated:
            continue
        related = None
        target = ""
        if field.is_relation:
            pairs: Any = getattr(field, "related_fields", ())
            if field.one_to_one or len(pairs) != 1:
                return None
            related = field.remote_field.model._meta.concrete_model
            target = pairs[0][1].attname
        steps.append((field.name, field.attname, related, target, field.get_default))
    return steps
