"""Rows that a process's threads insert at the same moment go in one statement
(core/groups.py), and each caller still gets its own row's outcome (core/once.py)."""

from __future__ import annotations

import threading
import time

import pytest
from django.db import IntegrityError, transaction

from atiende.core import groups, once, rows
from atiende.core.tests.threads import at_once, raised
from atiende.worker import queue
from atiende.worker.models import Job


def _until(condition, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.001)


class Recorder:
    """A group whose writes are recorded; the first write waits until `waiting` more rows
    have been handed over behind it."""

    def __init__(self, waiting: int = 0, bad: frozenset = frozenset()) -> None:
        self.calls: list[list] = []
        self.bad = bad
        self.waiting = waiting
        self.group: groups.Group[str] = groups.Group(self.many, self.one)

    def _hold(self) -> None:
        if len(self.calls) == 1 and self.waiting:
            _until(lambda: len(self.group._waiting) >= self.waiting)

    def many(self, rows: list) -> list[str]:
        self.calls.append(list(rows))
        if self.bad & set(rows):
            raise ValueError("bad row in the group")
        return [f"wrote {r}" for r in rows]

    def one(self, row) -> str:
        self.calls.append([row])
        self._hold()
        if row in self.bad:
            raise ValueError(f"bad row {row}")
        return f"wrote {row}"


def test_a_row_alone_is_written_at_once_by_itself():
    rec = Recorder()
    assert rec.group.write("a") == "wrote a"
    assert rec.calls == [["a"]]
    assert rec.group.groups_written == 0


def test_rows_arriving_while_one_is_written_go_together_in_the_next_statement():
    rec = Recorder(waiting=4)
    outcomes = at_once([lambda r=r: rec.group.write(r) for r in "abcde"])
    assert outcomes == [f"wrote {r}" for r in "abcde"]  # each caller its own row's result
    first = rec.calls[0]
    assert len(first) == 1  # the leader's own row, alone
    assert sorted(rec.calls[1]) == sorted(set("abcde") - set(first))  # the rest in one
    assert len(rec.calls) == 2
    assert rec.group.groups_written == 1
    assert rec.group._waiting == [] and not rec.group._writing


def test_a_failed_group_lets_each_row_meet_its_own_outcome():
    rec = Recorder(waiting=3, bad=frozenset({"c"}))
    started = threading.Event()
    first_done: list = []

    def leader():
        started.set()
        first_done.append(rec.group.write("a"))

    t = threading.Thread(target=leader)
    t.start()
    started.wait()
    _until(lambda: rec.calls)  # the leader is writing "a" and holds until 3 wait
    outcomes = at_once([lambda r=r: rec.group.write(r) for r in "bcd"])
    t.join()
    assert first_done == ["wrote a"]
    assert outcomes[0] == "wrote b" and outcomes[2] == "wrote d"
    assert isinstance(outcomes[1], ValueError) and "bad row c" in str(outcomes[1])
    assert sorted(rec.calls[1]) == ["b", "c", "d"]  # the group, which failed
    assert sorted(map(tuple, rec.calls[2:])) == [("b",), ("c",), ("d",)]  # then alone


def test_a_failed_row_alone_raises_to_its_caller_and_the_next_one_still_writes():
    rec = Recorder(bad=frozenset({"x"}))
    with pytest.raises(ValueError, match="bad row x"):
        rec.group.write("x")
    assert rec.group.write("y") == "wrote y"
    assert not rec.group._writing


# --- through the database: the webhooks' inbox rows (queue.enqueue_once) ---------------


def _enqueue(key: str, kind: str | None = "test.group") -> bool:
    return queue.enqueue_once(kind, {"key": key}, dedupe_key=key)  # type: ignore[arg-type]


