"""Write audit entries. Services call `record`; nothing else writes the trail."""

from __future__ import annotations

import contextlib
import contextvars
import datetime as dt
import decimal
import enum
import uuid
from typing import Any

from django.db import router

from atiende.core import clock, deferred, rows
from atiende.core.models import AuditEntry

# Entries recorded inside `batched()`, written together when the outermost batch ends.
_pending: contextvars.ContextVar[list[AuditEntry] | None] = contextvars.ContextVar(
    "audit_pending", default=None
)


# Exact types only: a str or int subclass (an enum's member, a lazy string) takes the long way.
_SCALARS = frozenset({str, int, float, bool, type(None)})


def _plain(value: Any) -> Any:
    kind = type(value)
    if kind in _SCALARS:  # most values: four checks and two hasattr spared
        return value
    # the usual `changes`: a dict of [old, new] lists of scalars, without a call per value
    if kind is dict:
        return {
            k if type(k) is str else str(k): v if type(v) in _SCALARS else _plain(v)
            for k, v in value.items()
        }
    if kind is list or kind is tuple:
        return [v if type(v) in _SCALARS else _plain(v) for v in value]
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal | uuid.UUID):
        return str(value)
    if isinstance(value, enum.Enum):
        return value.value
    if hasattr(value, "pk") and hasattr(value, "_meta"):
        return str(value)
    if isinstance(value, list | tuple | set | frozenset):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    return value


def diff(obj: Any, before: dict[str, Any], fields: list[str]) -> dict[str, list[Any]]:
    """{field: [old, new]} for the fields whose value changed since `before`."""
    out = {}
    for name in fields:
        new = getattr(obj, name)
        if before.get(name) != new:
            out[name] = [_plain(before.get(name)), _plain(new)]
    return out


def snapshot(obj: Any, fields: list[str]) -> dict[str, Any]:
    return {name: getattr(obj, name) for name in fields}


def signed_in(actor: Any) -> Any:
    """The actor as a user to store, or None for the system, a contact or an anonymous user."""
    return actor if getattr(actor, "is_authenticated", False) else None


def record(
    *,
    actor: Any,
    action: str,
    obj: Any,
    changes: dict[str, Any] | None = None,
    case: Any = None,
    at: dt.datetime | None = None,
) -> AuditEntry:
    user = signed_in(actor)
    label = str(actor) if actor is not None else "sistema"
    entry = AuditEntry(
        at=at or clock.now(),
        actor=user,
        actor_label=label[:200],
        action=action,
        object_type=obj._meta.label_lower if hasattr(obj, "_meta") else str(type(obj).__name__),
        object_id=str(getattr(obj, "pk", "")),
        case=case,
        changes=_plain(changes or {}),
    )
    unsaved = hasattr(obj, "_meta") and obj.pk is None  # a deferred row (core/deferred.py)
    pending = _pending.get()
    if pending is None:
        if unsaved:
            deferred.flush()
            entry.object_id = str(obj.pk)
        entry.save()
    else:
        if unsaved:
            entry._object = obj  # type: ignore[attr-defined]  # its id is known when the batch is written
        pending.append(entry)
    return entry


@contextlib.contextmanager
def batched():
    """Write the entries recorded inside with one INSERT when the outermost batch ends.

    Use it inside the transaction of the change it audits (a service opening a case writes
    three or four entries; an email intake pass writes a few per message). Entries recorded
    in a block that raises are dropped with it, as its savepoint's rows are; nothing is
    written if the outermost batch raises. Entries get their ids when written; an entry about
    a deferred row (core/deferred.py) names it by the id the row has by then."""
    pending = _pending.get()
    if pending is not None:  # nested: the outermost batch writes
        mark = len(pending)
        try:
            yield
        except BaseException:
            del pending[mark:]
            raise
        return
    pending = []
    token = _pending.set(pending)
    try:
        yield
        if pending:
            for entry in pending:
                if hasattr(entry, "_object"):
                    entry.object_id = str(entry._object.pk)
            rows.insert(pending, using=router.db_for_write(AuditEntry))
    finally:
        _pending.reset(token)
