"""One statement for the rows that a process's requests write at the same moment.

A webhook answers once its row is committed. With several requests in flight in one web
process (its threads), each would send its own INSERT and wait for its own commit: a round
trip and a commit each, and on a busy machine a wake-up of the database's process and of
the request's thread each. Instead, the first request to arrive writes (the leader); the
requests arriving while it writes wait, and when it is done the first of them writes all of
theirs in one statement, and so on. Nothing waits for a timer: a request alone writes at
once, as it would without this. Every request still answers only after its own row is
committed, so what is stored and when the sender hears back does not change.

A failed group statement is not the failure of each of its rows: every request of the group
then writes its row alone and meets its own outcome (a database that is down fails each;
one bad row fails only its sender).

`core/once.insert_once` and `core/deferred.insert` use this outside a transaction
(`ATIENDE_GROUP_INSERTS`, decision 0009); inside one, a row belongs to its caller's
transaction and is written there.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable, Sequence
from typing import Any, Generic, TypeVar

from atiende.core import mechanisms

R = TypeVar("R")
ENABLED = mechanisms.GROUP_INSERTS


def applies(conn: Any) -> bool:
    """Outside a transaction (a row inside one is its caller's to commit), where a
    multi-row INSERT returns its rows (SQLite ≥ 3.35, PostgreSQL)."""
    return (
        ENABLED
        and not conn.in_atomic_block
        and conn.get_autocommit()
        and conn.features.can_return_rows_from_bulk_insert
    )


class GroupFailed(Exception):
    """The group's statement failed: write the row alone."""


class _Waiting:
    __slots__ = ("failed", "lead", "params", "result", "wakeup")

    def __init__(self, params: Any) -> None:
        self.params = params
        self.wakeup = threading.Event()
        self.lead = False  # this request writes the next group (its own row included)
        self.failed = False
        self.result: Any = None


class Group(Generic[R]):
    """Rows handed over by a process's threads, written by `write_many` (one statement for
    several rows, their results in the same order) or `write_one` (one row alone)."""

    def __init__(
        self,
        write_many: Callable[[list[Any]], Sequence[R]],
        write_one: Callable[[Any], R],
    ) -> None:
        self._write_many = write_many
        self._write_one = write_one
        self._lock = threading.Lock()
        self._waiting: list[_Waiting] = []
        self._writing = False
        self.groups_written = 0  # statements with more than one row (for tests and benches)

    def write(self, params: Any) -> R:
        me = _Waiting(params)
        with self._lock:
            self._waiting.append(me)
            if not self._writing:
                self._writing = me.lead = True
        if not me.lead:
            me.wakeup.wait()
        if me.lead:
            self._lead(me)
        if me.failed:
            return self._write_one(params)
        return me.result

    def _lead(self, me: _Waiting) -> None:
        with self._lock:
            group, self._waiting = self._waiting, []
        try:
            if len(group) == 1:
                me.result = self._write_one(me.params)
            else:
                results = self._write_many([w.params for w in group])
                if len(results) != len(group):
                    raise GroupFailed(f"{len(results)} results for {len(group)} rows")
                for waiting, result in zip(group, results, strict=True):
                    waiting.result = result
                self.groups_written += 1
        except Exception:
            if len(group) == 1:
                self._hand_over(group, me)
                raise
            for waiting in group:
                waiting.failed = True
        except BaseException:  # the leader's thread is stopping: the others write alone
            for waiting in group:
                waiting.failed = waiting is not me
            self._hand_over(group, me)
            raise
        self._hand_over(group, me)

    def _hand_over(self, group: list[_Waiting], me: _Waiting) -> None:
        """Wake the group's requests, and make the first request that arrived meanwhile the
        next leader (or let the next arrival lead)."""
        with self._lock:
            following = self._waiting[0] if self._waiting else None
            if following is None:
                self._writing = False
            else:
                following.lead = True
        for waiting in group:
            if waiting is not me:
                waiting.wakeup.set()
        if following is not None:
            following.wakeup.set()


_groups: dict[Hashable, Group] = {}
_groups_lock = threading.Lock()


def group(key: Hashable, make: Callable[[], Group[R]]) -> Group[R]:
    """This process's group for `key` (a statement's shape and its database)."""
    found = _groups.get(key)
    if found is None:
        with _groups_lock:
            found = _groups.setdefault(key, make())
    return found