@pytest.fixture
def held_leader(monkeypatch):
    """The first row written alone waits until `n` rows are handed over behind it, so the
    next statement carries them all (a busy web process, made certain)."""
    state = {"n": 0, "first": True}
    real = once._insert

    def insert(alias, sql, params):
        if state["first"]:
            state["first"] = False
            _until(lambda: any(len(g._waiting) >= state["n"] for g in groups._groups.values()))
        return real(alias, sql, params)

    monkeypatch.setattr(once, "_insert", insert)
    monkeypatch.setattr(groups, "_groups", {})
    return state


@pytest.mark.django_db(transaction=True)
def test_concurrent_inbox_rows_are_stored_once_each_in_one_statement(held_leader):
    keys = ["k0", "k1", "k2", "k3", "k3", "k4"]  # a PBX that sent one event twice
    held_leader["n"] = len(keys) - 1
    outcomes = at_once([lambda k=k: _enqueue(k) for k in keys])
    assert raised(outcomes) == []
    assert sorted(Job.objects.values_list("dedupe_key", flat=True)) == sorted(set(keys))
    # Exactly one of the two k3 posts added the job; every other key was added once.
    added = [k for k, new in zip(keys, outcomes, strict=True) if new]
    assert sorted(added) == sorted(set(keys))
    (group,) = groups._groups.values()
    assert group.groups_written == 1
    # A later duplicate of a stored key adds nothing, grouped or not.
    assert _enqueue("k2") is False


@pytest.mark.django_db(transaction=True)
def test_a_bad_row_in_a_group_fails_only_its_own_request(held_leader):
    held_leader["n"] = 3
    calls = [
        lambda: _enqueue("a"),
        lambda: _enqueue("b"),
        lambda: _enqueue("c", kind=None),  # NOT NULL: the database refuses this row
        lambda: _enqueue("d"),
    ]
    outcomes = at_once(calls)
    assert [type(o) for o in outcomes].count(IntegrityError) == 1
    assert isinstance(outcomes[2], IntegrityError)
    assert [o for i, o in enumerate(outcomes) if i != 2] == [True, True, True]
    assert sorted(Job.objects.values_list("dedupe_key", flat=True)) == ["a", "b", "d"]


@pytest.mark.django_db(transaction=True)
def test_inside_a_transaction_the_row_is_the_transactions(monkeypatch):
    monkeypatch.setattr(groups, "_groups", {})

    class Rollback(Exception):
        pass

    with pytest.raises(Rollback), transaction.atomic():
        assert _enqueue("in-tx") is True
        raise Rollback
    assert not Job.objects.filter(dedupe_key="in-tx").exists()
    assert groups._groups == {}  # not handed to a group


@pytest.mark.django_db(transaction=True)
def test_switched_off_each_row_is_its_own_statement(monkeypatch):
    monkeypatch.setattr(groups, "_groups", {})
    monkeypatch.setattr(groups, "ENABLED", False)
    assert _enqueue("alone") is True
    assert _enqueue("alone") is False
    assert groups._groups == {}


@pytest.mark.django_db(transaction=True)
def test_concurrent_jobs_without_a_key_each_get_their_own_row(monkeypatch):
    """`queue.enqueue` outside a transaction (the WhatsApp webhook's inbox job): rows
    written together, each job given the id of the row that holds its own payload."""
    monkeypatch.setattr(groups, "_groups", {})
    real, first = rows.insert, [True]

    def insert(objs, *, using="default"):
        if first and first.pop():  # the first row, written alone, waits for five more
            _until(lambda: any(len(g._waiting) >= 5 for g in groups._groups.values()))
        return real(objs, using=using)

    monkeypatch.setattr(rows, "insert", insert)
    outcomes = at_once([lambda n=n: queue.enqueue("test.group", {"n": n}) for n in range(6)])
    assert raised(outcomes) == []
    stored = dict(Job.objects.values_list("pk", "payload__n"))
    assert sorted(stored.values()) == list(range(6))
    for job in outcomes:
        assert stored[job.pk] == job.payload["n"]
    (group,) = groups._groups.values()
    assert group.groups_written == 1
